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
answer, in the recipients' language (alliance.core.mail_language); the note on the alert in the
clinic's default language, as the scheduler writes it with no one's page open. Runs every scheduler round (alliance.operations.clock.tick), late rounds included: a stage that
fell due while the scheduler was down runs at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import notify
from alliance.care.alert_sync import clinic_alert_settings
from alliance.care.models import Alert, AlertKind, AlertNote, AlertStatus
from alliance.core.mail_language import shared_language
from alliance.operations import outbox
from alliance.operations.models import EmailKind

logger = logging.getLogger(__name__)


def _open_risk() -> QuerySet[Alert]:
    return Alert.objects.select_related("episode__therapist", "episode__client").filter(
        kind=AlertKind.RISK, status=AlertStatus.OPEN
    )


# Why this person is told, in the email's language.
AS_SUPERVISOR = gettext_lazy("their supervisor")
AS_ADMINISTRATOR = gettext_lazy("an administrator")
AS_ADMINISTRATOR_NO_SUPERVISOR = gettext_lazy("an administrator (no supervisor)")


def _minutes(minutes: float) -> str:
    return formats.number_format(minutes, 0 if minutes == int(minutes) else 1)


def _email(alert: Alert, kind: str, people: list[User], minutes: float, who: Promise) -> None:
    therapist = alert.episode.therapist
    code = alert.episode.client.code
    url = settings.SITE_URL + reverse("client_detail", args=[code])
    # In the language the recipients chose (the clinic's default when they differ).
    with translation.override(shared_language(people)):
        subject = _("[%(clinic)s] Unacknowledged urgent risk alert") % {
            "clinic": settings.ALLIANCE_CLINIC_NAME
        }
        body = _(
            "A client of %(therapist)s answered a risk question and the alert has not been "
            "acknowledged for %(minutes)s minutes. You are told as %(who)s.\n\n"
            "Client: %(code)s\nOpen Alliance: %(url)s\n"
        ) % {
            "therapist": therapist.display_name,
            "minutes": _minutes(minutes),
            "who": who,
            "code": code,
            "url": url,
        }
    row = outbox.queue(
        f"{kind}:{alert.pk}",
        kind,
        [p.email for p in people],
        subject,
        body,
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
            people, kind, who = supervisors, EmailKind.ESCALATION_SUPERVISOR, AS_SUPERVISOR
            text = ngettext(
                "Not acknowledged within %(minutes)s minutes: sent to %(count)d supervisor.",
                "Not acknowledged within %(minutes)s minutes: sent to %(count)d supervisors.",
                len(people),
            ) % {"minutes": _minutes(minutes), "count": len(people)}
        else:
            # Nobody supervises this therapist: the administrators hear of it at the first stage,
            # which also completes the second.
            if not claim.update(escalated_at=now, escalated_to_administrators_at=now):
                return False
            people = notify.administrators()
            kind, who = EmailKind.ESCALATION_ADMINISTRATOR, AS_ADMINISTRATOR_NO_SUPERVISOR
            text = ngettext(
                "Not acknowledged within %(minutes)s minutes and no supervisor: sent to "
                "%(count)d administrator.",
                "Not acknowledged within %(minutes)s minutes and no supervisor: sent to "
                "%(count)d administrators.",
                len(people),
            ) % {"minutes": _minutes(minutes), "count": len(people)}
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
            ngettext(
                "Still not acknowledged %(minutes)s minutes after it was raised: sent to "
                "%(count)d administrator.",
                "Still not acknowledged %(minutes)s minutes after it was raised: sent to "
                "%(count)d administrators.",
                len(people),
            )
            % {"minutes": _minutes(minutes), "count": len(people)},
            "administrator",
            len(people),
        )
        _email(alert, EmailKind.ESCALATION_ADMINISTRATOR, people, minutes, AS_ADMINISTRATOR)
    alert.escalated_to_administrators_at = now
    return True
