"""Rule 6 — reliable deterioration: an outcome score rises from intake by the reliable amount.

NHS Talking Therapies: PHQ-9 +6, GAD-7 +4 (the deterioration thresholds mirror the improvement
ones; UNVERIFIED per docs/clinical.md), set in ``AlertSettings.reliable_deterioration``. This is the
second half of the Lambert/Finch early-warning method ("also flag a worsening from intake by the
reliable-change amount").

One ``red`` finding per episode and instrument (``deterioration:ep<id>:<instrument>``), dated at
the first session that reached the threshold; later sessions update the evidence. The same rise
(``reliable_rise``) makes the episode's not-on-track alert red from that session on
(``not_on_track.py``): a reliable deteriorator is not on track by definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._text import EPS, instrument_word, r3
from .findings import JSON, Finding, make_key
from .message import N_, Msg, alert_text, msg, number, sessions, signed
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, Session


@dataclass(frozen=True)
class ReliableRise:
    """An instrument's scores that rose from intake by its reliable-change amount or more.

    Shared with the not-on-track rule, which turns red from the first such session (a client who
    has reliably deteriorated is not on track by definition), so both rules read one definition.
    """

    instrument: str
    threshold: float
    intake: float
    intake_session: int | None
    hits: Sequence[tuple[Session, float]]  # every score at or above intake + threshold
    latest: tuple[Session, float]

    @property
    def first(self) -> tuple[Session, float]:
        return self.hits[0]

    @property
    def current(self) -> bool:
        """Whether the latest score is still a reliable deterioration."""
        return self.latest[1] - self.intake >= self.threshold - EPS


def reliable_rise(series: EpisodeSeries, instrument: str, threshold: float) -> ReliableRise | None:
    """The reliable rise of ``instrument`` from intake, or ``None`` when no score reached it."""
    intake = series.intake_score(instrument)
    if intake is None:
        return None
    points = series.outcome_after_intake(instrument)
    hits = [(s, v) for s, v in points if v - intake[0] >= threshold - EPS]
    if not hits:
        return None
    return ReliableRise(instrument, threshold, intake[0], intake[1], hits, points[-1])


def deterioration_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    findings: list[Finding] = []
    for instrument, threshold in sorted(settings.reliable_deterioration.items()):
        rise = reliable_rise(series, instrument, threshold)
        if rise is None:
            continue
        intake_value, intake_session, hits = rise.intake, rise.intake_session, rise.hits
        first_session, first_value = rise.first
        latest_session, latest_value = rise.latest
        label = instrument_word(instrument)
        start = (
            Msg(N_("at intake"))
            if intake_session is None
            else msg(N_("at session {n}"), n=intake_session)
        )
        text = [
            msg(
                N_(
                    "{instrument} rose from {intake} {start} to {score} at session {n} ({change} "
                    "points; reliable deterioration is a rise of {threshold} or more, the NHS "
                    "Talking Therapies amount, an unverified mirror of reliable improvement)."
                ),
                instrument=label,
                intake=number(intake_value, 0),
                start=start,
                score=number(first_value, 0),
                n=first_session.number,
                change=signed(first_value - intake_value, 0),
                threshold=number(threshold, 0),
            )
        ]
        if len(hits) > 1:
            reached = sessions([s.number for s, _ in hits])
            text.append(msg(N_("The rise reached the threshold at {sessions}."), sessions=reached))
        if latest_session.number != first_session.number:
            text.append(
                msg(
                    N_("Latest score (session {n}): {score} ({change} from intake)."),
                    n=latest_session.number,
                    score=number(latest_value, 0),
                    change=signed(latest_value - intake_value, 0),
                )
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
            "currently_deteriorated": rise.current,
        }
        findings.append(
            Finding(
                kind="deterioration",
                severity="red",
                key=make_key("deterioration", series.episode_id, instrument),
                session_number=first_session.number,
                appointment_id=first_session.appointment_id,
                **alert_text(
                    title=msg(
                        N_("{instrument}: reliable deterioration since intake"), instrument=label
                    ),
                    explanation=text,
                    suggestion=suggestion_for("deterioration").message,
                    evidence=evidence,
                ),
                episode_id=series.episode_id,
                instrument=instrument,
            )
        )
    return findings
