"""Rule 6 — reliable deterioration: an outcome score rises from intake by the reliable amount.

NHS Talking Therapies: PHQ-9 +6, GAD-7 +4 (the deterioration thresholds mirror the improvement
ones; UNVERIFIED per docs/clinical.md), set in ``AlertSettings.reliable_deterioration``. This is the
second half of the Lambert/Finch early-warning method ("also flag a worsening from intake by the
reliable-change amount").

One ``red`` finding per episode and instrument (``deterioration:ep<id>:<instrument>``), dated at
the first session that reached the threshold; later sessions update the evidence.
"""

from __future__ import annotations

from ._text import EPS, instrument_label, num, r3, sessions_text, signed
from .findings import JSON, Finding, make_key
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries


def deterioration_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    findings: list[Finding] = []
    for instrument, threshold in sorted(settings.reliable_deterioration.items()):
        intake = series.intake_score(instrument)
        if intake is None:
            continue
        intake_value, intake_session = intake
        points = series.outcome_after_intake(instrument)
        hits = [(s, v) for s, v in points if v - intake_value >= threshold - EPS]
        if not hits:
            continue
        first_session, first_value = hits[0]
        latest_session, latest_value = points[-1]
        label = instrument_label(instrument)
        start = "at intake" if intake_session is None else f"at session {intake_session}"
        text = (
            f"{label} rose from {num(intake_value, 0)} {start} to {num(first_value, 0)} at "
            f"session {first_session.number} ({signed(first_value - intake_value, 0)} points; "
            f"reliable deterioration is a rise of {num(threshold, 0)} or more, the NHS Talking "
            "Therapies amount, an unverified mirror of reliable improvement)."
        )
        if len(hits) > 1:
            reached = sessions_text([s.number for s, _ in hits])
            text += f" The rise reached the threshold at {reached}."
        if latest_session.number != first_session.number:
            text += (
                f" Latest score (session {latest_session.number}): {num(latest_value, 0)}"
                f" ({signed(latest_value - intake_value, 0)} from intake)."
            )
        evidence: dict[str, JSON] = {
            "instrument": instrument,
            "intake": r3(intake_value),
            "intake_session": intake_session,
            "threshold": r3(threshold),
            "sessions": [
                {"session": s.number, "score": r3(v), "rise": r3(v - intake_value)} for s, v in hits
            ],
            "latest_session": latest_session.number,
            "latest_score": r3(latest_value),
            "currently_deteriorated": latest_value - intake_value >= threshold - EPS,
        }
        findings.append(
            Finding(
                kind="deterioration",
                severity="red",
                key=make_key("deterioration", series.episode_id, instrument),
                session_number=first_session.number,
                appointment_id=first_session.appointment_id,
                title=f"{label}: reliable deterioration since intake",
                explanation=text,
                evidence=evidence,
                suggestion=suggestion_for("deterioration").text,
                episode_id=series.episode_id,
                instrument=instrument,
            )
        )
    return findings
