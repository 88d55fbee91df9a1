"""Reminder emails to clients before their appointments, with their check-in link.

The first reminder goes `ClinicSettings.reminder_hours_before` hours before each scheduled
appointment; a second one `measure_nudge_hours_before` hours before when the before-session measures
have not all come in. Only with the client's consent to email and an address on file; the clinic's
wording (ClinicSettings.checkin_email_*, as for a link sent by hand) in the client's language; never a
name or clinical content.

When: `is_due` — from the due time until the appointment starts. A scheduler that was down at the due
time still sends once when it comes back, never after the session started. Once: each message has an
outbox key holding the appointment's scheduled time (``reminder:<appointment>:<time>``), so a second
scheduler round finds it queued, and a moved appointment gets its own reminder while the old one is
cancelled at delivery (`why_unwanted`). The second reminder is skipped when the first one only went
out inside the second one's window (a late start): one email is enough.

`queue_due_reminders()` runs every scheduler round (alliance.operations.clock.tick).
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime, timedelta
from typing import Final

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import pgettext_lazy

from alliance.care.models import (
    Appointment,
    Attendance,
    Client,
    ClinicSettings,
    EpisodeStatus,
    Respondent,
    Response,
)
from alliance.care.sending import compose, fresh_link, why_not_email
from alliance.checkin.copy import supported
from alliance.checkin.flow import before_instruments
from alliance.operations import outbox
from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)

REMINDER_KINDS = (EmailKind.REMINDER, EmailKind.MEASURE_NUDGE)

# One line above the clinic's wording, so that the client knows which session the email is about.
# The session's time only: never what it is for or with whom.
FIRST_LINE: Final = pgettext_lazy("client email", "A reminder of your session on {when}.")
NUDGE_LINE: Final = pgettext_lazy(
    "client email",
    "Your session is on {when}. If you have a few minutes before it, please answer the short questions through the link below.",
)


def is_due(now: datetime, scheduled_at: datetime, hours_before: int) -> bool:
    """A reminder `hours_before` hours ahead is due from then until the appointment starts (late is
    still useful; after the start it is not). 0 hours turns it off."""
    if hours_before <= 0:
        return False
    return scheduled_at - timedelta(hours=hours_before) <= now < scheduled_at


def nudge_needed(
    now: datetime, scheduled_at: datetime, nudge_hours: int, first_queued_at: datetime | None
) -> bool:
    """The second reminder: due like any reminder, but not when the first one was itself queued
    inside the second one's window (the scheduler was down, or the session was booked late): the
    client has just had an email. Whether the measures came in is checked separately."""
    if not is_due(now, scheduled_at, nudge_hours):
        return False
    return first_queued_at is None or first_queued_at < scheduled_at - timedelta(hours=nudge_hours)


def key_for(kind: str, appointment_id: int, scheduled_at: datetime) -> str:
    return f"{kind}:{appointment_id}:{scheduled_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _when(scheduled_at: datetime, lang: str) -> str:
    with translation.override(lang):
        return formats.date_format(timezone.localtime(scheduled_at), "DATETIME_FORMAT")


def _content(
    kind: str, appointment: Appointment, clinic_settings: ClinicSettings
) -> tuple[str, str]:
    """Subject and body of a reminder, with a fresh link (made here, once per message)."""
    client = appointment.episode.client
    lang = supported(client.preferred_language)
    _, token = fresh_link(appointment, None)
    url = settings.SITE_URL + reverse("checkin_landing", args=[token])
    subject, body = compose(client, clinic_settings, url)
    with translation.override(lang):
        line = str(FIRST_LINE if kind == EmailKind.REMINDER else NUDGE_LINE)
    return subject, line.format(when=_when(appointment.scheduled_at, lang)) + "\n\n" + body


def _measures_missing(appointment: Appointment, answered: set[str]) -> bool:
    expected = before_instruments(appointment, appointment.goal_count)  # type: ignore[attr-defined]
    return any(i not in answered for i in expected)


def queue_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Queue every reminder that is due now and not queued yet; returns how many of each kind."""
    now = now or timezone.now()
    clinic_settings = ClinicSettings.load()
    reminder_hours = clinic_settings.reminder_hours_before
    nudge_hours = clinic_settings.measure_nudge_hours_before
    horizon = max(reminder_hours, nudge_hours)
    done = {EmailKind.REMINDER.value: 0, EmailKind.MEASURE_NUDGE.value: 0}
    if horizon <= 0:
        return done
    upcoming = list(
        Appointment.objects.filter(
            attendance=Attendance.SCHEDULED,
            scheduled_at__gt=now,
            scheduled_at__lte=now + timedelta(hours=horizon),
            episode__status=EpisodeStatus.ACTIVE,
            episode__client__email_consent=True,
        )
        .select_related("episode__client")
        .annotate(goal_count=Count("episode__goals"))
        .order_by("scheduled_at", "pk")
    )
    if not upcoming:
        return done
    keys = {
        (kind, a.pk): key_for(kind, a.pk, a.scheduled_at)
        for a in upcoming
        for kind in REMINDER_KINDS
    }
    queued = dict(
        OutboundEmail.objects.filter(key__in=keys.values()).values_list("key", "created_at")
    )
    answered: dict[int, set[str]] = {}
    for appointment_id, instrument in Response.objects.filter(
        appointment__in=upcoming, respondent=Respondent.CLIENT
    ).values_list("appointment_id", "instrument"):
        if appointment_id is not None:
            answered.setdefault(appointment_id, set()).add(instrument)
    for appointment in upcoming:
        client = appointment.episode.client
        if why_not_email(client):
            continue
        first_key = keys[(EmailKind.REMINDER, appointment.pk)]
        nudge_key = keys[(EmailKind.MEASURE_NUDGE, appointment.pk)]
        wanted: list[tuple[str, str]] = []
        if first_key not in queued and is_due(now, appointment.scheduled_at, reminder_hours):
            wanted.append((EmailKind.REMINDER, first_key))
        elif (
            nudge_key not in queued
            and nudge_needed(now, appointment.scheduled_at, nudge_hours, queued.get(first_key))
            and _measures_missing(appointment, answered.get(appointment.pk, set()))
        ):
            wanted.append((EmailKind.MEASURE_NUDGE, nudge_key))
        for kind, key in wanted:
            with transaction.atomic():
                row = outbox.queue(
                    key,
                    kind,
                    [client.email],
                    "",
                    "",
                    client_id=client.pk,
                    appointment_id=appointment.pk,
                    compose=functools.partial(_content, kind, appointment, clinic_settings),
                )
            if row is not None:
                done[kind] += 1
    return done


