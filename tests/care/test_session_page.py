"""The session page: attendance and rating through a submit-once Django form, the client's answers in
full (items and their own words), escaped and audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import NoReverseMatch, reverse

from alliance.accounts.models import AuditEvent
from alliance.care.models import Appointment, Attendance, Respondent, Response
from tests import factories
from tests.care.builders import client_answers, http_as, session_in
from tests.conftest import Clinic

PHQ9_ITEM9_RAISED = {str(i): 1 for i in range(1, 9)} | {"9": 2, "10": 1}


def _post(http: HttpClient, appointment: Appointment, **data: object) -> Any:
    payload = {"submission_id": str(uuid.uuid4()), **data}
    return http.post(reverse("appointment_detail", args=[appointment.pk]), payload)


def test_a_1600_session_cannot_be_marked_attended_at_0720(clinic: Clinic) -> None:
    london = ZoneInfo("UTC")
    morning = datetime(2026, 12, 1, 7, 20, tzinfo=london)
    appointment = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=5,
        scheduled_at=datetime(2026, 12, 1, 16, 0, tzinfo=london),
        attendance=Attendance.SCHEDULED,
    )
    with time_machine.travel(morning, tick=False):
        response = _post(http_as(clinic.owner), appointment, attendance="attended")
    assert response.status_code == 400
    assert "has not started yet" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.attendance == Attendance.SCHEDULED
    # Once it has begun, the same answer is accepted.
    with time_machine.travel(datetime(2026, 12, 1, 16, 5, tzinfo=london), tick=False):
        response = _post(http_as(clinic.owner), appointment, attendance="attended")
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.attendance == Attendance.ATTENDED


def test_scheduled_stays_possible_before_the_session(clinic: Clinic) -> None:
    response = _post(http_as(clinic.owner), clinic.appointment, attendance="scheduled")
    assert response.status_code == 302


def test_attended_session_goes_to_the_reflection_and_stores_the_rating_once(
    clinic: Clinic,
) -> None:
    appointment = factories.AppointmentFactory.create(
        episode=clinic.episode, session_number=2, attendance=Attendance.SCHEDULED
    )
    http = http_as(clinic.owner)
    data = {
        "submission_id": str(uuid.uuid4()),
        "attendance": "attended",
        "bond": "8",
        "goals": "7",
        "tasks": "6",
        "overall": "7",
    }
    url = reverse("appointment_detail", args=[appointment.pk])
    first = http.post(url, data)
    second = http.post(url, data)  # a double click
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    try:
        expected = reverse("reflection_edit", args=[appointment.pk])
    except NoReverseMatch:  # the reflection page is another piece of work
        expected = reverse("client_detail", args=[clinic.client.code])
    assert first["Location"] == expected
    rating = Response.objects.get(appointment=appointment, respondent=Respondent.THERAPIST)
    assert rating.answers == {"bond": 8, "goals": 7, "tasks": 6, "overall": 7}
    assert rating.total == 7.0


def test_rating_a_session_that_did_not_take_place_is_refused(clinic: Clinic) -> None:
    appointment = factories.AppointmentFactory.create(
        episode=clinic.episode, session_number=2, attendance=Attendance.SCHEDULED
    )
    response = _post(http_as(clinic.owner), appointment, attendance="no_show", bond="3")
    assert response.status_code == 400
    assert "only if it took place" in response.content.decode()
    assert not Response.objects.filter(appointment=appointment, respondent="therapist").exists()


def test_missing_attendance_says_so(clinic: Clinic) -> None:
    response = _post(http_as(clinic.owner), clinic.appointment)
    assert response.status_code == 400
    assert "Choose what happened." in response.content.decode()


@pytest.mark.parametrize("role", ["supervisor", "colleague"])
def test_only_the_treating_therapist_records(clinic: Clinic, role: str) -> None:
    response = _post(http_as(getattr(clinic, role)), clinic.appointment, attendance="scheduled")
    assert response.status_code == 404


def test_page_shows_every_item_and_the_clients_words_escaped_and_audited(clinic: Clinic) -> None:
    appointment = factories.AppointmentFactory.create(episode=clinic.episode, session_number=3)
    client_answers(appointment, "phq9", PHQ9_ITEM9_RAISED)
    client_answers(
        appointment,
        "checkin",
        {
            "bond": 4,
            "goals": 3,
            "tasks": 5,
            "overall": 4,
            "better": "<script>alert(1)</script> You kept checking the clock.",
        },
    )
    response = http_as(clinic.supervisor).get(reverse("appointment_detail", args=[appointment.pk]))
    page = response.content.decode()
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    assert "Little interest or pleasure in doing things" in page
    assert "Several days (1)" in page
    assert "More than half the days (2)" in page
    assert "item-risk" in page
    assert "What could have been better today?" in page
    assert "You kept checking the clock." in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "safe" not in page.lower().replace("unsafe", "")
    event = AuditEvent.objects.filter(action="care.responses.read").latest("pk")
    assert event.client_id == clinic.client.pk
    assert event.data == {"responses": 2}
    assert "clock" not in str(event.data)


def test_item_9_at_zero_is_shown_as_answered_not_as_safe(clinic: Clinic) -> None:
    appointment = factories.AppointmentFactory.create(episode=clinic.episode, session_number=3)
    client_answers(appointment, "phq9", {str(i): 0 for i in range(1, 10)})
    page = http_as(clinic.owner).get(reverse("appointment_detail", args=[appointment.pk]))
    text = page.content.decode()
    assert "Thoughts that you would be better off dead" in text
    assert "item-risk" not in text
    assert "safe" not in text.lower()


def test_page_links_to_the_brief(clinic: Clinic) -> None:
    later = session_in(clinic.episode, 2, days=8)
    past = factories.AppointmentFactory.create(episode=clinic.episode, session_number=9)
    page = http_as(clinic.owner).get(reverse("appointment_detail", args=[past.pk])).content.decode()
    assert reverse("appointment_brief", args=[past.pk]) in page
    assert reverse("appointment_brief", args=[clinic.appointment.pk]) in page
    assert reverse("appointment_brief", args=[later.pk]) not in page


def test_the_client_page_names_the_measure_plan_not_its_ids(clinic: Clinic) -> None:
    from alliance.care.templatetags.care_tables import instrument_titles

    clinic.episode.outcome_instruments = ["phq9", "gad7"]
    clinic.episode.save()
    http = HttpClient()
    http.force_login(clinic.owner)
    body = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    assert "Outcome measures: Patient Health Questionnaire (PHQ-9), Generalized Anxiety" in body
    assert instrument_titles(["phq9", "retired-measure"]).endswith(", retired-measure")
