"""Alert quality on the clinic's own data (issue 11, point 5), so thresholds are tuned from evidence.

For each alert kind (risk first, then the others in `records.ALERT_KINDS` order), overall and per
therapist: how many alerts were raised per therapist per week, the share acknowledged and how fast,
the share of closed alerts closed as "not useful", and for ruptures how many were repaired and how
fast. Definitions and sources: docs/insights.md, "Alert quality".

Decisions
  - **Period.** An alert belongs to the period its `created_at` date falls in (start and end
    inclusive). With no end, the period ends on the latest date the data mentions.
  - **Therapist-weeks** (the denominator of "per therapist per week") are computed from the
    episodes, not passed in: the days in the period on which the therapist had at least one open
    episode (from `started_on` to `ended_on`, or to the period's end while open), divided by 7.
    An alert can be raised whenever a client is in care (a missed session, a late questionnaire),
    not only on session days, so open caseload is the exposure; a therapist with no open episode
    (on leave, a supervisor) adds no weeks. Partial weeks count as fractions. `alert_quality` takes
    the weeks as a mapping, so a caller with a better exposure measure can pass its own.
  - **Rate per therapist-week** has an exact Poisson interval (Garwood 1936). It treats alerts as
    independent events; alerts cluster in a few clients, so the interval is optimistic.
  - **Acknowledged**: a therapist acted on the alert (`acknowledged_at` set — every action sets
    it — or the status is acknowledged / repair discussed). A rupture the data marked repaired
    before anyone looked at it is *not* acknowledged. Hours to acknowledgement: median and
    quartiles over acknowledged alerts.
  - **Not useful**: closed with `close_reason` "not_relevant" ("Not clinically relevant on
    review"), over all closed alerts.
  - **Repair** (ruptures only): repaired when `repaired_at` is set or the status is repaired;
    unresolved when the repair window passed without it. The repaired share is over ruptures whose
    outcome is decided (repaired + unresolved), so ruptures still inside their window do not count
    as failures; pending and closed-before-decided ones are counted beside it. Days to repair:
    median and quartiles of `repaired_at - created_at`.
  - **Acted on** (issue 12, point 4): how often a therapist did something with an alert, per kind
    and for every kind but risk (risk is never snoozed and goes to the supervisor when left
    alone, so it is reported apart): any action at all (`first_action_at` set, or acknowledged,
    a repair conversation, a snooze or a close); repair discussed (ruptures); snoozed at least
    once (never risk: no share for it); the closed ones by reason; hours from raised to the
    first action (median and quartiles over the alerts acted on). An alert the data decided
    (repaired, unresolved) without anyone looking is not acted on.
  - Shares are `intervals.Rate` (Wilson interval, denominator always shown).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats

from .intervals import CONFIDENCE, Rate, rate
from .jsonable import fields_dict
from .phrases import gettext_noop
from .records import ALERT_KINDS, AlertRecord, ClinicData, EpisodeRecord

ALL_KINDS = "all"
ALL_BUT_RISK = "all_but_risk"
UNSNOOZABLE_KINDS = frozenset({"risk"})  # as alliance.alerts.lifecycle (no import across packages)
# The close reasons of the staff page (alliance.care.caseload_forms.CLOSE_REASONS), in its order;
# any other stored code follows, alphabetically.
CLOSE_REASON_ORDER = ("addressed", "not_relevant", "client_ended", "duplicate", "other")
NOT_USEFUL_REASON = "not_relevant"
ACKNOWLEDGED_STATUSES = frozenset({"acknowledged", "repair_discussed"})
OPEN_STATUSES = frozenset({"open", "acknowledged", "repair_discussed"})
NOTES: tuple[str, ...] = (
    gettext_noop(
        "Alerts per therapist per week count alerts raised in the period over the weeks each "
        "therapist had at least one client in care; the interval assumes alerts arrive independently, "
        "which they do not quite (some clients raise several), so read it as a lower bound on the "
        "uncertainty."
    ),
    gettext_noop(
        "A kind that is often closed as 'not clinically relevant' is probably too sensitive for this "
        "clinic; one that is rarely acknowledged may be going unseen."
    ),
    gettext_noop(
        "Repaired ruptures are counted over ruptures whose repair window has passed; ruptures still "
        "inside it are shown as pending."
    ),
    gettext_noop(
        "Acted on counts any action by a therapist (acknowledged, a repair conversation, snoozed or "
        "closed); risk alerts are shown apart and can never be snoozed."
    ),
)


@dataclass(frozen=True)
class PerWeek:
    """Alerts per therapist-week with an exact Poisson interval; None without exposure."""

    alerts: int
    therapist_weeks: float
    rate: float | None
    low: float | None
    high: float | None
    confidence: float = CONFIDENCE
    method: str = "exact Poisson (Garwood)"

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class Quartiles:
    """Median and quartiles (linear interpolation); None when there are no values."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class Repair:
    ruptures: int
    repaired: Rate  # over ruptures whose outcome is decided (repaired + unresolved)
    unresolved: int
    pending: int  # still inside the repair window
    closed_undecided: int  # closed before the data decided repair
    days_to_repair: Quartiles

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class ActedOn:
    """How often therapists acted on the alerts of a kind (see "Acted on" above)."""

    acted_on: Rate  # any action, over raised
    repair_discussed: Rate | None  # over ruptures; None when the kind has no repair
    snoozed: Rate | None  # over alerts that could be snoozed; None for risk
    closed_by_reason: tuple[tuple[str, int], ...]  # (reason code, count), CLOSE_REASON_ORDER first
    hours_to_first_action: Quartiles

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class KindQuality:
    kind: str  # an alert kind, "all", or "all_but_risk"
    raised: int
    per_therapist_week: PerWeek
    acknowledged: Rate
    hours_to_acknowledge: Quartiles
    still_open: int
    closed: int
    not_useful: Rate  # closed as not clinically relevant, over closed
    repair: Repair | None  # ruptures only
    acted_on: ActedOn | None = None

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class TherapistAlertQuality:
    therapist: str
    therapist_weeks: float
    kinds: tuple[KindQuality, ...]
    all_kinds: KindQuality

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class AlertQuality:
    start: date | None
    end: date | None
    therapists: int
    therapist_weeks: float
    kinds: tuple[KindQuality, ...]  # risk first
    all_kinds: KindQuality
    by_therapist: tuple[TherapistAlertQuality, ...]  # by therapist id
    notes: tuple[str, ...] = NOTES
    all_but_risk: KindQuality | None = None  # every kind except risk, which is reported apart

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


