"""The life of an alert, as pure functions the Django side calls.

States::

    open ──acknowledge──▶ acknowledged ──discuss_repair(note)──▶ repair_discussed   (ruptures)
      │                        │                                      │
      └──── (system, ruptures) ┴──────▶ repaired | unresolved ◀───────┘
    any state except closed ──close(reason)──▶ closed

- ``discuss_repair`` needs a short note by the therapist (it also acknowledges an open alert).
- ``repaired`` / ``unresolved`` are set only by :func:`reconcile`: repaired when the check-in
  returns to its pre-drop level within ``repair_window_sessions`` sessions after the rupture,
  unresolved when that many sessions passed without it (docs/clinical.md, m = 2).
- ``close`` needs a reason. Closed is final: a recomputation never reopens it. If a finding with
  the same key later reaches a *higher* severity than the alert had when it was closed (e.g. a
  closed yellow "not on track" turning red) the plan creates a successor alert keyed
  ``<key>#2`` (``#3``…), so an escalation is never silenced; a new rupture at a later session is
  a new key anyway.
- An ``acknowledged`` alert stays acknowledged while a recomputation only refreshes its numbers;
  when its severity rises (worse than when it was acknowledged) it is set back to ``open``
  (issue 12: it comes back only if it got worse).
- ``snooze`` (a short reason, for 1, 2 or 4 weeks) quietens a non-risk alert without changing
  its status (an open one becomes acknowledged): :func:`is_quiet` says whether it is quiet at a
  moment; ``unsnooze`` wakes it early; :func:`reconcile` wakes it when its severity rises. Risk
  alerts can never be snoozed.

:func:`reconcile` compares the stored alerts of one episode with freshly computed findings and
returns a :class:`ReconcilePlan`: alerts to create and updates (severity escalation — never a
downgrade —, refreshed content, automatic repair transitions, "no longer met" marks). It never
deletes an alert or touches its notes, never creates a key that exists, and is idempotent:
after :func:`apply_plan`, reconciling the same inputs gives an empty plan. Stored alerts under a
key scheme that has since changed are carried on under their old key (:data:`LEGACY_KEYS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol, get_args

from .findings import JSON, SEVERITY_RANK, Finding, Kind, Severity
from .rupture import RepairOutcome, repair_outcome, repair_targets
from .settings import AlertSettings
from .types import EpisodeSeries

Status = Literal["open", "acknowledged", "repair_discussed", "repaired", "unresolved", "closed"]
STATUSES: Final[tuple[str, ...]] = get_args(Status)
Action = Literal["acknowledge", "discuss_repair", "snooze", "unsnooze", "close"]
ACTIONS: Final[tuple[str, ...]] = get_args(Action)

REPAIR_KINDS: Final[frozenset[str]] = frozenset({"rupture"})
"""Kinds with repair tracking (``repair_discussed``, ``repaired``, ``unresolved``)."""
AUTO_FROM: Final[frozenset[str]] = frozenset({"open", "acknowledged", "repair_discussed"})
"""States from which the automatic repaired / unresolved transition may happen."""
MAX_NOTE_LENGTH: Final = 2000


class TransitionError(ValueError):
    """An action that is not allowed in the current state, or missing its note/reason."""


def allowed_actions(status: Status, kind: Kind, *, snoozed: bool = False) -> tuple[Action, ...]:
    """What a therapist may do to an alert in ``status`` (in display order).

    ``snoozed``: the alert is quiet now (:func:`is_quiet`); it can be woken (``unsnooze``), not
    snoozed again. A risk alert is never offered ``snooze``.
    """
    if status == "closed":
        return ()
    actions: list[Action] = []
    if status == "open":
        actions.append("acknowledge")
    if kind in REPAIR_KINDS and status in ("open", "acknowledged"):
        actions.append("discuss_repair")
    if snoozed:
        actions.append("unsnooze")
    elif kind not in UNSNOOZABLE_KINDS and status in SNOOZABLE_STATUSES:
        actions.append("snooze")
    actions.append("close")
    return tuple(actions)


_ACTION_TARGET: Final[dict[str, Status]] = {
    "acknowledge": "acknowledged",
    "discuss_repair": "repair_discussed",
    "close": "closed",
}


def _target(action: Action, status: Status) -> Status:
    # Snoozing is acting on the alert, so an open one counts as acknowledged; otherwise the
    # snooze leaves the status alone (a snoozed unresolved rupture is still unresolved).
    if action == "snooze":
        return "acknowledged" if status == "open" else status
    if action == "unsnooze":
        return status
    return _ACTION_TARGET[action]


def next_states(status: Status, kind: Kind) -> frozenset[Status]:
    """Every state reachable in one step, by a therapist's action or automatically."""
    states = {_target(a, status) for a in allowed_actions(status, kind)} - {status}
    if kind in REPAIR_KINDS and status in AUTO_FROM:
        states |= {"repaired", "unresolved"}
    return frozenset(states)


