"""Telling therapists about new alerts by email, through the outbox.

- **Urgent (risk)**: at once, always, to the treating therapist (`urgent`), whatever they chose: a risk
  answer must reach a human. The check-in that raised it queues the email in the same request; the
  scheduler's sweep (`notify_new_alerts`, every round) also queues it for a risk alert raised any other
  way (the background recompute), so none is missed. Key ``alert-urgent:<alert>``.
- **Others**, by the therapist's `User.alert_emails`: IMMEDIATE — one email per alert, queued by the
  sweep (``alert:<alert>``); DIGEST — one email a day at `ClinicSettings.alert_digest_hour` (clinic's
  local time) listing the alerts raised since the last digest, by client code and kind
  (``digest:<user>:<local date>``); NONE — nothing.

The sweep looks at alerts raised in the last `SWEEP_LOOKBACK` that are still open (an alert already
acknowledged needs no email); outbox keys make it send each once however often it runs.

No email carries a name, an answer or an alert's explanation: only that there is something, the client
code, the kind, and a link into Alliance, where access control applies.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alliance.accounts.models import AlertEmails, Role, User
from alliance.care.models import Alert, AlertKind, AlertSeverity, AlertStatus, ClinicSettings
from alliance.core.mail_language import staff_language
from alliance.operations import outbox
from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)

SWEEP_LOOKBACK = timedelta(hours=24)
# A digest lists at most this many alerts by line; more are counted.
DIGEST_LINES = 100


def _client_url(code: str) -> str:
    return settings.SITE_URL + reverse("client_detail", args=[code])


def urgent(alerts: Iterable[Alert]) -> int:
    """Queue the urgent email for each risk alert (once per alert); returns how many are queued."""
    queued = 0
    for alert in alerts:
        episode = alert.episode
        therapist = episode.therapist
        code = episode.client.code
        with translation.override(staff_language(therapist)):
            subject = _("[%(clinic)s] Urgent: a client answered a risk question") % {
                "clinic": settings.ALLIANCE_CLINIC_NAME
            }
            body = _(
                "A client on your caseload gave an answer that needs your attention today.\n\n"
                "Client: %(code)s\nOpen Alliance: %(url)s\n"
            ) % {"code": code, "url": _client_url(code)}
        row = outbox.queue(
            f"alert-urgent:{alert.pk}",
            EmailKind.ALERT_URGENT,
            [therapist.email] if therapist.is_active else [],
            subject,
            body,
            client_id=episode.client_id,
            alert_id=alert.pk,
        )
        queued += row is not None
    return queued


def _immediate(alert: Alert) -> None:
    episode = alert.episode
    code = episode.client.code
    with translation.override(staff_language(episode.therapist)):
        subject = _("[%(clinic)s] New alert for client %(code)s") % {
            "clinic": settings.ALLIANCE_CLINIC_NAME,
            "code": code,
        }
        body = _(
            "A new alert was raised for a client on your caseload.\n\nClient: %(code)s\n"
            "Kind: %(kind)s (%(severity)s)\nOpen Alliance: %(url)s\n"
        ) % {
            "code": code,
            "kind": AlertKind(alert.kind).label,
            "severity": str(AlertSeverity(alert.severity).label).lower(),
            "url": _client_url(code),
        }
    outbox.queue(
        f"alert:{alert.pk}",
        EmailKind.ALERT_IMMEDIATE,
        [episode.therapist.email],
        subject,
        body,
        client_id=episode.client_id,
        alert_id=alert.pk,
    )


def notify_new_alerts(now: datetime | None = None) -> int:
    """Queue the urgent and IMMEDIATE emails for open alerts raised recently and not emailed yet;
    returns how many were queued. Two queries when there is nothing new."""
    now = now or timezone.now()
    recent = list(
        Alert.objects.filter(
            status=AlertStatus.OPEN,
            created_at__gte=now - SWEEP_LOOKBACK,
            episode__therapist__is_active=True,
        )
        .select_related("episode__client", "episode__therapist")
        .only(
            "kind",
            "severity",
            "episode__client_id",
            "episode__client__code",
            "episode__therapist__email",
            "episode__therapist__is_active",
            "episode__therapist__alert_emails",
            "episode__therapist__language",
        )
    )
    if not recent:
        return 0
    wanted: dict[str, Alert] = {}
    for alert in recent:
        if alert.kind == AlertKind.RISK:
            wanted[f"alert-urgent:{alert.pk}"] = alert
        elif alert.episode.therapist.alert_emails == AlertEmails.IMMEDIATE:
            wanted[f"alert:{alert.pk}"] = alert
    done = set(OutboundEmail.objects.filter(key__in=wanted).values_list("key", flat=True))
    queued = 0
    for key, alert in wanted.items():
        if key in done:
            continue
        if key.startswith("alert-urgent:"):
            urgent([alert])
        else:
            _immediate(alert)
        queued += 1
    return queued


def digest_due(now: datetime, digest_hour: int) -> bool:
    """Today's digest is due from the clinic's digest hour (local time) until midnight."""
    return timezone.localtime(now).hour >= digest_hour


def send_digests(now: datetime | None = None) -> int:
    """Queue today's digest for each therapist who chose one, once per day; returns how many were
    queued. A day with nothing new is recorded (a cancelled row, never sent) so it is not tried again
    and the next digest still starts from the last one."""
    now = now or timezone.now()
    clinic_settings = ClinicSettings.load()
    if not digest_due(now, clinic_settings.alert_digest_hour):
        return 0
    today = timezone.localdate(now)
    readers = list(
        User.objects.filter(
            is_active=True,
            alert_emails=AlertEmails.DIGEST,
            role__in=(Role.THERAPIST, Role.SUPERVISOR),
        ).only("pk", "email", "language")
    )
    keys = {f"digest:{user.pk}:{today.isoformat()}": user for user in readers}
    done = set(OutboundEmail.objects.filter(key__in=keys).values_list("key", flat=True))
    queued = 0
    for key, user in keys.items():
        if key in done:
            continue
        queued += _digest(user, key, now)
    return queued


def _previous_digest_at(user: User) -> datetime | None:
    return (
        OutboundEmail.objects.filter(
            kind=EmailKind.ALERT_DIGEST, key__startswith=f"digest:{user.pk}:"
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def _digest_text(alerts: list[Alert], since: datetime) -> tuple[str, str]:
    """The digest's subject and body in the active language."""
    lines = [
        f"- {a.episode.client.code}: {AlertKind(a.kind).label} "
        f"({str(AlertSeverity(a.severity).label).lower()})"
        for a in alerts[:DIGEST_LINES]
    ]
    if len(alerts) > DIGEST_LINES:
        lines.append(_("... and %(count)d more.") % {"count": len(alerts) - DIGEST_LINES})
    heading = ngettext(
        "%(count)d new alert on your caseload since %(since)s:",
        "%(count)d new alerts on your caseload since %(since)s:",
        len(alerts),
    ) % {
        "count": len(alerts),
        "since": formats.date_format(timezone.localtime(since), "DATETIME_FORMAT"),
    }
    body = (
        heading
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + _("Open Alliance: %(url)s") % {"url": f"{settings.SITE_URL}{reverse('caseload')}"}
        + "\n\n"
        + _("You chose one email a day for non-urgent alerts; change it under Email in Alliance.")
        + "\n"
    )
    subject = _("[%(clinic)s] Your daily alert digest") % {"clinic": settings.ALLIANCE_CLINIC_NAME}
    return subject, body


def _digest(user: User, key: str, now: datetime) -> int:
    since = _previous_digest_at(user) or now - timedelta(days=1)
    alerts = list(
        Alert.objects.filter(episode__therapist=user, created_at__gt=since, created_at__lte=now)
        .exclude(kind=AlertKind.RISK)  # already sent one by one, at once
        # Already repaired or closed in the app: nothing left to tell the therapist about.
        .exclude(status__in=(AlertStatus.REPAIRED, AlertStatus.CLOSED))
        .select_related("episode__client")
        .only("kind", "severity", "created_at", "episode__client__code")
        .order_by("episode__client__code", "created_at")
    )
    if not alerts:
        # The day's record, so that the digest is not tried again today; never sent.
        OutboundEmail.objects.get_or_create(
            key=key,
            defaults={
                "kind": EmailKind.ALERT_DIGEST,
                "recipients": user.email,
                "subject": "",
                "body": "",
                "status": EmailStatus.CANCELLED,
                "last_error": "nothing new since the last digest",
                "created_at": now,
            },
        )
        return 0
    with translation.override(staff_language(user)):
        subject, body = _digest_text(alerts, since)
    row = outbox.queue(key, EmailKind.ALERT_DIGEST, [user.email], subject, body)
    return int(row is not None)