# ---------------------------------------------------------------------------------------------


def per_week(alerts: int, therapist_weeks: float, confidence: float = CONFIDENCE) -> PerWeek:
    """alerts / therapist_weeks with Garwood's exact Poisson interval.

    low = chi2_quantile(tail; 2k) / 2T, high = chi2_quantile(1 - tail; 2k + 2) / 2T with tail =
    (1 - confidence)/2 (low = 0 when k = 0).
    """
    if alerts < 0 or therapist_weeks < 0:
        raise ValueError("counts and weeks cannot be negative")
    if therapist_weeks == 0:
        return PerWeek(alerts, 0.0, None, None, None, confidence)
    tail = (1.0 - confidence) / 2.0
    low = float(stats.chi2.ppf(tail, 2 * alerts)) / 2.0 if alerts else 0.0
    high = float(stats.chi2.ppf(1.0 - tail, 2 * alerts + 2)) / 2.0
    weeks = float(therapist_weeks)
    return PerWeek(alerts, weeks, alerts / weeks, low / weeks, high / weeks, confidence)


def quartiles(values: Sequence[float]) -> Quartiles:
    if not values:
        return Quartiles(0, None, None, None)
    q1, median, q3 = (
        float(v) for v in np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    )
    return Quartiles(len(values), median, q1, q3)


