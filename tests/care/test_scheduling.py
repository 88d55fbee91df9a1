"""Booking, recording, moving and cancelling sessions; session numbers; the agenda and its queries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care.models import Appointment, Attendance, Episode
from alliance.checkin.links import create_link
from alliance.checkin.models import CheckinLink
from tests import factories
from tests.care.builders import http_as
from tests.conftest import Clinic


def _when(at: datetime) -> dict[str, str]:
    local = timezone.localtime(at)
    return {"date": f"{local:%Y-%m-%d}", "time": f"{local:%H:%M}"}


def _book(at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        **_when(at),
        "duration_minutes": "50",
        "repeat": "once",
        "count": "1",
        "happened": "",
        "submission_id": str(uuid.uuid4()),
        **extra,
    }


def _numbers(episode: Episode) -> list[tuple[int, str]]:
    """(session number, attendance) in date order."""
    return list(
        Appointment.objects.filter(episode=episode)
        .order_by("scheduled_at")
        .values_list("session_number", "attendance")
    )


def _at(days: float, hour: int = 10) -> datetime:
    day = timezone.localtime() + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def history(clinic: Clinic) -> Episode:
    """The owner's episode with two attended sessions and two booked ahead (no answers yet)."""
    episode = factories.EpisodeFactory.create(therapist=clinic.owner)
    for number, days in ((1, -14), (2, -7)):
        factories.AppointmentFactory.create(
            episode=episode, session_number=number, scheduled_at=_at(days)
        )
    for number, days in ((3, 7), (4, 14)):
        factories.AppointmentFactory.create(
            episode=episode,
            session_number=number,
            scheduled_at=_at(days),
            attendance=Attendance.SCHEDULED,
        )
    return episode


