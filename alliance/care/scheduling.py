"""Booking, recording, moving and cancelling appointments, and keeping session numbers in date order.

Every write here runs inside the caller's transaction. Numbers are decided by
alliance.care.schedule_rules.renumber; this module only reads what it needs and writes the changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care.models import Alert, Appointment, Attendance, Episode, Response
from alliance.care.schedule_rules import Busy, Slot, clashes, renumber
from alliance.care.tasks import schedule_recompute
from alliance.checkin.links import revoke
from alliance.checkin.models import CheckinLink

CANCELLATIONS = (Attendance.CANCELLED, Attendance.LATE_CANCEL)


def is_changeable(appointment: Appointment, now: datetime | None = None) -> bool:
    """Only sessions that are still ahead and unrecorded can be moved or cancelled here; anything else is
    recorded on the session page."""
    return (
        appointment.attendance == Attendance.SCHEDULED
        and appointment.scheduled_at > (now or timezone.now())
        and appointment.episode.is_active
    )


def _lock(episode: Episode) -> None:
    # Serialises numbering per episode on PostgreSQL; SQLite already serialises writers.
    Episode.objects.select_for_update().filter(pk=episode.pk).values_list("pk").first()


def renumber_episode(episode: Episode, *, unnumbered: Sequence[int] = ()) -> int:
    """Bring the episode's session numbers into date order (see schedule_rules.renumber). `unnumbered`
    are appointments just recorded that need a number after the kept ones. Returns how many changed."""
    now = timezone.now()
    rows = list(
        Appointment.objects.filter(episode=episode)
        .order_by("scheduled_at", "pk")
        .values_list("pk", "scheduled_at", "session_number", "attendance")
    )
    answered = set(
        Response.objects.filter(episode=episode, appointment__isnull=False).values_list(
            "appointment_id", flat=True
        )
    )
    alerted_ids: set[int] = set()
    alerted_numbers: set[int] = set()
    for appointment_id, number in Alert.objects.filter(episode=episode).values_list(
        "appointment_id", "session_number"
    ):
        if appointment_id is not None:
            alerted_ids.add(appointment_id)
        if number is not None:
            alerted_numbers.add(number)
    slots = [
        Slot(
            key=pk,
            at=at,
            number=None if pk in unnumbered else number,
            fixed=pk in unnumbered
            or attendance != Attendance.SCHEDULED
            or at <= now
            or pk in answered
            or pk in alerted_ids
            or number in alerted_numbers,
        )
        for pk, at, number, attendance in rows
    ]
    wanted = renumber(slots)
    current = {pk: number for pk, _, number, _ in rows}
    changed = {pk: n for pk, n in wanted.items() if current[pk] != n}
    if not changed:
        return 0
    # Two phases, because of the unique (episode, session_number) constraint: first out of the way,
    # above every number in use or wanted, then into place.
    parking = max([*current.values(), *wanted.values()]) + 1
    for offset, pk in enumerate(changed):
        Appointment.objects.filter(pk=pk).update(session_number=parking + offset)
    for pk, number in changed.items():
        Appointment.objects.filter(pk=pk).update(session_number=number)
    log_event(
        "care.appointment.renumbered",
        obj=episode,
        data={"appointments": sorted(changed), "numbers": [changed[k] for k in sorted(changed)]},
    )
    return len(changed)


def clashing(
    therapist: User, starts: Sequence[datetime], minutes: int, *, ignore: int | None = None
) -> list[Busy]:
    """The therapist's other sessions (not cancelled) that overlap any of these."""
    if not starts:
        return []
    span = timedelta(minutes=minutes)
    wanted = [(start, start + span) for start in starts]
    # No session is longer than a day, so a day's margin catches every overlap.
    nearby = (
        Appointment.objects.filter(
            episode__therapist=therapist,
            scheduled_at__gte=min(starts) - timedelta(days=1),
            scheduled_at__lte=max(starts) + span,
        )
        .exclude(attendance__in=CANCELLATIONS)
        .exclude(pk=ignore or 0)
        .values_list("scheduled_at", "duration_minutes", "episode__client__code")
    )
    busy = [Busy(at, at + timedelta(minutes=length), code) for at, length, code in nearby]
    return clashes(wanted, busy)


def book(episode: Episode, starts: Sequence[datetime], minutes: int) -> list[Appointment]:
    """Book future sessions; their numbers follow the dates."""
    with transaction.atomic():
        _lock(episode)
        top = episode.appointments.aggregate(n=Max("session_number"))["n"] or 0
        created = [
            Appointment.objects.create(
                episode=episode,
                scheduled_at=start,
                duration_minutes=minutes,
                session_number=top + i,
            )
            for i, start in enumerate(sorted(starts), start=1)
        ]
        renumber_episode(episode)
    for appointment in created:
        appointment.refresh_from_db(fields=["session_number"])
    return created


def record_past(episode: Episode, start: datetime, minutes: int, attendance: str) -> Appointment:
    """A session that already took place (or did not): stored with what happened, numbered after the
    sessions already recorded."""
    with transaction.atomic():
        _lock(episode)
        top = episode.appointments.aggregate(n=Max("session_number"))["n"] or 0
        appointment = Appointment.objects.create(
            episode=episode,
            scheduled_at=start,
            duration_minutes=minutes,
            session_number=top + 1,
            attendance=attendance,
            attendance_recorded_at=timezone.now(),
        )
        renumber_episode(episode, unnumbered=[appointment.pk])
        schedule_recompute(episode.pk)
    appointment.refresh_from_db(fields=["session_number"])
    return appointment


def _revoke_live_links(appointment: Appointment) -> int:
    """A link's expiry follows the appointment's time, so a moved or cancelled session's links go; the
    therapist sends a fresh one for the new time."""
    links = list(
        CheckinLink.objects.filter(
            appointment=appointment, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
    )
    for link in links:
        revoke(link)
        log_event("checkin.link.revoked", obj=link, client_id=appointment.episode.client_id)
    return len(links)


def move(appointment: Appointment, start: datetime) -> int:
    """Move a session; returns how many check-in links were revoked."""
    with transaction.atomic():
        _lock(appointment.episode)
        if start == appointment.scheduled_at:
            return 0
        appointment.moved_from = appointment.scheduled_at
        appointment.scheduled_at = start
        appointment.save(update_fields=["scheduled_at", "moved_from"])
        revoked = _revoke_live_links(appointment)
        renumber_episode(appointment.episode)
    appointment.refresh_from_db(fields=["session_number"])
    return revoked


def cancel(appointment: Appointment, attendance: str) -> int:
    """Cancel with notice or late; returns how many check-in links were revoked."""
    if attendance not in CANCELLATIONS:
        raise ValueError(f"Not a cancellation: {attendance}")
    with transaction.atomic():
        _lock(appointment.episode)
        appointment.attendance = attendance
        appointment.attendance_recorded_at = timezone.now()
        appointment.save(update_fields=["attendance", "attendance_recorded_at"])
        revoked = _revoke_live_links(appointment)
        renumber_episode(appointment.episode)
        # Late cancellations feed the disengagement rule.
        schedule_recompute(appointment.episode_id)
    appointment.refresh_from_db(fields=["session_number"])
    return revoked
