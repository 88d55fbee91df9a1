"""Rule 5 — not on track: a score worse than clients in this clinic who started alike.

At each session after intake, observed - expected is compared with the model's boundaries
(75th / 90th percentile of residuals in completed episodes: yellow / red; Lambert/Finch, Lutz).
Hannan et al. 2005: the actuarial method flagged all deteriorators by the end of treatment,
where therapists predicted 1 of 40. Feedback helps most for not-on-track clients (Lambert &
Shimokawa 2011; de Jong et al. 2021).

One finding per episode and instrument (key ``not_on_track:ep<id>:<instrument>``) whose
severity is the worst level reached so far, so the alert escalates yellow → red instead of
repeating each session; ``evidence`` lists every flagged session and the latest status.
Raising a post-intake score can only raise the severity (the boundaries do not depend on it).
"""

from __future__ import annotations

from ._text import instrument_label, num, r3, signed
from .findings import JSON, Finding, Severity, make_key
from .settings import AlertSettings
from .suggestions import suggestion_for
from .trajectory import Level, TrajectoryModel
from .types import EpisodeSeries

_RANK: dict[Level, int] = {"on_track": 0, "yellow": 1, "red": 2}


def not_on_track_findings(
    series: EpisodeSeries, model: TrajectoryModel, settings: AlertSettings
) -> list[Finding]:
    instrument = model.instrument
    intake = series.intake_score(instrument)
    points = series.outcome_after_intake(instrument)
    if intake is None or not points:
        return []
    intake_value, intake_session = intake
    sessions = [s.number for s, _ in points]
    observed = [v for _, v in points]
    scored = model.score(sessions, observed, intake_value)
    expected, yellow, red = scored.expected.tolist(), scored.yellow.tolist(), scored.red.tolist()
    levels = scored.levels

    worst_rank = max(_RANK[level] for level in levels)
    if worst_rank == 0:
        return []
    first = next(i for i, level in enumerate(levels) if _RANK[level] == worst_rank)
    latest_flagged = max(i for i, level in enumerate(levels) if level != "on_track")
    severity: Severity = "red" if worst_rank == 2 else "yellow"

    rows: list[JSON] = [
        {
            "session": sessions[i],
            "observed": r3(observed[i]),
            "expected": r3(expected[i]),
            "difference": r3(observed[i] - expected[i]),
            "yellow_boundary": r3(yellow[i]),
            "red_boundary": r3(red[i]),
            "level": levels[i],
        }
        for i in range(len(points))
        if levels[i] != "on_track"
    ]
    label = instrument_label(instrument)
    i = first
    boundary, pct = (
        (red[i], model.red_percentile)
        if severity == "red"
        else (yellow[i], model.yellow_percentile)
    )
    text = (
        f"{label} at session {sessions[i]} was {num(observed[i], 0)}; clients in this clinic "
        f"who started at {num(intake_value, 0)} are expected to score about {num(expected[i])} "
        f"by then. That is {signed(observed[i] - expected[i])} points against expectation, "
        f"beyond the {severity} boundary ({signed(boundary)}, the {num(pct, 0)}th percentile of "
        f"differences)."
    )
    if model.source == "default":
        text = text.replace("clients in this clinic who started", "clients who start")
    j = len(points) - 1
    if j != first:
        text += f" Latest score (session {sessions[j]}): {num(observed[j], 0)}, " + (
            "back within the expected range."
            if levels[j] == "on_track"
            else f"still above the {levels[j]} boundary."
        )
    text += " " + _model_sentence(model)
    evidence: dict[str, JSON] = {
        "instrument": instrument,
        "model_source": model.source,
        "model_reason": model.reason,
        "intake": r3(intake_value),
        "intake_session": intake_session,
        "flagged_sessions": rows,
        "first_worst_session": sessions[first],
        "latest_flagged_session": sessions[latest_flagged],
        "latest_session": sessions[j],
        "latest_level": levels[j],
        "yellow_percentile": model.yellow_percentile,
        "red_percentile": model.red_percentile,
    }
    session = points[first][0]
    return [
        Finding(
            kind="not_on_track",
            severity=severity,
            key=make_key("not_on_track", series.episode_id, instrument),
            session_number=session.number,
            appointment_id=session.appointment_id,
            title=f"{label}: not on track ({severity})",
            explanation=text,
            evidence=evidence,
            suggestion=suggestion_for("not_on_track").text,
            episode_id=series.episode_id,
            instrument=instrument,
        )
    ]


def _model_sentence(model: TrajectoryModel) -> str:
    if model.source == "clinic":
        return f"Expected curve: {model.reason}."
    return (
        f"Expected curve: the project's default curve, because {model.reason}; the default "
        "curve is an unverified assumption, so read this flag with care."
    )
