"""Writing what `alliance.alerts.reconcile` planned: new alerts, escalations, refreshed numbers and the
automatic repaired/unresolved transitions, with their system notes and audit events.

Nothing is ever deleted (an alert, a note), so writing the same plan's outcome twice changes nothing
the second time: the next reconcile finds the alerts already in their planned state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from alliance.accounts.audit import AuditRow, log_events
from alliance.alerts import Finding, NewAlert, ReconcilePlan, StoredAlert
from alliance.care.models import Alert, AlertNote, Episode

CHUNK = 2000
UPDATE_FIELDS = [
    "severity",
    "status",
    "session_number",
    "appointment",
    "title",
    "explanation",
    "suggestion",
    "evidence",
    "resolved_at",
    "snoozed_until",
    "updated_at",
]
_AUTO_NOTES = {
    "repaired": "The check-in returned to its level before the drop: marked repaired automatically.",
    "unresolved": "The check-in did not return to its level before the drop within the repair "
    "window: marked unresolved automatically.",
}
# The note that says why a snoozed alert came back early (the action of AlertUpdate.unsnooze).
UNSNOOZED_NOTE = "auto_unsnoozed"


def stored_alerts(episode_ids: Iterable[int]) -> dict[int, dict[str, Alert]]:
    """The stored alerts of these episodes, by episode and key."""
    by_episode: dict[int, dict[str, Alert]] = defaultdict(dict)
    for alert in Alert.objects.filter(episode_id__in=list(episode_ids)):
        by_episode[alert.episode_id][alert.key] = alert
    return by_episode


def as_stored(alert: Alert) -> StoredAlert:
    """The plain shape the pure reconcile step compares findings with."""
    return StoredAlert(
        key=alert.key,
        kind=alert.kind,  # type: ignore[arg-type]
        status=alert.status,  # type: ignore[arg-type]
        severity=alert.severity,  # type: ignore[arg-type]
        session_number=alert.session_number,
        appointment_id=alert.appointment_id,
        title=alert.title,
        explanation=alert.explanation,
        suggestion=alert.suggestion,
        evidence=alert.evidence,
        snoozed_until=alert.snoozed_until,
    )


def _content(alert: Alert, finding: Finding) -> None:
    alert.session_number = finding.session_number
    alert.appointment_id = finding.appointment_id
    alert.title = finding.title[:200]
    alert.explanation = finding.explanation
    alert.suggestion = finding.suggestion
    alert.evidence = dict(finding.evidence)


def _new_alert(episode_id: int, new: NewAlert, now: datetime) -> Alert:
    alert = Alert(
        episode_id=episode_id,
        key=new.key,
        kind=new.finding.kind,
        severity=new.finding.severity,
        status=new.status,
        created_at=now,
    )
    _content(alert, new.finding)
    if new.status in ("repaired", "unresolved"):
        alert.resolved_at = now
    return alert


def _system_note(alert: Alert, status: str, now: datetime) -> AlertNote:
    return AlertNote(
        alert=alert, author=None, action=f"auto_{status}", text=_AUTO_NOTES[status], created_at=now
    )


def _woken_note(alert: Alert, before: str, after: str, now: datetime) -> AlertNote:
    text = (
        f"It got worse while snoozed ({before} to {after}): back on the caseload before the "
        "snooze ended."
    )
    return AlertNote(alert=alert, author=None, action=UNSNOOZED_NOTE, text=text, created_at=now)


@dataclass
class Changes:
    """The unsaved result of applying the plans of a batch of episodes."""

    now: datetime
    created: list[Alert] = field(default_factory=list)
    updated: list[Alert] = field(default_factory=list)
    notes: list[AlertNote] = field(default_factory=list)

    def apply(self, episode_id: int, plan: ReconcilePlan, stored: dict[str, Alert]) -> None:
        now = self.now
        created = [_new_alert(episode_id, new, now) for new in plan.create]
        self.created += created
        for update in plan.update:
            alert = stored[update.key]
            if update.unsnooze and alert.snoozed_until is not None:
                # Only a snooze still running is news; an expired one is just cleared.
                if alert.is_snoozed and update.severity is not None:
                    self.notes.append(_woken_note(alert, alert.severity, update.severity, now))
                alert.snoozed_until = None
            if update.severity is not None:
                alert.severity = update.severity
            if update.finding is not None:
                _content(alert, update.finding)
            if update.no_longer_met:
                alert.evidence = {**alert.evidence, "no_longer_met": True}
            if update.status is not None and update.status != alert.status:
                alert.status = update.status
                if update.status in ("repaired", "unresolved"):
                    alert.resolved_at = now
                    self.notes.append(_system_note(alert, update.status, now))
            self.updated.append(alert)
        # Notes on new alerts get the alert's primary key when both are written (see `write`).
        for new, alert in zip(plan.create, created, strict=True):
            if new.status in ("repaired", "unresolved"):
                self.notes.append(_system_note(alert, new.status, now))


def write(changes: Changes) -> None:
    """Store the changes, their notes and one audit event per alert touched, in one transaction."""
    if not changes.created and not changes.updated:
        return
    episodes = {a.episode_id for a in changes.created} | {a.episode_id for a in changes.updated}
    clients = dict(Episode.objects.filter(pk__in=episodes).values_list("pk", "client_id"))
    with transaction.atomic():
        Alert.objects.bulk_create(changes.created, batch_size=CHUNK)
        for alert in changes.updated:
            alert.updated_at = changes.now
        Alert.objects.bulk_update(changes.updated, UPDATE_FIELDS, batch_size=CHUNK)
        for note in changes.notes:
            note.alert_id = note.alert.pk
        AlertNote.objects.bulk_create(changes.notes, batch_size=CHUNK)
        log_events(
            [
                AuditRow(
                    "care.alert.raised",
                    a,
                    clients[a.episode_id],
                    {"kind": a.kind, "severity": a.severity},
                )
                for a in changes.created
            ]
            + [
                AuditRow(
                    "care.alert.updated",
                    a,
                    clients[a.episode_id],
                    {"status": a.status, "severity": a.severity},
                )
                for a in changes.updated
            ],
            system=True,
        )