def why_unwanted(row: OutboundEmail, now: datetime) -> str:
    """Asked by the outbox just before a client-facing message goes out: empty when it is still
    wanted, else why not (the message is then cancelled)."""
    client = Client.objects.filter(pk=row.client_id or 0).first()
    if client is None:
        return "client record gone"
    if not client.email_consent:
        return "client withdrew consent to email"
    if client.email.strip().lower() not in {r.lower() for r in row.recipients.splitlines()}:
        return "client's address changed"
    if row.kind not in REMINDER_KINDS:
        return ""
    appointment = (
        Appointment.objects.filter(pk=row.appointment_id or 0)
        .select_related("episode")
        .annotate(goal_count=Count("episode__goals"))
        .first()
    )
    if appointment is None or appointment.attendance != Attendance.SCHEDULED:
        return "appointment cancelled"
    if appointment.episode.status != EpisodeStatus.ACTIVE:
        return "episode ended"
    if key_for(row.kind, appointment.pk, appointment.scheduled_at) != row.key:
        return "appointment moved"
    if now >= appointment.scheduled_at:
        return "appointment already started"
    if row.kind == EmailKind.MEASURE_NUDGE:
        answered = set(
            Response.objects.filter(
                appointment=appointment, respondent=Respondent.CLIENT
            ).values_list("instrument", flat=True)
        )
        if not _measures_missing(appointment, answered):
            return "before-session measures came in"
    return ""


def sent_reminders(appointment_id: int) -> list[OutboundEmail]:
    """The reminders of an appointment that went out (for tests and the appointment page)."""
    return list(
        OutboundEmail.objects.filter(
            appointment_id=appointment_id, kind__in=REMINDER_KINDS, status=EmailStatus.SENT
        )
    )
