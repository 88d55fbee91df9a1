"""A risk alert always reaches a human: if the therapist has not acknowledged an urgent alert within
the clinic's `risk_escalation_minutes`, their supervisors are told (and, with no supervisor, the
clinic's administrators)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.audit import log_event
from alliance.accounts.models import Role, User
from alliance.care import notify
from alliance.care.alert_sync import clinic_alert_settings
from alliance.care.models import Alert, AlertKind, AlertNote, AlertStatus


def escalate_unacknowledged_risk() -> list[Alert]:
    minutes = clinic_alert_settings().risk_escalation_minutes
    cutoff = timezone.now() - timedelta(minutes=minutes)
    due = list(
        Alert.objects.select_related("episode__therapist", "episode__client").filter(
            kind=AlertKind.RISK,
            status=AlertStatus.OPEN,
            escalated_at__isnull=True,
            created_at__lte=cutoff,
        )
    )
    escalated = []
    for alert in due:
        with transaction.atomic():
            # Claim the row with a conditional UPDATE so that two workers never both escalate it.
            claimed = Alert.objects.filter(pk=alert.pk, escalated_at__isnull=True).update(
                escalated_at=timezone.now()
            )
            if not claimed:
                continue
            therapist = alert.episode.therapist
            people = notify.supervisors_of(therapist) or list(
                User.objects.filter(role=Role.ADMINISTRATOR, is_active=True)
            )
            AlertNote.objects.create(
                alert=alert,
                author=None,
                action="escalated",
                text=f"Not acknowledged within {minutes:g} minutes: sent to {len(people)} "
                f"{'supervisor' if notify.supervisors_of(therapist) else 'administrator'}(s).",
            )
            log_event("care.alert.escalated", obj=alert, data={"recipients": len(people)})
        url = settings.SITE_URL + reverse("client_detail", args=[alert.episode.client.code])
        notify.send(
            f"[{settings.ALLIANCE_CLINIC_NAME}] Unacknowledged urgent risk alert",
            f"A client of {therapist.display_name} answered a risk question and the alert has not been "
            f"acknowledged within {minutes:g} minutes.\n\nClient: {alert.episode.client.code}\n"
            f"Open Alliance: {url}\n",
            [p.email for p in people],
        )
        escalated.append(alert)
    return escalated
