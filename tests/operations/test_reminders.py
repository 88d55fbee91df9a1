"""Reminders to clients: at the clinic's chosen time, with a working check-in link, only with consent,
no name or clinical content, each once — late if the scheduler was down, never after the session
started, never twice when a sender dies mid-send — and a second one only when the measure is missing."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from django.core import mail
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from alliance.care.models import Appointment, Attendance, ClinicSettings, Respondent
from alliance.care.reminders import is_due, key_for, nudge_needed
from alliance.checkin.links import resolve
from alliance.operations import outbox
from alliance.operations.clock import tick
from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail
from tests import factories
from tests.conftest import Clinic

BASE = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


def _setup(clinic: Clinic, *, lang: str = "en", consent: bool = True) -> Appointment:
    clinic.client.email_consent = consent
    clinic.client.preferred_language = lang
    clinic.client.save()
    appointment = clinic.appointment
    appointment.scheduled_at = BASE + timedelta(days=2)
    appointment.save()
    return appointment


def _tick_at(moment: datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        done = tick()
    assert all(count >= 0 for count in done.values()), done  # no step failed
    return done


def _token(body: str) -> str:
    url = next(word for word in body.split() if "/c/" in word)
    return url.rstrip("/").split("/")[-1]


@given(
    st.integers(min_value=-500, max_value=500),
    st.integers(min_value=0, max_value=168),
)
def test_a_reminder_is_due_from_its_time_until_the_session_starts(
    minutes_before: int, hours: int
) -> None:
    scheduled = BASE
    now = scheduled - timedelta(minutes=minutes_before)
    due = is_due(now, scheduled, hours)
    assert due == (hours > 0 and 0 < minutes_before <= hours * 60)


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=48))
def test_no_second_reminder_right_after_a_late_first_one(minutes_before: int, hours: int) -> None:
    scheduled = BASE
    now = scheduled - timedelta(minutes=minutes_before)
    window = scheduled - timedelta(hours=hours)
    if not is_due(now, scheduled, hours):
        assert not nudge_needed(now, scheduled, hours, None)
        return
    assert nudge_needed(now, scheduled, hours, None)  # no first reminder at all: nudge
    assert nudge_needed(now, scheduled, hours, window - timedelta(hours=1))  # an early first one
    assert not nudge_needed(now, scheduled, hours, window + timedelta(seconds=1))  # a late one


def test_the_reminder_goes_once_at_the_chosen_time_with_a_working_link(clinic: Clinic) -> None:
    appointment = _setup(clinic)
    _tick_at(appointment.scheduled_at - timedelta(hours=25))
    assert mail.outbox == []  # not yet
    _tick_at(appointment.scheduled_at - timedelta(hours=24))
    _tick_at(appointment.scheduled_at - timedelta(hours=23))
    (message,) = mail.outbox
    assert message.to == [clinic.client.email]
    text = f"{message.subject} {message.body}"
    assert clinic.client.name not in text and "Marguerite" not in text
    assert "PHQ" not in text and "GAD" not in text
    with time_machine.travel(appointment.scheduled_at - timedelta(hours=23)):
        assert resolve(_token(str(message.body))).link is not None


def test_spanish_client_gets_spanish(clinic: Clinic) -> None:
    appointment = _setup(clinic, lang="es")
    _tick_at(appointment.scheduled_at - timedelta(hours=20))
    (message,) = mail.outbox
    assert "Le recordamos su sesión" in message.body and "Su cuestionario" in message.subject


def test_without_consent_or_address_no_reminder(clinic: Clinic) -> None:
    appointment = _setup(clinic, consent=False)
    _tick_at(appointment.scheduled_at - timedelta(hours=20))
    clinic.client.email_consent = True
    clinic.client.email = ""
    clinic.client.save()
    _tick_at(appointment.scheduled_at - timedelta(hours=19))
    assert mail.outbox == [] and not OutboundEmail.objects.filter(kind=EmailKind.REMINDER).exists()


def test_late_start_sends_once_but_never_after_the_session_started(clinic: Clinic) -> None:
    appointment = _setup(clinic)
    settings_row = ClinicSettings.load()
    settings_row.measure_nudge_hours_before = 0
    settings_row.save()
    # The scheduler was down at the due time and comes back 2 hours before the session.
    _tick_at(appointment.scheduled_at - timedelta(hours=2))
    _tick_at(appointment.scheduled_at - timedelta(hours=1))
    assert len(mail.outbox) == 1
    other = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=2,
        scheduled_at=BASE + timedelta(days=5),
        attendance=Attendance.SCHEDULED,
    )
    _tick_at(other.scheduled_at + timedelta(minutes=1))  # came back after it started
    assert len(mail.outbox) == 1
    assert not OutboundEmail.objects.filter(appointment_id=other.pk).exists()
    _tick_at(other.scheduled_at - timedelta(minutes=1))  # the control: a minute before, it goes
    assert len(mail.outbox) == 2


def test_a_moved_appointment_gets_its_own_reminder_and_the_old_one_is_cancelled(
    clinic: Clinic,
) -> None:
    appointment = _setup(clinic)
    old_time = appointment.scheduled_at
    with time_machine.travel(old_time - timedelta(hours=23), tick=False):
        # Queued but not delivered yet (the worker is slow) when the therapist moves the session.
        from alliance.care.reminders import queue_due_reminders

        queue_due_reminders()
    appointment.scheduled_at = old_time + timedelta(hours=5)
    appointment.moved_from = old_time
    appointment.save()
    _tick_at(old_time - timedelta(hours=22))  # delivery finds the old one unwanted
    old = OutboundEmail.objects.get(key=key_for(EmailKind.REMINDER, appointment.pk, old_time))
    assert old.status == EmailStatus.CANCELLED and old.last_error == "appointment moved"
    _tick_at(appointment.scheduled_at - timedelta(hours=23))
    assert len(mail.outbox) == 1
    new = OutboundEmail.objects.get(
        key=key_for(EmailKind.REMINDER, appointment.pk, appointment.scheduled_at)
    )
    assert new.status == EmailStatus.SENT


def test_cancelled_appointment_or_withdrawn_consent_cancels_a_queued_reminder(
    clinic: Clinic,
) -> None:
    appointment = _setup(clinic)
    from alliance.care.reminders import queue_due_reminders

    with time_machine.travel(appointment.scheduled_at - timedelta(hours=23), tick=False):
        queue_due_reminders()
    clinic.client.email_consent = False
    clinic.client.save()
    _tick_at(appointment.scheduled_at - timedelta(hours=22))
    assert mail.outbox == []
    (reminder,) = OutboundEmail.objects.filter(kind=EmailKind.REMINDER)
    assert reminder.last_error == "client withdrew consent to email"


def test_the_second_reminder_only_when_the_measure_has_not_come_in(clinic: Clinic) -> None:
    appointment = _setup(clinic)  # PHQ-9 is in (fixture); GAD-7 is missing
    _tick_at(appointment.scheduled_at - timedelta(hours=24))
    _tick_at(appointment.scheduled_at - timedelta(hours=3))
    _tick_at(appointment.scheduled_at - timedelta(hours=2))
    assert (
        len(mail.outbox) == 2
        and "A reminder of your session" in mail.outbox[0].body
        and "If you have a few minutes" in mail.outbox[1].body
    )
    nudge = OutboundEmail.objects.get(kind=EmailKind.MEASURE_NUDGE)
    assert nudge.key == key_for(EmailKind.MEASURE_NUDGE, appointment.pk, appointment.scheduled_at)

    # A second appointment whose measures are all in gets no second reminder.
    other = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=2,
        scheduled_at=BASE + timedelta(days=9),
        attendance=Attendance.SCHEDULED,
    )
    for instrument in clinic.episode.outcome_instruments:
        factories.ResponseFactory.create(
            episode=clinic.episode,
            appointment=other,
            instrument=instrument,
            respondent=Respondent.CLIENT,
        )
    mail.outbox.clear()
    _tick_at(other.scheduled_at - timedelta(hours=24))
    _tick_at(other.scheduled_at - timedelta(hours=3))
    assert len(mail.outbox) == 1  # the first reminder only


def test_a_reminder_left_mid_send_by_a_killed_worker_is_never_sent_twice(clinic: Clinic) -> None:
    appointment = _setup(clinic)
    due = appointment.scheduled_at - timedelta(hours=24)
    from alliance.care.reminders import queue_due_reminders

    with time_machine.travel(due, tick=False):
        queue_due_reminders()
    # The worker claimed it, handed it to the mail server, and was killed before recording that.
    row = OutboundEmail.objects.get(kind=EmailKind.REMINDER)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.SENDING, claimed_at=due, claimed_by="worker:dead:1"
    )
    # Restarted worker and scheduler rounds, past the lease and up to the session.
    for minutes in (1, 5, outbox.SENDING_LEASE.seconds // 60 + 1, 60, 600):
        _tick_at(due + timedelta(minutes=minutes))
    assert OutboundEmail.objects.get(pk=row.pk).status == EmailStatus.UNCERTAIN
    assert mail.outbox == []  # the one copy (maybe) went out before the kill; never a second
    assert OutboundEmail.objects.filter(kind=EmailKind.REMINDER).count() == 1
