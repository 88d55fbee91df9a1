"""The therapist's side of an appointment: attendance and their own rating, in one quick form."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care.models import Appointment, Response
from alliance.checkin.models import CheckinLink
from tests.checkin.conftest import Visit

RATING = {"bond": "9", "goals": "8", "tasks": "8", "overall": "9"}


def _once() -> dict[str, str]:
    """A fresh submission id, as every render of a submit-once form carries."""
    return {"submission_id": str(uuid.uuid4())}


def _started(visit: Visit) -> None:
    """The visit's appointment is tomorrow; attendance is recorded once a session has begun."""
    Appointment.objects.filter(pk=visit.appointment.pk).update(
        scheduled_at=timezone.now() - timedelta(hours=1)
    )


def _therapist(visit: Visit) -> HttpClient:
    http = HttpClient()
    http.force_login(User.objects.get(email="therapist@clinic.test"))
    return http


def test_attendance_and_rating_are_saved_together(visit: Visit) -> None:
    _started(visit)
    http = _therapist(visit)
    url = reverse("appointment_detail", args=[visit.appointment.pk])
    page = http.post(url, {"attendance": "attended", **RATING, **_once()})
    assert page.status_code == 302
    appointment = Appointment.objects.get(pk=visit.appointment.pk)
    assert appointment.attendance == "attended" and appointment.attendance_recorded_at is not None
    rating = Response.objects.get(instrument="checkin-therapist")
    assert rating.respondent == "therapist" and rating.total == 8.5
    # Correcting the rating updates the one response instead of adding another.
    http.post(url, {"attendance": "attended", **RATING, "bond": "5", **_once()})
    assert Response.objects.filter(instrument="checkin-therapist").count() == 1
    assert Response.objects.get(instrument="checkin-therapist").total == 7.5


def test_no_show_can_be_recorded_without_a_rating(visit: Visit) -> None:
    _started(visit)
    page = _therapist(visit).post(
        reverse("appointment_detail", args=[visit.appointment.pk]),
        {"attendance": "no_show", **_once()},
    )
    assert page.status_code == 302
    assert Appointment.objects.get(pk=visit.appointment.pk).attendance == "no_show"
    assert not Response.objects.exists()


def test_missing_attendance_keeps_the_rating_on_screen(visit: Visit) -> None:
    page = _therapist(visit).post(
        reverse("appointment_detail", args=[visit.appointment.pk]), {**RATING, **_once()}
    )
    assert page.status_code == 400
    body = page.content.decode()
    assert "Choose what happened" in body and 'name="bond" value="9" id="id_bond_9" checked' in body


def test_creating_a_link_shows_it_once_with_a_qr_code(visit: Visit) -> None:
    page = _therapist(visit).post(
        reverse("checkin_link_create", args=[visit.appointment.pk]), _once()
    )
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body
    link = CheckinLink.objects.latest("created_at")
    url = body.split('id="checkin-url" type="text" readonly value="')[1].split('"')[0]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert HttpClient().get(f"/c/{token}/").status_code == 200
    assert link.token_digest != token
    assert "no-store" in page["Cache-Control"]
