"""The one-screen brief before a session: what changed, what the client said, what to open with.

Assembled here, shown by brief_views.appointment_brief. A fixed number of queries whatever the length of
the episode (tests/care/test_brief.py counts them): totals are read as plain values, and the encrypted
answers only for the few latest responses. Reliable change comes from alliance.measures.change with the
instrument's own rule; the openings from alliance.alerts.openings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import User
from alliance.alerts.openings import Opening, Signals, openings
from alliance.care import access, queries, words
from alliance.care.comments import has_something_to_say
from alliance.care.models import (
    Alert,
    AlertKind,
    Appointment,
    Attendance,
    Episode,
    Goal,
    Reflection,
    Respondent,
    Response,
)
from alliance.care.words import reading_language
from alliance.measures import UnknownInstrument, get_instrument
from alliance.measures.change import reliable_change, threshold_change
from alliance.measures.model import Instrument

DIMENSIONS = ("bond", "goals", "tasks", "overall")
COMMENTS_SHOWN = 3
GOALS = ("goal1", "goal2", "goal3")
# Item answers shown on the brief: the ones the client marked "more than half the days" or more.
NOTABLE_ITEM_VALUE = 2


@dataclass(frozen=True)
class Change:
    amount: float
    reliable: bool | None  # None: the instrument has no reliable-change rule
    label: str  # "reliably better", "reliably worse", "no reliable change", ""


@dataclass(frozen=True)
class ScoreLine:
    instrument: str
    title: str
    short: str  # "PHQ-9"
    latest: float
    latest_session: int | None
    band: str
    previous: float | None
    intake: float | None
    since_previous: Change | None
    since_intake: Change | None
    rule: str  # "reliable change: 6 points or more"


@dataclass(frozen=True)
class DimensionLine:
    key: str
    label: str
    latest: float | None
    previous: float | None
    fell: bool  # the alert rules found a drop here (an open rupture alert names it)


@dataclass(frozen=True)
class GoalLine:
    number: int
    description: str
    rating: float | None
    previous: float | None


@dataclass(frozen=True)
class Brief:
    appointment: Appointment
    last_session: Appointment | None
    scores: list[ScoreLine]
    dimensions: list[DimensionLine]
    checkin_session: int | None
    alerts: list[Alert]
    # Ids of alerts whose suggestion repeats an earlier one's word for word (the same kind raised on
    # PHQ-9 and GAD-7): the brief says "as above" instead of printing it again.
    repeated_suggestions: frozenset[int]
    comments: list[words.Comment]
    notable_items: list[tuple[words.ResponseWords, list[words.ItemAnswer]]]
    goals: list[GoalLine]
    reflection: Reflection | None
    openings: tuple[Opening, ...]
    response_count: int


def _instrument(instrument_id: str) -> Instrument | None:
    try:
        return get_instrument(instrument_id)
    except UnknownInstrument:
        return None


def _change(instrument: Instrument, before: float | None, after: float) -> Change | None:
    if before is None:
        return None
    rule = instrument.rules.reliable_change
    better = instrument.direction == "higher_is_better"
    if rule is None:
        return Change(after - before, None, "")
    if rule.threshold is not None:
        result: Any = threshold_change(before, after, rule.threshold, higher_is_better=better)
    elif rule.sd is not None and rule.reliability is not None:
        result = reliable_change(before, after, rule.sd, rule.reliability, higher_is_better=better)
    else:
        return Change(after - before, None, "")
    label = {
        "reliable improvement": "reliably better",
        "reliable deterioration": "reliably worse",
    }.get(result.outcome, "no reliable change")
    return Change(after - before, result.reliable, label)


def _short(instrument: Instrument) -> str:
    """ "PHQ-9" from "Patient Health Questionnaire (PHQ-9)"."""
    title = instrument.title(reading_language())
    found = re.search(r"\(([^)]+)\)\s*$", title)
    return found.group(1) if found else title


def _rule_text(instrument: Instrument) -> str:
    rule = instrument.rules.reliable_change
    if rule is None:
        return ""
    if rule.threshold is not None:
        text = _("reliable change: %(points)s points or more") % {
            "points": formats.number_format(
                rule.threshold, 0 if rule.threshold == int(rule.threshold) else 1
            )
        }
    else:
        text = _("reliable change: Jacobson & Truax")
    return _("%(rule)s (unverified default)") % {"rule": text} if rule.unverified else text


def _scores(episode_id: int, instruments: list[str], upto: Q) -> list[ScoreLine]:
    rows = (
        Response.objects.filter(
            episode_id=episode_id,
            respondent=Respondent.CLIENT,
            instrument__in=instruments,
            total__isnull=False,
        )
        .filter(upto)
        .order_by(F("appointment__session_number").asc(nulls_first=True), "submitted_at", "pk")
        .values_list("instrument", "total", "band", "appointment__session_number")
    )
    series: dict[str, list[tuple[float, str, int | None]]] = {}
    for instrument_id, total, band, session in rows:
        if total is not None:  # filtered above; this tells the type checker
            series.setdefault(instrument_id, []).append((float(total), band, session))
    lines = []
    for instrument_id in instruments:
        points = series.get(instrument_id)
        instrument = _instrument(instrument_id)
        if not points or instrument is None:
            continue
        latest, band_key, latest_session = points[-1]
        previous = points[-2][0] if len(points) > 1 else None
        intake = points[0][0] if len(points) > 1 else None
        band = next(
            (b.label(reading_language()) for b in instrument.rules.bands if b.key == band_key), ""
        )
        lines.append(
            ScoreLine(
                instrument=instrument_id,
                title=instrument.title(reading_language()),
                short=_short(instrument),
                latest=latest,
                latest_session=latest_session,
                band=band,
                previous=previous,
                intake=intake,
                since_previous=_change(instrument, previous, latest),
                since_intake=_change(instrument, intake, latest) if len(points) > 2 else None,
                rule=_rule_text(instrument),
            )
        )
    return lines


def _repeated_suggestions(alerts: list[Alert]) -> frozenset[int]:
    seen: set[str] = set()
    repeated = set()
    for alert in alerts:
        if alert.suggestion and alert.suggestion in seen:
            repeated.add(alert.pk)
        seen.add(alert.suggestion)
    return frozenset(repeated)


def _fallen(alerts: list[Alert]) -> frozenset[str]:
    fallen: set[str] = set()
    for alert in alerts:
        if alert.kind != AlertKind.RUPTURE:
            continue
        measures = alert.evidence.get("measures") if isinstance(alert.evidence, dict) else None
        for measure in measures or {}:
            # A fall of the total alone is a fall of the session as a whole.
            fallen.add("overall" if measure == "total" else str(measure))
    return frozenset(fallen & set(DIMENSIONS))


def _dimensions(checkins: list[words.ResponseWords], fallen: frozenset[str]) -> list[DimensionLine]:
    instrument = _instrument(words.CHECKIN)
    labels = (
        {s.id: s.label(reading_language()) for s in instrument.rules.subscales}
        if instrument
        else {}
    )

    def value(response: words.ResponseWords | None, key: str) -> float | None:
        if response is None:
            return None
        return next((i.value for i in response.items if i.link_id == key), None)

    latest = checkins[0] if checkins else None
    previous = checkins[1] if len(checkins) > 1 else None
    return [
        DimensionLine(
            key=key,
            label=labels.get(key, key),
            latest=value(latest, key),
            previous=value(previous, key),
            fell=key in fallen,
        )
        for key in DIMENSIONS
    ]


def _goals(goals: list[Goal], ratings: list[words.ResponseWords]) -> list[GoalLine]:
    def rating(response: words.ResponseWords | None, number: int) -> float | None:
        if response is None:
            return None
        return next((i.value for i in response.items if i.link_id == f"goal{number}"), None)

    latest = ratings[0] if ratings else None
    previous = ratings[1] if len(ratings) > 1 else None
    return [
        GoalLine(
            goal.number,
            goal.description,
            rating(latest, goal.number),
            rating(previous, goal.number),
        )
        for goal in goals
    ]


def build(user: User, appointment: Appointment) -> Brief:
    episode = appointment.episode
    # What the brief may know: everything answered up to this appointment (its own before-session
    # measures included), never later sessions when an old brief is reopened.
    upto = Q(appointment__session_number__lte=appointment.session_number) | Q(
        appointment__isnull=True, submitted_at__lte=appointment.scheduled_at
    )
    outcome = [i for i in episode.outcome_instruments if i != "gbo"]
    alerts = list(
        queries.by_severity(
            access.alerts_visible_to(user).filter(queries.open_alert_filter(), episode=episode)
        )
    )
    checkins = words.latest([episode.pk], words.CHECKIN, 2, where=upto)
    latest_outcomes = [r for i in outcome for r in words.latest([episode.pk], i, 1, where=upto)]
    gbo = words.latest([episode.pk], "gbo", 2, where=upto)
    comments = words.comments([episode.pk], limit=COMMENTS_SHOWN, where=upto)
    last_session = (
        episode.appointments.filter(session_number__lt=appointment.session_number)
        .exclude(attendance=Attendance.SCHEDULED)
        .order_by("-session_number")
        .first()
    )
    reflection = (
        access.reflections_visible_to(user)
        .filter(episode=episode)
        .select_related("appointment")
        .order_by("-created_at")
        .first()
    )
    fallen = _fallen(alerts)
    latest_checkin = checkins[0] if checkins else None
    signals = Signals(
        fallen=fallen,
        # What the client wrote last time, or a concern an open rupture alert still carries.
        concern=bool(
            latest_checkin and has_something_to_say([a.text for a in latest_checkin.open_answers])
        )
        or any(
            a.kind == AlertKind.RUPTURE
            and isinstance(a.evidence, dict)
            and bool(a.evidence.get("concern"))
            for a in alerts
        ),
        missed=bool(
            last_session and last_session.attendance in (Attendance.NO_SHOW, Attendance.LATE_CANCEL)
        ),
        risk=any(a.kind == AlertKind.RISK for a in alerts) or any(r.risk for r in latest_outcomes),
        not_on_track=any(
            a.kind in (AlertKind.NOT_ON_TRACK, AlertKind.DETERIORATION) for a in alerts
        ),
    )
    notable = [
        (
            r,
            [i for i in r.items if i.risk or (i.scored and (i.value or 0) >= NOTABLE_ITEM_VALUE)],
        )
        for r in latest_outcomes
    ]
    return Brief(
        appointment=appointment,
        last_session=last_session,
        scores=_scores(episode.pk, outcome, upto),
        dimensions=_dimensions(checkins, fallen),
        checkin_session=latest_checkin.session_number if latest_checkin else None,
        alerts=alerts,
        repeated_suggestions=_repeated_suggestions(alerts),
        comments=comments,
        notable_items=notable,
        goals=_goals(list(episode.goals.order_by("number")), gbo),
        reflection=reflection,
        openings=openings(signals),
        response_count=len(checkins) + len(latest_outcomes) + len(gbo) + len(comments),
    )


def next_scheduled(episodes: Iterable[Episode]) -> Appointment | None:
    """The next scheduled appointment of the active episodes, from their prefetched appointments
    (the client page links its brief; no query of its own)."""
    now = timezone.now()
    upcoming = [
        appointment
        for episode in episodes
        if episode.is_active
        for appointment in episode.appointments.all()
        if appointment.attendance == Attendance.SCHEDULED and appointment.scheduled_at >= now
    ]
    return min(upcoming, key=lambda a: a.scheduled_at, default=None)
