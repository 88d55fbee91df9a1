"""The therapist's side of an appointment: attendance and their own rating, in one quick form."""

from __future__ import annotations

from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import User
from alliance.care.models import Appointment, Response
from alliance.checkin.models import CheckinLink
from tests.checkin.conftest import Visit

RATING = {"q_bond": "9", "q_goals": "8", "q_tasks": "8", "q_overall": "9"}


def _therapist(visit: Visit) -> HttpClient:
    http = HttpClient()
    http.force_login(User.objects.get(email="therapist@clinic.test"))
    return http


def test_attendance_and_rating_are_saved_together(visit: Visit) -> None:
    http = _therapist(visit)
    url = reverse("appointment_detail", args=[visit.appointment.pk])
    page = http.post(url, {"attendance": "attended", **RATING})
    assert page.status_code == 302
    appointment = Appointment.objects.get(pk=visit.appointment.pk)
    assert appointment.attendance == "attended" and appointment.attendance_recorded_at is not None
    rating = Response.objects.get(instrument="checkin-therapist")
    assert rating.respondent == "therapist" and rating.total == 8.5
    # Correcting the rating updates the one response instead of adding another.
    http.post(url, {"attendance": "attended", **RATING, "q_bond": "5"})
    assert Response.objects.filter(instrument="checkin-therapist").count() == 1
    assert Response.objects.get(instrument="checkin-therapist").total == 7.5


def test_no_show_can_be_recorded_without_a_rating(visit: Visit) -> None:
    page = _therapist(visit).post(
        reverse("appointment_detail", args=[visit.appointment.pk]), {"attendance": "no_show"}
    )
    assert page.status_code == 302
    assert Appointment.objects.get(pk=visit.appointment.pk).attendance == "no_show"
    assert not Response.objects.exists()


def test_missing_attendance_keeps_the_rating_on_screen(visit: Visit) -> None:
    page = _therapist(visit).post(
        reverse("appointment_detail", args=[visit.appointment.pk]), RATING
    )
    assert page.status_code == 400
    body = page.content.decode()
    assert "Choose what happened" in body and 'name="q_bond" value="9" checked' in body


def test_creating_a_link_shows_it_once_with_a_qr_code(visit: Visit) -> None:
    page = _therapist(visit).post(reverse("checkin_link_create", args=[visit.appointment.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body
    link = CheckinLink.objects.latest("created_at")
    url = body.split('id="checkin-url" type="text" readonly value="')[1].split('"')[0]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert HttpClient().get(f"/c/{token}/").status_code == 200
    assert link.token_digest != token
    assert "no-store" in page["Cache-Control"]


def test_therapist_books_the_next_session(visit: Visit) -> None:
    http = _therapist(visit)
    page = http.post(
        reverse("appointment_book", args=[visit.episode.pk]), {"scheduled_at": "2030-05-06T10:30"}
    )
    assert page.status_code == 302
    booked = Appointment.objects.filter(episode=visit.episode).order_by("-session_number").first()
    assert booked is not None and booked.session_number == 2 and booked.attendance == "scheduled"
    refused = http.post(
        reverse("appointment_book", args=[visit.episode.pk]), {"scheduled_at": "not a date"}
    )
    assert refused.status_code == 302
    assert Appointment.objects.filter(episode=visit.episode).count() == 2