def apply_action(
    status: Status,
    kind: Kind,
    action: Action,
    *,
    note: str | None = None,
    reason: str | None = None,
    snoozed: bool = False,
) -> Status:
    """The new status after a therapist's action; raises :class:`TransitionError`.

    ``snooze`` needs its reason as ``note`` (short free text); the snooze's end is
    :func:`snooze_until`'s. ``snoozed`` as for :func:`allowed_actions`.
    """
    if action == "snooze" and kind in UNSNOOZABLE_KINDS:
        raise TransitionError(f"a {kind} alert can never be snoozed")
    if action not in allowed_actions(status, kind, snoozed=snoozed):
        raise TransitionError(f"cannot {action} a {kind} alert that is {status}")
    if action == "discuss_repair":
        if not note or not note.strip():
            raise TransitionError("a short note about the repair conversation is required")
        if len(note) > MAX_NOTE_LENGTH:
            raise TransitionError(f"the note must be at most {MAX_NOTE_LENGTH} characters")
    if action == "snooze":
        if not note or not note.strip():
            raise TransitionError("a reason is required to snooze an alert")
        if len(note) > MAX_SNOOZE_REASON_LENGTH:
            raise TransitionError(
                f"the reason must be at most {MAX_SNOOZE_REASON_LENGTH} characters"
            )
    if action == "close" and (not reason or not reason.strip()):
        raise TransitionError("a reason is required to close an alert")
    return _target(action, status)


# --- snooze (issue 12, point 4) ----------------------------------------------------------------
# A therapist may quieten a non-risk alert for a few weeks, with a reason. It stays stored and
# keeps its status; it leaves the caseload's attention list and counts until ``snoozed_until``,
# or earlier if it gets worse (reconcile wakes it, see ``AlertUpdate.unsnooze``).

UNSNOOZABLE_KINDS: Final[frozenset[str]] = frozenset({"risk"})
"""Risk is never quietened: never snoozed, never quiet (docs/clinical.md, PHQ-9 item 9)."""
SNOOZABLE_STATUSES: Final[frozenset[str]] = frozenset(
    {"open", "acknowledged", "repair_discussed", "unresolved"}
)
"""The statuses the caseload counts as needing attention: only those are worth quietening."""
SNOOZE_WEEKS: Final[tuple[int, ...]] = (1, 2, 4)
MAX_SNOOZE_REASON_LENGTH: Final = 300


def snooze_until(now: datetime, weeks: int) -> datetime:
    """When a snooze taken at ``now`` for ``weeks`` ends: the alert is back from that moment
    (the same weekday and time, ``weeks`` later; a moment, not a day, so that the database can
    compare it with the time of the request like any other)."""
    if weeks not in SNOOZE_WEEKS:
        raise TransitionError(f"an alert can be snoozed for {SNOOZE_WEEKS} weeks only")
    return now + timedelta(weeks=weeks)


class Snoozable(Protocol):
    """What :func:`is_quiet` reads (a :class:`StoredAlert` or the Django model)."""

    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def snoozed_until(self) -> datetime | None: ...


