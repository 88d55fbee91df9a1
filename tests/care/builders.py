"""Builders shared by the care tests: a signed-in test client, a session some days from now, and a
client's answers recorded as their check-in link records them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.test import Client as HttpClient
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care.models import (
    Appointment,
    Attendance,
    Episode,
    Respondent,
    Response,
    ResponseSource,
)
from alliance.care.responses import record_response
from tests import factories


def http_as(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def session_in(
    episode: Episode, number: int, *, days: float, attendance: str = Attendance.SCHEDULED
) -> Appointment:
    """Session `number` of the episode, `days` from now (negative: in the past)."""
    return factories.AppointmentFactory.create(
        episode=episode,
        session_number=number,
        scheduled_at=timezone.now() + timedelta(days=days),
        attendance=attendance,
    )


def client_answers(
    appointment: Appointment,
    instrument: str,
    answers: Mapping[str, object],
    submitted_at: datetime | None = None,
) -> Response:
    """Scored and stored through alliance.care.responses, as the client's check-in stores them."""
    return record_response(
        episode=appointment.episode,
        appointment=appointment,
        instrument_id=instrument,
        answers=answers,
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
        submitted_at=submitted_at,
    ).response
