"""A risk alert always reaches a human: two stages of escalation while nobody acknowledges it.

1. `risk_escalation_minutes` after the alert was raised, still open: the therapist's supervisors are
   told (`Alert.escalated_at`). With no active supervisor, the clinic's administrators are told at
   this stage instead, and the second stage is then already done.
2. `risk_administrator_escalation_minutes` after the first stage, still open: the clinic's
   administrators are told (`Alert.escalated_to_administrators_at`).

Acknowledging (or closing) the alert stops any further stage: both stages look only at open alerts.
Each stage claims the alert with a conditional UPDATE, so two schedulers never both escalate it; the
note, the audit event and the email (an urgent outbox kind: sent at least once) are written in the same
transaction as the claim. The email names the therapist and the client code, never the client or the
answer. Runs every scheduler round (alliance.operations.clock.tick), late rounds included: a stage that
fell due while the scheduler was down runs at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import notify
from alliance.care.alert_sync import clinic_alert_settings
from alliance.care.models import Alert, AlertKind, AlertNote, AlertStatus
from alliance.operations import outbox
from alliance.operations.models import EmailKind

logger = logging.getLogger(__name__)


def _open_risk() -> QuerySet[Alert]:
    return Alert.objects.select_related("episode__therapist", "episode__client").filter(
        kind=AlertKind.RISK, status=AlertStatus.OPEN
    )


def _email(alert: Alert, kind: str, people: list[User], minutes: float, who: str) -> None:
    therapist = alert.episode.therapist
    code = alert.episode.client.code
    url = settings.SITE_URL + reverse("client_detail", args=[code])
    row = outbox.queue(
        f"{kind}:{alert.pk}",
        kind,
        [p.email for p in people],
        f"[{settings.ALLIANCE_CLINIC_NAME}] Unacknowledged urgent risk alert",
        f"A client of {therapist.display_name} answered a risk question and the alert has not been "
        f"acknowledged for {minutes:g} minutes. You are told as {who}.\n\n"
        f"Client: {code}\nOpen Alliance: {url}\n",
        client_id=alert.episode.client_id,
        alert_id=alert.pk,
    )
    if row is None:
        logger.critical(
            "Risk alert %s is unacknowledged and there is nobody to escalate it to "
            "(no active supervisor or administrator)",
            alert.pk,
        )


def _record(alert: Alert, action: str, text: str, stage: str, recipients: int) -> None:
    AlertNote.objects.create(alert=alert, author=None, action=action, text=text)
    log_event("care.alert.escalated", obj=alert, data={"stage": stage, "recipients": recipients})


def escalate_unacknowledged_risk(now: datetime | None = None) -> list[Alert]:
    """Run both stages once; returns the alerts escalated by either stage in this round."""
    now = now or timezone.now()
    alert_settings = clinic_alert_settings()
    first = alert_settings.risk_escalation_minutes
    second = alert_settings.risk_administrator_escalation_minutes
    escalated = []
    for alert in _open_risk().filter(
        escalated_at__isnull=True, created_at__lte=now - timedelta(minutes=first)
    ):
        if _to_supervisors(alert, now, first):
            escalated.append(alert)
    for alert in _open_risk().filter(
        escalated_at__lte=now - timedelta(minutes=second),
        escalated_to_administrators_at__isnull=True,
    ):
        if _to_administrators(alert, now, first + second):
            escalated.append(alert)
    return escalated


def _to_supervisors(alert: Alert, now: datetime, minutes: float) -> bool:
    therapist = alert.episode.therapist
    supervisors = notify.supervisors_of(therapist)
    with transaction.atomic():
        claim = Alert.objects.filter(
            pk=alert.pk, status=AlertStatus.OPEN, escalated_at__isnull=True
        )
        if supervisors:
            if not claim.update(escalated_at=now):
                return False
            people, kind, who = supervisors, EmailKind.ESCALATION_SUPERVISOR, "their supervisor"
            text = (
                f"Not acknowledged within {minutes:g} minutes: sent to {len(people)} supervisor(s)."
            )
        else:
            # Nobody supervises this therapist: the administrators hear of it at the first stage,
            # which also completes the second.
            if not claim.update(escalated_at=now, escalated_to_administrators_at=now):
                return False
            people = notify.administrators()
            kind, who = EmailKind.ESCALATION_ADMINISTRATOR, "an administrator (no supervisor)"
            text = (
                f"Not acknowledged within {minutes:g} minutes and no supervisor: sent to "
                f"{len(people)} administrator(s)."
            )
        _record(
            alert, "escalated", text, "supervisor" if supervisors else "administrator", len(people)
        )
        _email(alert, kind, people, minutes, who)
    alert.escalated_at = now
    return True


def _to_administrators(alert: Alert, now: datetime, minutes: float) -> bool:
    with transaction.atomic():
        claimed = Alert.objects.filter(
            pk=alert.pk,
            status=AlertStatus.OPEN,
            escalated_at__isnull=False,
            escalated_to_administrators_at__isnull=True,
        ).update(escalated_to_administrators_at=now)
        if not claimed:
            return False
        people = notify.administrators()
        _record(
            alert,
            "escalated_admin",
            f"Still not acknowledged {minutes:g} minutes after it was raised: sent to "
            f"{len(people)} administrator(s).",
            "administrator",
            len(people),
        )
        _email(alert, EmailKind.ESCALATION_ADMINISTRATOR, people, minutes, "an administrator")
    alert.escalated_to_administrators_at = now
    return True
