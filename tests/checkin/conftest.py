from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.care import models as care
from alliance.checkin.links import create_link
from tests import factories


@dataclass
class Visit:
    """A client's appointment tomorrow and a fresh link to it."""

    appointment: care.Appointment
    token: str

    @property
    def episode(self) -> care.Episode:
        return self.appointment.episode

    def url(self, name: str = "", instrument: str = "") -> str:
        from django.urls import reverse

        if name == "answer":
            return reverse("checkin_answer", args=[self.token, instrument])
        return reverse(f"checkin_{name or 'landing'}", args=[self.token])


@pytest.fixture
def visit(db: None) -> Visit:
    therapist = factories.UserFactory.create(email="therapist@clinic.test")
    supervisor = factories.UserFactory.create(email="supervisor@clinic.test", role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=therapist)
    factories.UserFactory.create(email="admin@clinic.test", role=Role.ADMINISTRATOR)
    client = factories.ClientFactory.create(
        code="C-VIS01", name="Rosalind Pemberton-Vane", email="rpv@example.com"
    )
    episode = factories.EpisodeFactory.create(client=client, therapist=therapist)
    factories.GoalFactory.create(episode=episode, number=1, description="Go back to swimming")
    appointment = factories.AppointmentFactory.create(
        episode=episode,
        session_number=1,
        scheduled_at=timezone.now() + timedelta(days=1),
        attendance=care.Attendance.SCHEDULED,
    )
    _, token = create_link(appointment)
    return Visit(appointment, token)


@pytest.fixture
def after_session(visit: Visit) -> Iterator[None]:
    """The clock at the booked end of the visit's session, when its after-session part is open
    (alliance.checkin.flow.after_session_opens_at); the link is still valid then."""
    appointment = visit.appointment
    with time_machine.travel(
        appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes), tick=True
    ):
        yield


def phq9(values: list[int], item10: int | None = None) -> dict[str, str]:
    data = {f"q_{n}": str(v) for n, v in enumerate(values, start=1)}
    if item10 is not None:
        data["q_10"] = str(item10)
    return data


def checkin(
    bond: int = 8, goals: int = 7, tasks: int = 7, overall: int = 8, better: str = ""
) -> dict[str, str]:
    return {
        "q_bond": str(bond),
        "q_goals": str(goals),
        "q_tasks": str(tasks),
        "q_overall": str(overall),
        "q_better": better,
    }