def is_quiet(alert: Snoozable, now: datetime) -> bool:
    """Whether the alert is snoozed at ``now``: quiet from the snooze until ``snoozed_until``
    (exclusive). A risk alert is never quiet, whatever is stored; a closed one is not "quiet", it
    is gone."""
    return (
        alert.snoozed_until is not None
        and now < alert.snoozed_until
        and alert.kind not in UNSNOOZABLE_KINDS
        and alert.status != "closed"
    )


NO_LONGER_MET: Final = "no_longer_met"
"""Evidence flag set when the data stopped supporting a stored alert (e.g. an attendance record
was corrected); the alert and its notes stay, the flag goes when the finding comes back."""


@dataclass(frozen=True)
class StoredAlert:
    """What the database holds for an alert: the columns of ``care.Alert`` that matter here.

    Notes live in the database too; they are never needed or touched here. The content fields
    are compared with a fresh finding to decide whether the content needs refreshing.
    """

    key: str
    kind: Kind
    status: Status
    severity: Severity
    session_number: int | None = None
    appointment_id: int | None = None
    title: str = ""
    explanation: str = ""
    suggestion: str = ""
    evidence: Mapping[str, JSON] = field(default_factory=dict)
    # Snooze: when the alert is back on the caseload (see is_quiet); None when not snoozed.
    snoozed_until: datetime | None = None

    @property
    def still_met(self) -> bool:
        return not self.evidence.get(NO_LONGER_MET)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r}")


@dataclass(frozen=True)
class AlertUpdate:
    """Changes to one stored alert. ``None`` means "leave as is".

    ``finding`` carries refreshed content — write its ``title``, ``explanation``, ``suggestion``,
    ``evidence``, ``session_number`` and ``appointment_id`` — with ``key`` set to the stored
    key; it is ``None`` when the content is unchanged. ``no_longer_met``: add
    ``"no_longer_met": true`` to the stored evidence. ``repair`` explains an automatic
    ``status`` change. Severity only ever goes up. ``unsnooze``: clear ``snoozed_until`` (a
    snoozed alert got worse, so it is back; ``reasons`` says why).
    """

    key: str
    severity: Severity | None = None
    status: Status | None = None
    finding: Finding | None = None
    no_longer_met: bool = False
    repair: RepairOutcome | None = None
    reasons: tuple[str, ...] = ()
    unsnooze: bool = False


@dataclass(frozen=True)
class NewAlert:
    """An alert to create. ``status`` is ``open`` unless the repair of a rupture was already
    decided by the data when it is first seen (e.g. a late sync): then ``repaired`` or
    ``unresolved``, explained by ``repair``."""

    finding: Finding
    status: Status = "open"
    repair: RepairOutcome | None = None

    @property
    def key(self) -> str:
        return self.finding.key