def therapist_weeks(episodes: Iterable[EpisodeRecord], start: date, end: date) -> dict[str, float]:
    """Per therapist: days in [start, end] with at least one open episode, divided by 7."""
    if end < start:
        raise ValueError("the period ends before it starts")
    spans: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for episode in episodes:
        first = max(episode.started_on, start)
        last = min(episode.ended_on or end, end)
        if first <= last:
            spans[episode.therapist].append((first, last))
    weeks: dict[str, float] = {}
    for therapist, intervals in spans.items():
        days = 0
        covered_to: date | None = None  # last day already counted
        for first, last in sorted(intervals):
            if covered_to is not None and first <= covered_to:
                first = covered_to + timedelta(days=1)
            if first <= last:
                days += (last - first).days + 1
                covered_to = last
        weeks[therapist] = days / 7.0
    return weeks


def alert_quality(
    alerts: Iterable[AlertRecord],
    weeks: Mapping[str, float],
    *,
    start: date | None = None,
    end: date | None = None,
) -> AlertQuality:
    """The report from alerts and each therapist's weeks at risk of an alert in the period."""
    chosen = [a for a in alerts if _in_period(a, start, end)]
    therapists = sorted(set(weeks) | {a.therapist for a in chosen})
    total_weeks = float(sum(weeks.values()))
    kinds = _kind_order({a.kind for a in chosen})
    by_therapist: dict[str, list[AlertRecord]] = defaultdict(list)
    for alert in chosen:
        by_therapist[alert.therapist].append(alert)
    return AlertQuality(
        start=start,
        end=end,
        therapists=len(therapists),
        therapist_weeks=total_weeks,
        kinds=tuple(_quality(k, [a for a in chosen if a.kind == k], total_weeks) for k in kinds),
        all_kinds=_quality(ALL_KINDS, chosen, total_weeks),
        all_but_risk=_quality(
            ALL_BUT_RISK, [a for a in chosen if a.kind not in UNSNOOZABLE_KINDS], total_weeks
        ),
        by_therapist=tuple(
            _therapist_quality(t, by_therapist.get(t, []), float(weeks.get(t, 0.0)), kinds)
            for t in therapists
        ),
    )


def alert_quality_report(
    data: ClinicData, start: date | None = None, end: date | None = None
) -> AlertQuality:
    """`alert_quality` with therapist-weeks counted from the episodes (see the module docstring)."""
    first = start or _earliest(data)
    last = end or _latest(data)
    if first is None or last is None or last < first:
        return alert_quality((), {}, start=start, end=end)
    return alert_quality(
        data.alerts, therapist_weeks(data.episodes, first, last), start=first, end=last
    )


# ---------------------------------------------------------------------------------------------


def _in_period(alert: AlertRecord, start: date | None, end: date | None) -> bool:
    day = alert.created_at.date()
    return (start is None or day >= start) and (end is None or day <= end)


def _kind_order(present: set[str]) -> list[str]:
    """Every known kind (risk first), then any unknown kind that occurs, alphabetically."""
    known = ["risk", *(k for k in ALERT_KINDS if k != "risk")]
    return known + sorted(present - set(known))


def _therapist_quality(
    therapist: str, alerts: list[AlertRecord], weeks: float, kinds: list[str]
) -> TherapistAlertQuality:
    return TherapistAlertQuality(
        therapist=therapist,
        therapist_weeks=weeks,
        kinds=tuple(_quality(k, [a for a in alerts if a.kind == k], weeks) for k in kinds),
        all_kinds=_quality(ALL_KINDS, alerts, weeks),
    )


def _acknowledged(alert: AlertRecord) -> bool:
    return alert.acknowledged_at is not None or alert.status in ACKNOWLEDGED_STATUSES


def _repaired(alert: AlertRecord) -> bool:
    return alert.repaired_at is not None or alert.status == "repaired"


