"""Rule 1 — risk: any risk signal raises an urgent alert, one per questionnaire response.

docs/clinical.md#phq-9-item-9: PHQ-9 item 9 above 0 must raise an urgent alert to the therapist at once. The
Django side escalates it to the supervisor when unacknowledged after
``AlertSettings.risk_escalation_minutes``, then to the administrators after a further
``AlertSettings.risk_administrator_escalation_minutes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ._text import instrument_word
from .findings import JSON, Finding, make_key
from .message import N_, Item, Msg, alert_text, msg, number
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, RiskSignal, Session

# Item wording summaries for the explanation (instrument wording, never client text).
RISK_ITEMS: Final[dict[tuple[str, str], str]] = {
    ("phq9", "9"): N_("thoughts that they would be better off dead or of hurting themselves"),
}
# One fixed sentence: the supervision page translates stored titles of risk alerts by it.
RISK_TITLE: Final = N_("Risk item answered: review risk today")
# PHQ-9 answer labels (docs/clinical.md#instruments-and-licences).
PHQ_ANSWERS: Final[dict[int, str]] = {
    0: N_("Not at all"),
    1: N_("Several days"),
    2: N_("More than half the days"),
    3: N_("Nearly every day"),
}


def _describe(signal: RiskSignal) -> Msg:
    what = RISK_ITEMS.get((signal.instrument, signal.item))
    digits = 0 if signal.answer == int(signal.answer) else 1
    text = msg(
        N_("{instrument} item {item} was answered {answer}"),
        instrument=instrument_word(signal.instrument),
        item=signal.item,
        answer=number(signal.answer, digits),
    )
    if signal.instrument in ("phq9", "gad7") and signal.answer in PHQ_ANSWERS:
        label = Msg(PHQ_ANSWERS[int(signal.answer)])
        text = msg(N_("{answer} (“{label}”)"), answer=text, label=label)
    if what:
        text = msg(N_("{answer} — {what}"), answer=text, what=Msg(what))
    return text


def _groups(session: Session) -> list[tuple[str, tuple[RiskSignal, ...]]]:
    """Signals grouped by response; signals without a response id by instrument."""
    groups: dict[str, list[RiskSignal]] = {}
    for signal in session.risk:
        if signal.response_id is not None:
            part = f"r{signal.response_id}"
        else:
            part = f"s{session.number}:{signal.instrument}"
        groups.setdefault(part, []).append(signal)
    return [(part, tuple(signals)) for part, signals in sorted(groups.items())]


def risk_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    """One ``urgent`` finding per response that carries risk signals."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for session in series.sessions:
        for part, signals in _groups(session):
            key = make_key("risk", series.episode_id, part)
            if key in seen:  # the same response attached to two sessions: report it once
                continue
            seen.add(key)
            findings.append(_finding(series, session, key, signals, settings))
    return findings


def _finding(
    series: EpisodeSeries,
    session: Session,
    key: str,
    signals: Sequence[RiskSignal],
    settings: AlertSettings,
) -> Finding:
    items: list[JSON] = [
        {"instrument": s.instrument, "item": s.item, "answer": s.answer} for s in signals
    ]
    response_ids = sorted({s.response_id for s in signals if s.response_id is not None})
    answers: list[Item] = [_describe(s) for s in signals]
    explanation = msg(
        N_(
            "At session {n}, {answers}. Any answer above 0 on a risk item needs a risk review "
            "today. If this alert is not acknowledged within {minutes} minutes, your supervisor "
            "is notified, and the clinic's administrators {administrator_minutes} minutes after "
            "that."
        ),
        n=session.number,
        answers=answers,
        minutes=settings.risk_escalation_minutes,
        administrator_minutes=settings.risk_administrator_escalation_minutes,
    )
    return Finding(
        kind="risk",
        severity="urgent",
        key=key,
        session_number=session.number,
        appointment_id=session.appointment_id,
        **alert_text(
            title=Msg(RISK_TITLE),
            explanation=explanation,
            suggestion=suggestion_for("risk").message,
            evidence={
                "session": session.number,
                "items": items,
                "response_id": response_ids[0] if len(response_ids) == 1 else None,
                "escalation_minutes": settings.risk_escalation_minutes,
            },
        ),
        episode_id=series.episode_id,
        instrument=signals[0].instrument,
    )
