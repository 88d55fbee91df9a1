"""Shared fixtures in the style of healthchecks' hc/test.py: an owner (the treating therapist), their
supervisor, a colleague therapist with their own client, an unrelated supervisor, an administrator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone, translation
from hypothesis import settings

from alliance.accounts.models import Role, User
from alliance.care import models as care
from alliance.checkin.links import create_link
from alliance.checkin.models import Concern
from tests import factories

# Tests never fail on wall-clock time (speed is measured in benchmarks/): hypothesis's default 200 ms
# deadline per example failed a pure scoring test once when the machine was busy (295 ms).
settings.register_profile("alliance", deadline=None)
settings.load_profile("alliance")


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A request by a staff member who chose Spanish leaves Spanish active in the test's thread (a
    server's LocaleMiddleware sets the language again on every request; a test that builds a form
    directly does not), and a later test on the same xdist worker then read Spanish form errors."""
    yield
    translation.deactivate()


@dataclass
class Clinic:
    owner: User
    supervisor: User
    colleague: User
    other_supervisor: User
    administrator: User
    client: care.Client
    episode: care.Episode
    appointment: care.Appointment
    shared_reflection: care.Reflection
    private_reflection: care.Reflection
    alert: care.Alert
    colleague_client: care.Client
    token: str
    concern: Concern

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


def with_totp(user: User) -> User:
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def clinic(db: None) -> Clinic:
    owner = factories.UserFactory.create(
        email="owner@clinic.test", first_name="Olive", last_name="Owner"
    )
    colleague = factories.UserFactory.create(email="colleague@clinic.test", last_name="Colleague")
    supervisor = factories.UserFactory.create(email="supervisor@clinic.test", role=Role.SUPERVISOR)
    other_supervisor = factories.UserFactory.create(
        email="other-sup@clinic.test", role=Role.SUPERVISOR
    )
    administrator = with_totp(
        factories.UserFactory.create(email="admin@clinic.test", role=Role.ADMINISTRATOR)
    )
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=owner)
    factories.SupervisionFactory.create(supervisor=other_supervisor, therapist=colleague)

    client = factories.ClientFactory.create(
        code="C-OWN01", name="Marguerite Quillfeather", email="mq@example.com"
    )
    episode = factories.EpisodeFactory.create(client=client, therapist=owner)
    factories.GoalFactory.create(
        episode=episode, number=1, description="Speak up at work without panicking"
    )
    # Scheduled for tomorrow, so its check-in link is valid.
    appointment = factories.AppointmentFactory.create(
        episode=episode,
        session_number=1,
        scheduled_at=timezone.now() + timedelta(days=1),
        attendance=care.Attendance.SCHEDULED,
    )
    factories.ResponseFactory.create(
        episode=episode, appointment=appointment, instrument="phq9", total=14
    )
    shared = factories.ReflectionFactory.create(
        episode=episode,
        text="Shared: I felt protective and hurried the ending.",
        shared_with_supervisor=True,
    )
    private = factories.ReflectionFactory.create(
        episode=episode,
        text="Private: irritation when she cancelled again.",
        shared_with_supervisor=False,
    )
    alert = factories.AlertFactory.create(episode=episode, appointment=appointment)
    colleague_client = factories.ClientFactory.create(code="C-COL01", name="Bartholomew Inkwright")
    factories.EpisodeFactory.create(client=colleague_client, therapist=colleague)
    _, token = create_link(appointment, created_by=owner)
    concern = Concern.objects.create(
        episode=episode, text="I feel judged when I talk about my family."
    )
    return Clinic(
        owner=owner,
        supervisor=supervisor,
        colleague=colleague,
        other_supervisor=other_supervisor,
        administrator=administrator,
        client=client,
        episode=episode,
        appointment=appointment,
        shared_reflection=shared,
        private_reflection=private,
        alert=alert,
        colleague_client=colleague_client,
        token=token,
        concern=concern,
    )