def _quality(kind: str, alerts: list[AlertRecord], weeks: float) -> KindQuality:
    acknowledged = [a for a in alerts if _acknowledged(a)]
    hours = [
        (a.acknowledged_at - a.created_at).total_seconds() / 3600.0
        for a in acknowledged
        if a.acknowledged_at is not None
    ]
    closed = [a for a in alerts if a.status == "closed"]
    not_useful = sum(1 for a in closed if a.close_reason == NOT_USEFUL_REASON)
    return KindQuality(
        kind=kind,
        raised=len(alerts),
        per_therapist_week=per_week(len(alerts), weeks),
        acknowledged=rate(len(acknowledged), len(alerts)),
        hours_to_acknowledge=quartiles(hours),
        still_open=sum(1 for a in alerts if a.status in OPEN_STATUSES),
        closed=len(closed),
        not_useful=rate(not_useful, len(closed)),
        repair=_repair(alerts) if kind == "rupture" else None,
        acted_on=acted_on(kind, alerts),
    )


def _acted_on(alert: AlertRecord) -> bool:
    return (
        alert.first_action_at is not None
        or _acknowledged(alert)
        or alert.repair_discussed
        or alert.snoozed
        or alert.status == "closed"  # only a therapist closes an alert
    )


def _first_action(alert: AlertRecord) -> datetime | None:
    moments = [m for m in (alert.first_action_at, alert.acknowledged_at) if m is not None]
    return min(moments, default=None)


def acted_on(kind: str, alerts: Sequence[AlertRecord]) -> ActedOn:
    """How often these alerts (all of `kind`, or of every kind for "all" / "all_but_risk") were
    acted on."""
    acted = [a for a in alerts if _acted_on(a)]
    hours = [
        (first - a.created_at).total_seconds() / 3600.0
        for a in acted
        if (first := _first_action(a)) is not None
    ]
    ruptures = [a for a in alerts if a.kind == "rupture"]
    discussed = sum(1 for a in ruptures if a.repair_discussed or a.status == "repair_discussed")
    snoozable = [a for a in alerts if a.kind not in UNSNOOZABLE_KINDS]
    reasons: dict[str, int] = defaultdict(int)
    for alert in alerts:
        if alert.status == "closed":
            reasons[alert.close_reason or "other"] += 1
    order = [r for r in CLOSE_REASON_ORDER if r in reasons] + sorted(
        set(reasons) - set(CLOSE_REASON_ORDER)
    )
    return ActedOn(
        acted_on=rate(len(acted), len(alerts)),
        repair_discussed=rate(discussed, len(ruptures))
        if kind in ("rupture", ALL_KINDS, ALL_BUT_RISK)
        else None,
        snoozed=rate(sum(1 for a in snoozable if a.snoozed), len(snoozable))
        if kind not in UNSNOOZABLE_KINDS
        else None,
        closed_by_reason=tuple((reason, reasons[reason]) for reason in order),
        hours_to_first_action=quartiles(hours),
    )


def _repair(ruptures: list[AlertRecord]) -> Repair:
    repaired = [a for a in ruptures if _repaired(a)]
    unresolved = sum(1 for a in ruptures if not _repaired(a) and a.status == "unresolved")
    closed_undecided = sum(1 for a in ruptures if not _repaired(a) and a.status == "closed")
    days = [
        (a.repaired_at - a.created_at).total_seconds() / 86400.0
        for a in repaired
        if a.repaired_at is not None
    ]
    return Repair(
        ruptures=len(ruptures),
        repaired=rate(len(repaired), len(repaired) + unresolved),
        unresolved=unresolved,
        pending=len(ruptures) - len(repaired) - unresolved - closed_undecided,
        closed_undecided=closed_undecided,
        days_to_repair=quartiles(days),
    )


def _earliest(data: ClinicData) -> date | None:
    days = [e.started_on for e in data.episodes] + [a.created_at.date() for a in data.alerts]
    return min(days, default=None)


def _latest(data: ClinicData) -> date | None:
    days = [e.started_on for e in data.episodes]
    days += [e.ended_on for e in data.episodes if e.ended_on is not None]
    for alert in data.alerts:
        days += [
            moment.date()
            for moment in (
                alert.created_at,
                alert.acknowledged_at,
                alert.repaired_at,
                alert.resolved_at,
            )
            if moment is not None
        ]
    return max(days, default=None)
