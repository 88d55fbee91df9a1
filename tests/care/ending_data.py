"""An episode with a history, for the tests of charts, progress, ending and termination summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from alliance.accounts.models import User
from alliance.care import models as care
from tests import factories

PHQ9 = (18, 16, 13, 11, 9)
GAD7 = (14, 12, 9, 8, 6)


@dataclass
class History:
    episode: care.Episode
    appointments: list[care.Appointment]
    future: care.Appointment
    alert: care.Alert


def history(therapist: User | None = None, *, sessions: int = 5, lang: str = "en") -> History:
    """Sessions 1..n weekly up to last week (session 3 a no-show), then one booked next week."""
    therapist = therapist or factories.UserFactory.create()
    client = factories.ClientFactory.create(preferred_language=lang)
    now = timezone.now()
    episode = factories.EpisodeFactory.create(
        client=client, therapist=therapist, started_on=timezone.localdate() - timedelta(days=120)
    )
    factories.GoalFactory.create(episode=episode, number=1, description="Sleep through the night")
    appointments = []
    scored = 0
    for number in range(1, sessions + 1):
        missed = number == 3
        appointment = factories.AppointmentFactory.create(
            episode=episode,
            session_number=number,
            scheduled_at=now - timedelta(weeks=sessions + 1 - number),
            attendance=care.Attendance.NO_SHOW if missed else care.Attendance.ATTENDED,
        )
        appointments.append(appointment)
        if missed:
            continue
        index = round(scored * (len(PHQ9) - 1) / max(sessions - 2, 1))
        scored += 1
        for instrument, total in (("phq9", PHQ9[index]), ("gad7", GAD7[index])):
            factories.ResponseFactory.create(
                episode=episode, appointment=appointment, instrument=instrument, total=total
            )
        factories.ResponseFactory.create(
            episode=episode,
            appointment=appointment,
            instrument="checkin",
            answers={"bond": 6 + index % 3, "goals": 7, "tasks": 5, "overall": 8},
            total=6.5,
        )
        factories.ResponseFactory.create(
            episode=episode,
            appointment=appointment,
            instrument="checkin-therapist",
            respondent=care.Respondent.THERAPIST,
            answers={"bond": 9, "goals": 9, "tasks": 9, "overall": 9},
            total=9.0,
        )
        if number in (1, sessions):
            factories.ResponseFactory.create(
                episode=episode,
                appointment=appointment,
                instrument="gbo",
                answers={"goal1": 2 if number == 1 else 7},
                total=2.0 if number == 1 else 7.0,
            )
    alert = factories.AlertFactory.create(
        episode=episode,
        appointment=appointments[1],
        session_number=2,
        status=care.AlertStatus.REPAIRED,
        resolved_at=appointments[min(3, sessions - 1)].scheduled_at + timedelta(hours=2),
        title="Check-in fell",
    )
    future = factories.AppointmentFactory.create(
        episode=episode,
        session_number=sessions + 1,
        scheduled_at=now + timedelta(days=7),
        attendance=care.Attendance.SCHEDULED,
    )
    return History(episode, appointments, future, alert)