def test_booking_page_shows_the_form_and_is_not_cached(clinic: Clinic) -> None:
    page = http_as(clinic.owner).get(reverse("appointment_book", args=[clinic.episode.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="repeat"' in body and 'name="happened"' in body
    assert "no-store" in page["Cache-Control"]


def test_a_weekly_series_is_booked_in_date_order_after_the_answered_session(
    clinic: Clinic,
) -> None:
    http = http_as(clinic.owner)
    start = _at(3, hour=15)
    page = http.post(
        reverse("appointment_book", args=[clinic.episode.pk]),
        _book(start, repeat="weekly", count="4", duration_minutes="60"),
    )
    assert page.status_code == 302
    booked = list(
        Appointment.objects.filter(episode=clinic.episode, scheduled_at__gte=start).order_by(
            "scheduled_at"
        )
    )
    assert [a.scheduled_at for a in booked] == [start + timedelta(weeks=i) for i in range(4)]
    # Tomorrow's session 1 already has an answer, so it keeps its number.
    assert [a.session_number for a in booked] == [2, 3, 4, 5]
    assert {a.duration_minutes for a in booked} == {60}
    assert "4 sessions booked" in http.get(page["Location"]).content.decode()


def test_a_session_booked_between_others_renumbers_those_still_ahead(
    clinic: Clinic, history: Episode
) -> None:
    page = http_as(clinic.owner).post(reverse("appointment_book", args=[history.pk]), _book(_at(3)))
    assert page.status_code == 302
    assert _numbers(history) == [
        (1, "attended"),
        (2, "attended"),
        (3, "scheduled"),
        (4, "scheduled"),
        (5, "scheduled"),
    ]
    new = Appointment.objects.get(episode=history, scheduled_at=_at(3))
    assert new.session_number == 3


def test_a_session_with_an_answer_or_an_alert_keeps_its_number(
    clinic: Clinic, history: Episode
) -> None:
    answered = Appointment.objects.get(episode=history, session_number=3)
    factories.ResponseFactory.create(episode=history, appointment=answered)
    factories.AlertFactory.create(episode=history, session_number=4)
    http_as(clinic.owner).post(reverse("appointment_book", args=[history.pk]), _book(_at(3)))
    assert Appointment.objects.get(pk=answered.pk).session_number == 3
    assert Appointment.objects.get(episode=history, scheduled_at=_at(14)).session_number == 4
    assert Appointment.objects.get(episode=history, scheduled_at=_at(3)).session_number == 5


def test_a_date_in_the_past_must_say_what_happened(clinic: Clinic, history: Episode) -> None:
    http = http_as(clinic.owner)
    url = reverse("appointment_book", args=[history.pk])
    refused = http.post(url, _book(_at(-3)))
    assert refused.status_code == 400
    assert "This date is in the past: record what happened." in refused.content.decode()
    assert Appointment.objects.filter(episode=history).count() == 4

    recorded = http.post(url, _book(_at(-3), happened="no_show"))
    assert recorded.status_code == 302
    session = Appointment.objects.get(episode=history, scheduled_at=_at(-3))
    assert session.attendance == "no_show" and session.attendance_recorded_at is not None
    # Numbered after the recorded sessions; the two still ahead move up.
    assert _numbers(history) == [
        (1, "attended"),
        (2, "attended"),
        (3, "no_show"),
        (4, "scheduled"),
        (5, "scheduled"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"repeat": "weekly", "count": "3"}, "A series can only start in the future."),
        ({"happened": "attended", "days": 2}, "This session has not started yet"),
        ({"repeat": "once", "count": "5", "days": 2}, "Choose weekly or every two weeks"),
        ({"count": "53", "repeat": "weekly", "days": 2}, "less than or equal to 52"),
        ({"date": "2026-02-30"}, "Enter a valid date"),
        ({"days": 900}, "Book at most two years ahead."),
    ],
)
def test_bad_bookings_say_why(clinic: Clinic, data: dict[str, Any], message: str) -> None:
    days = data.pop("days", -2)
    page = http_as(clinic.owner).post(
        reverse("appointment_book", args=[clinic.episode.pk]), _book(_at(days), **data)
    )
    assert page.status_code == 400
    assert message in page.content.decode()
    assert Appointment.objects.filter(episode=clinic.episode).count() == 1


def test_an_overlapping_booking_is_refused_unless_confirmed(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    url = reverse("appointment_book", args=[clinic.episode.pk])
    other = factories.EpisodeFactory.create(therapist=clinic.owner)
    factories.AppointmentFactory.create(
        episode=other, scheduled_at=_at(5), attendance=Attendance.SCHEDULED
    )
    refused = http.post(url, _book(_at(5) + timedelta(minutes=30)))
    assert refused.status_code == 400
    body = refused.content.decode()
    assert other.client.code in body and other.client.name not in body
    assert 'name="overlap_ok"' in body
    booked = http.post(url, _book(_at(5) + timedelta(minutes=30), overlap_ok="on"))
    assert booked.status_code == 302
    assert Appointment.objects.filter(episode=clinic.episode).count() == 2


def test_a_double_submitted_series_books_once(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    url = reverse("appointment_book", args=[clinic.episode.pk])
    data = _book(_at(4), repeat="fortnightly", count="3")
    first = http.post(url, data)
    second = http.post(url, data)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert Appointment.objects.filter(episode=clinic.episode).count() == 4


def test_a_double_submitted_move_or_cancel_acts_once(clinic: Clinic, history: Episode) -> None:
    http = http_as(clinic.owner)
    session3 = Appointment.objects.get(episode=history, session_number=3)
    move = {**_when(_at(8)), "submission_id": str(uuid.uuid4())}
    url = reverse("appointment_move", args=[session3.pk])
    assert http.post(url, move).status_code == http.post(url, move).status_code == 302
    assert Appointment.objects.get(pk=session3.pk).moved_from == _at(7)
    cancel = {"kind": "cancelled", "submission_id": str(uuid.uuid4())}
    url = reverse("appointment_cancel", args=[session3.pk])
    assert http.post(url, cancel).status_code == http.post(url, cancel).status_code == 302
    assert Appointment.objects.get(pk=session3.pk).attendance == "cancelled"


def test_supervisors_and_colleagues_cannot_book(clinic: Clinic) -> None:
    url = reverse("appointment_book", args=[clinic.episode.pk])
    for user in (clinic.supervisor, clinic.colleague):
        assert http_as(user).post(url, _book(_at(4))).status_code == 404
    assert Appointment.objects.filter(episode=clinic.episode).count() == 1


def test_an_ended_episode_cannot_be_booked(clinic: Clinic) -> None:
    Episode.objects.filter(pk=clinic.episode.pk).update(
        status="ended", ended_on=timezone.localdate(), end_reason="planned"
    )
    http = http_as(clinic.owner)
    url = reverse("appointment_book", args=[clinic.episode.pk])
    assert "Sessions can only be booked in an active episode" in http.get(url).content.decode()
    assert http.post(url, _book(_at(4))).status_code == 400
    assert Appointment.objects.filter(episode=clinic.episode).count() == 1


def test_moving_a_session_keeps_where_it_was_renumbers_and_revokes_its_link(
    clinic: Clinic, history: Episode
) -> None:
    session3 = Appointment.objects.get(episode=history, session_number=3)
    link, _token = create_link(session3)
    page = http_as(clinic.owner).post(
        reverse("appointment_move", args=[session3.pk]),
        {**_when(_at(20)), "submission_id": str(uuid.uuid4())},
    )
    assert page.status_code == 302
    moved = Appointment.objects.get(pk=session3.pk)
    assert moved.scheduled_at == _at(20) and moved.moved_from == _at(7)
    assert moved.session_number == 4
    assert Appointment.objects.get(episode=history, scheduled_at=_at(14)).session_number == 3
    assert CheckinLink.objects.get(pk=link.pk).revoked_at is not None


def test_a_session_cannot_be_moved_into_the_past(clinic: Clinic) -> None:
    page = http_as(clinic.owner).post(
        reverse("appointment_move", args=[clinic.appointment.pk]),
        {**_when(_at(-1)), "submission_id": str(uuid.uuid4())},
    )
    assert page.status_code == 400
    assert "A session can only be moved to a time still ahead." in page.content.decode()
    assert Appointment.objects.get(pk=clinic.appointment.pk).moved_from is None


def test_a_recorded_session_is_neither_moved_nor_cancelled(
    clinic: Clinic, history: Episode
) -> None:
    attended = Appointment.objects.get(episode=history, session_number=1)
    http = http_as(clinic.owner)
    move = reverse("appointment_move", args=[attended.pk])
    assert "can be moved" in http.get(move).content.decode()
    refused = http.post(move, {**_when(_at(9)), "submission_id": str(uuid.uuid4())})
    assert refused.status_code == 400
    cancel = http.post(
        reverse("appointment_cancel", args=[attended.pk]),
        {"kind": "cancelled", "submission_id": str(uuid.uuid4())},
    )
    assert cancel.status_code == 400
    assert Appointment.objects.get(pk=attended.pk).attendance == "attended"


def test_cancelling_late_records_it_and_revokes_the_link(clinic: Clinic) -> None:
    url = reverse("appointment_cancel", args=[clinic.appointment.pk])
    http = http_as(clinic.owner)
    missing = http.post(url, {"submission_id": str(uuid.uuid4())})
    assert missing.status_code == 400
    assert "Choose with notice or late." in missing.content.decode()
    page = http.post(url, {"kind": "late_cancel", "submission_id": str(uuid.uuid4())})
    assert page.status_code == 302
    cancelled = Appointment.objects.get(pk=clinic.appointment.pk)
    assert cancelled.attendance == "late_cancel" and cancelled.attendance_recorded_at
    assert not CheckinLink.objects.filter(appointment=cancelled, revoked_at__isnull=True).exists()
    shown = http.get(page["Location"]).content.decode()
    assert ": late cancellation." in shown and "send the client a fresh one" in shown


def test_client_page_lists_upcoming_sessions_with_actions_for_the_owner_only(
    clinic: Clinic,
) -> None:
    url = reverse("client_detail", args=[clinic.client.code])
    move = reverse("appointment_move", args=[clinic.appointment.pk])
    book = reverse("appointment_book", args=[clinic.episode.pk])
    owner_page = http_as(clinic.owner).get(url).content.decode()
    assert "Coming up" in owner_page and move in owner_page and book in owner_page
    supervisor_page = http_as(clinic.supervisor).get(url).content.decode()
    assert "Coming up" in supervisor_page
    assert move not in supervisor_page and book not in supervisor_page


# -- The agenda ---------------------------------------------------------------------------------


def test_agenda_shows_today_with_whether_the_measures_came_in(clinic: Clinic) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    if timezone.localtime(soon).date() != timezone.localdate():
        pytest.skip("too close to midnight for a session later today")
    today = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=2,
        scheduled_at=soon,
        attendance=Attendance.SCHEDULED,
    )
    factories.ResponseFactory.create(episode=clinic.episode, appointment=today, instrument="phq9")
    page = http_as(clinic.owner).get(reverse("agenda"))
    body = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    today_part = body.split('id="today-head"')[1].split("Later this week")[0]
    assert clinic.client.code in today_part and clinic.client.name in today_part
    assert "Session 2" in today_part
    assert "In: PHQ-9 · not yet: GAD-7" in today_part
    assert reverse("appointment_detail", args=[today.pk]) in today_part
    assert reverse("appointment_brief", args=[today.pk]) in today_part


def test_agenda_week_and_day_navigation(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    tomorrow = timezone.localtime(clinic.appointment.scheduled_at).date()
    year, week, _ = tomorrow.isocalendar()
    week_page = http.get(reverse("agenda"), {"week": f"{year}-W{week:02d}"}).content.decode()
    assert clinic.client.code in week_page
    # Measures for session 1: PHQ-9 came in; GAD-7 and the goals rating did not.
    assert "not yet: GAD-7, Goal-Based Outcomes" in week_page
    day_page = http.get(reverse("agenda"), {"day": f"{tomorrow:%Y-%m-%d}"}).content.decode()
    assert clinic.client.code in day_page
    other_day = http.get(reverse("agenda"), {"day": f"{tomorrow + timedelta(days=1):%Y-%m-%d}"})
    assert clinic.client.code not in other_day.content.decode()


@pytest.mark.parametrize(
    ("param", "message"),
    [({"week": "2026-W60"}, "Give the week as YYYY-Www"), ({"day": "1/12/2026"}, "YYYY-MM-DD")],
)
def test_agenda_bad_navigation_says_why(
    clinic: Clinic, param: dict[str, str], message: str
) -> None:
    page = http_as(clinic.owner).get(reverse("agenda"), param)
    assert page.status_code == 400 and message in page.content.decode()


def test_agenda_holds_only_the_users_own_sessions(clinic: Clinic) -> None:
    for user in (clinic.colleague, clinic.supervisor):
        body = http_as(user).get(reverse("agenda"), {"week": "2026-W49"}).content.decode()
        assert clinic.client.code not in body and clinic.client.name not in body


def _agenda_of(therapist: User, size: int) -> None:
    for _ in range(size):
        episode = factories.EpisodeFactory.create(therapist=therapist)
        factories.GoalFactory.create(episode=episode)
        for number, days in ((1, 0.01), (2, 2)):
            appointment = factories.AppointmentFactory.create(
                episode=episode,
                session_number=number,
                scheduled_at=timezone.now() + timedelta(days=days),
                attendance=Attendance.SCHEDULED,
            )
            factories.ResponseFactory.create(
                episode=episode, appointment=appointment, instrument="phq9"
            )


# Session, user, appointments, their answers, the audit rows (on SQLite 3 with the savepoint, on
# PostgreSQL one INSERT over unnest(): alliance.accounts.audit._insert). Before issue 10, 10: the
# session row's update (3) on every page (alliance.core.middleware.IdleTimeoutMiddleware).
AGENDA_QUERIES = 4 + (1 if connection.vendor == "postgresql" else 3)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["today", "week", "day"])
def test_agenda_queries_do_not_grow_with_the_number_of_sessions(mode: str) -> None:
    therapist = factories.UserFactory.create()
    http = http_as(therapist)
    now = timezone.localtime()
    year, week, _ = now.isocalendar()
    param = {
        "today": {},
        "week": {"week": f"{year}-W{week:02d}"},
        "day": {"day": f"{now:%Y-%m-%d}"},
    }[mode]
    # The first request of a session also writes the session; counted from the second on.
    http.get(reverse("agenda"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(reverse("agenda"), param).status_code == 200
        return len(queries)

    _agenda_of(therapist, 2)
    small = count()
    _agenda_of(therapist, 20)
    assert small == count() == AGENDA_QUERIES
