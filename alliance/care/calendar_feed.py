"""A therapist's personal iCalendar feed.

The URL's token is the credential (256 bits, as for check-in links; only its SHA-256 digest is stored).
The feed carries what a calendar needs and nothing more: the time, the session number and the client's
code. Never a name, never clinical content, because calendars are synced to phones and third-party
services the clinic does not control.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import icalendar
from django.db import transaction
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care.models import Appointment, Attendance, CalendarFeed
from alliance.checkin import tokens

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
CANCELLED = (Attendance.CANCELLED, Attendance.LATE_CANCEL)


def issue(user: User) -> str:
    """Create or renew the user's feed; returns the new token (shown once). The old token stops working
    as soon as this commits, because its digest is overwritten."""
    token = tokens.new_token()
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            user=user,
            defaults={
                "token_digest": tokens.digest(token),
                "created_at": timezone.now(),
                "last_used_at": None,
            },
        )
    return token


def owner_of(token: str) -> CalendarFeed | None:
    if not tokens.looks_like_token(token):
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_digest=tokens.digest(token))
        .first()
    )
    if feed is None or not tokens.matches(token, feed.token_digest):
        return None
    if not (feed.user.is_active and feed.user.is_clinician):
        return None
    return feed


def appointments_for(user: User, now: datetime | None = None) -> Iterable[Appointment]:
    now = now or timezone.now()
    return (
        Appointment.objects.filter(
            episode__therapist=user,
            scheduled_at__gte=now - PAST,
            scheduled_at__lte=now + AHEAD,
        )
        .select_related("episode__client")
        .only(
            "pk",
            "scheduled_at",
            "duration_minutes",
            "session_number",
            "attendance",
            "episode__client__code",
        )
        .order_by("scheduled_at")
    )


def uid(appointment_pk: int, host: str) -> str:
    """Stable per appointment, so that a moved session moves in the calendar instead of doubling."""
    return f"alliance-appointment-{appointment_pk}@{host.split(':')[0] or 'alliance'}"


def build(
    appointments: Iterable[Appointment], *, host: str, session_url: str, clinic: str
) -> bytes:
    """`session_url` is the session page's absolute URL with 0 in place of the appointment id."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Alliance//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{clinic} sessions")
    # Calendar apps that honour it re-read the feed hourly.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = timezone.now()
    for appointment in appointments:
        event = icalendar.Event()
        event.add("uid", uid(appointment.pk, host))
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.scheduled_at)
        event.add(
            "dtend", appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes)
        )
        event.add(
            "summary", f"Session {appointment.session_number} · {appointment.episode.client.code}"
        )
        event.add("status", "CANCELLED" if appointment.attendance in CANCELLED else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if appointment.attendance in CANCELLED else "OPAQUE")
        event.add("url", session_url.replace("/0/", f"/{appointment.pk}/"))
        calendar.add_component(event)
    return calendar.to_ical()