@dataclass(frozen=True)
class ReconcilePlan:
    create: tuple[NewAlert, ...] = ()
    update: tuple[AlertUpdate, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.create and not self.update


def split_key(key: str) -> tuple[str, int]:
    """``"a:ep1:s2#3"`` → ``("a:ep1:s2", 3)``; a key without ``#`` is generation 1."""
    base, sep, generation = key.partition("#")
    if not sep:
        return key, 1
    if not generation.isdigit() or int(generation) < 2:
        raise ValueError(f"malformed alert key {key!r}")
    return base, int(generation)


def reconcile(
    existing: Sequence[StoredAlert],
    findings: Sequence[Finding],
    series: EpisodeSeries,
    settings: AlertSettings,
) -> ReconcilePlan:
    """Plan the changes that bring one episode's stored alerts in line with ``findings``."""
    stored_keys = [a.key for a in existing]
    if len(set(stored_keys)) != len(stored_keys):
        raise ValueError("stored alert keys must be unique")
    finding_keys = [f.key for f in findings]
    if len(set(finding_keys)) != len(finding_keys):
        raise ValueError("finding keys must be unique")

    latest: dict[str, StoredAlert] = {}  # base key → its newest generation
    for stored in existing:
        base, generation = split_key(stored.key)
        if base not in latest or split_key(latest[base].key)[1] < generation:
            latest[base] = stored

    create: list[NewAlert] = []
    update: list[AlertUpdate] = []
    by_key = {f.key: f for f in findings}
    claimed = _claim_legacy(latest, findings)
    for finding in findings:
        alert = latest.get(finding.key) or claimed.get(finding.key)
        if alert is None:
            create.append(_new(finding, series, settings))
        elif alert.status == "closed":
            if SEVERITY_RANK[finding.severity] > SEVERITY_RANK[alert.severity]:
                generation = split_key(alert.key)[1] + 1
                successor = replace(finding, key=f"{finding.key}#{generation}")
                create.append(_new(successor, series, settings))
        else:
            planned = _update(alert, finding, series, settings)
            if planned is not None:
                update.append(planned)
    carried = {split_key(a.key)[0] for a in claimed.values()}
    for base, orphan in latest.items():
        if base not in by_key and base not in carried and orphan.status != "closed":
            planned = _update(orphan, None, series, settings)
            if planned is not None:
                update.append(planned)
    return ReconcilePlan(
        create=tuple(sorted(create, key=lambda f: f.key)),
        update=tuple(sorted(update, key=lambda u: u.key)),
    )


LEGACY_KEYS: Final[frozenset[str]] = frozenset({"not_on_track"})
"""Kinds whose key lost its last part (issue 12: ``not_on_track:ep<id>:<instrument>`` became
``not_on_track:ep<id>``, one alert per episode). Key-compatibility rule, instead of a data
migration: a finding whose key has no stored alert carries on the stored alert of an old-style
key that extends it (one not closed first, then the most severe, then the first by key), under
that old key, so an upgrade never duplicates an alert. Other old-style alerts of the episode are
then no longer supported by the data and are marked so, like any other (never deleted)."""


def _claim_legacy(
    latest: Mapping[str, StoredAlert], findings: Sequence[Finding]
) -> dict[str, StoredAlert]:
    """Finding key → the old-style stored alert it carries on (see :data:`LEGACY_KEYS`)."""
    claimed: dict[str, StoredAlert] = {}
    for finding in findings:
        if finding.kind not in LEGACY_KEYS or finding.key in latest:
            continue
        old = [
            alert
            for base, alert in latest.items()
            if base.startswith(finding.key + ":") and alert.kind == finding.kind
        ]
        if old:
            claimed[finding.key] = min(
                old,
                key=lambda a: (a.status == "closed", -SEVERITY_RANK[a.severity], a.key),
            )
    return claimed


def _update(
    alert: StoredAlert,
    finding: Finding | None,
    series: EpisodeSeries,
    settings: AlertSettings,
) -> AlertUpdate | None:
    reasons: list[str] = []
    severity: Severity | None = None
    content: Finding | None = None
    no_longer_met = False
    if finding is None:
        if alert.still_met:
            no_longer_met = True
            reasons.append("no longer supported by the data")
    else:
        if SEVERITY_RANK[finding.severity] > SEVERITY_RANK[alert.severity]:
            severity = finding.severity
            reasons.append(f"escalated from {alert.severity} to {finding.severity}")
        if not _same_content(alert, finding):
            content = replace(finding, key=alert.key)
            reasons.append("new evidence" if alert.still_met else "supported by the data again")

    status: Status | None = None
    outcome: RepairOutcome | None = None
    if alert.kind in REPAIR_KINDS and alert.status in AUTO_FROM:
        evidence = finding.evidence if finding is not None else alert.evidence
        session = finding.session_number if finding is not None else alert.session_number
        outcome = _decided_repair(evidence, session, series, settings)
        if outcome is not None:
            status = _status_of(outcome)
            reasons.append(f"{outcome.state} (decided at session {outcome.session_number})")
    if status is None and severity is not None and alert.status == "acknowledged":
        # An acknowledged alert stays quiet while it only gets new numbers; it comes back (open)
        # when it is worse than when it was acknowledged: severity only rises while it is
        # acknowledged, so the stored severity is the one it was acknowledged at.
        status = "open"
        reasons.append(f"reopened: worse than when acknowledged ({alert.severity} to {severity})")
    # --- snooze (brief C): a snoozed alert whose severity rises is woken, saying why. ---------
    unsnooze = severity is not None and alert.snoozed_until is not None
    if unsnooze:
        reasons.append(f"woken from its snooze: it got worse ({alert.severity} to {severity})")
    # --- end of snooze ---------------------------------------------------------------------
    if severity is None and content is None and not no_longer_met and status is None:
        return None
    return AlertUpdate(
        key=alert.key,
        severity=severity,
        status=status,
        finding=content,
        no_longer_met=no_longer_met,
        repair=outcome if status is not None else None,
        reasons=tuple(reasons),
        unsnooze=unsnooze,
    )


def _same_content(alert: StoredAlert, finding: Finding) -> bool:
    # Plain equality, not a hash: evidence that went through a JSON column may come back with
    # 9 for 9.0, which compares equal.
    return (
        alert.session_number == finding.session_number
        and alert.appointment_id == finding.appointment_id
        and alert.title == finding.title
        and alert.explanation == finding.explanation
        and alert.suggestion == finding.suggestion
        and dict(alert.evidence) == dict(finding.evidence)
    )


def _decided_repair(
    evidence: Mapping[str, JSON],
    session: int | None,
    series: EpisodeSeries,
    settings: AlertSettings,
) -> RepairOutcome | None:
    """The repair outcome if the data has decided it (repaired / unresolved), else None."""
    targets = repair_targets(evidence)
    if targets is None or session is None:
        return None
    outcome = repair_outcome(series, session, targets, settings)
    return None if outcome.state == "pending" else outcome


def _status_of(outcome: RepairOutcome) -> Status:
    if outcome.state == "repaired":
        return "repaired"
    if outcome.state == "unresolved":
        return "unresolved"
    raise ValueError("a pending repair is not a status")


def _new(finding: Finding, series: EpisodeSeries, settings: AlertSettings) -> NewAlert:
    if finding.kind in REPAIR_KINDS:
        outcome = _decided_repair(finding.evidence, finding.session_number, series, settings)
        if outcome is not None:
            return NewAlert(finding, _status_of(outcome), outcome)
    return NewAlert(finding)


def stored_from_finding(finding: Finding, status: Status = "open") -> StoredAlert:
    """The stored form of a newly created alert."""
    return StoredAlert(
        key=finding.key,
        kind=finding.kind,
        status=status,
        severity=finding.severity,
        session_number=finding.session_number,
        appointment_id=finding.appointment_id,
        title=finding.title,
        explanation=finding.explanation,
        suggestion=finding.suggestion,
        evidence=dict(finding.evidence),
    )


def apply_update(alert: StoredAlert, change: AlertUpdate) -> StoredAlert:
    """Reference implementation of an update (the Django side mirrors it on the model)."""
    if change.key != alert.key:
        raise ValueError("update is for another alert")
    result = alert
    if change.severity is not None:
        result = replace(result, severity=change.severity)
    if change.status is not None:
        result = replace(result, status=change.status)
    if change.finding is not None:
        f = change.finding
        result = replace(
            result,
            session_number=f.session_number,
            appointment_id=f.appointment_id,
            title=f.title,
            explanation=f.explanation,
            suggestion=f.suggestion,
            evidence=dict(f.evidence),
        )
    if change.no_longer_met:
        result = replace(result, evidence={**result.evidence, NO_LONGER_MET: True})
    if change.unsnooze:
        result = replace(result, snoozed_until=None)
    return result


def apply_plan(existing: Sequence[StoredAlert], plan: ReconcilePlan) -> tuple[StoredAlert, ...]:
    """Reference implementation of a whole plan: updated alerts in order, then new ones."""
    changes = {u.key: u for u in plan.update}
    updated = [apply_update(a, changes[a.key]) if a.key in changes else a for a in existing]
    return (*updated, *(stored_from_finding(new.finding, new.status) for new in plan.create))
