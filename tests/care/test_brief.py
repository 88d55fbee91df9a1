"""The one-screen brief: what changed (with reliable change), the check-in by dimension, alerts with
their reasons, the client's words, goals, the last visible reflection and fitting openings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent, User
from alliance.care import brief
from alliance.care.models import (
    Appointment,
    Attendance,
    Episode,
)
from tests import factories
from tests.care.builders import client_answers, http_as, session_in
from tests.conftest import Clinic


def _session(
    episode: Episode,
    number: int,
    phq9: int,
    checkin: tuple[int, int, int, int],
    comment: str | None = None,
    attendance: str = Attendance.ATTENDED,
) -> Appointment:
    appointment = session_in(episode, number, days=-7 * (40 - number), attendance=attendance)
    # PHQ-9 total spread over the items (item 9 stays 0).
    items = {str(i): 0 for i in range(1, 10)}
    for i in range(phq9):
        items[str(i % 8 + 1)] += 1
    bond, goals, tasks, overall = checkin
    for instrument, answers in (
        ("phq9", {**items, "10": 1}),
        (
            "checkin",
            {"bond": bond, "goals": goals, "tasks": tasks, "overall": overall, "better": comment},
        ),
    ):
        client_answers(
            appointment, instrument, answers, appointment.scheduled_at + timedelta(hours=1)
        )
    return appointment


def _get(user: User, appointment: Appointment) -> str:
    response = http_as(user).get(reverse("appointment_brief", args=[appointment.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_brief_shows_change_dimensions_words_goals_and_openings(clinic: Clinic) -> None:
    _session(clinic.episode, 2, 20, (8, 8, 8, 8))
    _session(clinic.episode, 3, 17, (8, 8, 8, 8))
    _session(
        clinic.episode, 4, 10, (8, 3, 7, 6), "We never talk about my job, which is why I came."
    )
    factories.AlertFactory.create(
        episode=clinic.episode,
        title="Possible rupture: the check-in fell",
        explanation="The goals rating fell from 8 to 3.",
        suggestion="Invite the client to talk about the last session itself.",
        evidence={"measures": {"goals": {"before": 8, "after": 3}}},
    )
    next_session = session_in(clinic.episode, 5, days=2)
    page = _get(clinic.owner, next_session)
    # Latest PHQ-9 10 vs 17 (-7: reliable, threshold 6) and vs intake 20.
    assert "17 → 10" in page and "14 → 10" in page  # intake: session 1 of the fixture
    assert "reliably better" in page
    assert "reliable change: 6 points or more" in page
    assert "We never talk about my job, which is why I came." in page
    assert "The goals rating fell from 8 to 3." in page
    assert "Invite the client to talk about the last session itself." in page
    assert "Speak up at work without panicking" in page
    assert "what we&#x27;re working on" in page  # the goals-drop opening
    assert "Safran &amp; Muran" in page
    assert 'class="fell"' in page
    assert "print.css" in page
    event = AuditEvent.objects.filter(action="care.brief.viewed").latest("pk")
    assert event.client_id == clinic.client.pk and event.object_id == str(next_session.pk)


def test_missed_session_gives_a_missed_session_opening(clinic: Clinic) -> None:
    _session(clinic.episode, 2, 12, (7, 7, 7, 7))
    session_in(clinic.episode, 3, days=-3, attendance=Attendance.NO_SHOW)
    upcoming = session_in(clinic.episode, 4, days=3)
    assert "We didn&#x27;t meet last time." in _get(clinic.owner, upcoming)


def test_supervisor_sees_the_shared_reflection_never_the_private_one(clinic: Clinic) -> None:
    clinic.private_reflection.created_at = timezone.now()
    clinic.private_reflection.save()
    owner_page = _get(clinic.owner, clinic.appointment)
    assert "Private: irritation" in owner_page
    supervisor_page = _get(clinic.supervisor, clinic.appointment)
    assert "Private: irritation" not in supervisor_page
    assert "Shared: I felt protective" in supervisor_page


def test_an_old_brief_does_not_show_later_sessions(clinic: Clinic) -> None:
    early = _session(clinic.episode, 2, 20, (8, 8, 8, 8), "Said at session two.")
    _session(clinic.episode, 3, 5, (8, 8, 8, 8), "Said at session three.")
    page = _get(clinic.owner, early)
    assert "Said at session two." in page
    assert "Said at session three." not in page


@pytest.mark.django_db
def test_brief_queries_do_not_grow_with_the_episode() -> None:
    therapist = factories.UserFactory.create()
    episode = factories.EpisodeFactory.create(therapist=therapist)
    factories.GoalFactory.create(episode=episode)
    http = http_as(therapist)
    upcoming = session_in(episode, 99, days=1)
    url = reverse("appointment_brief", args=[upcoming.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        return len(queries)

    for n in (1, 2):
        _session(episode, n, 12, (7, 7, 7, 7), f"note {n}")
        factories.ReflectionFactory.create(episode=episode)
        factories.AlertFactory.create(episode=episode)
    small = count()
    for n in range(3, 30):
        _session(episode, n, 12, (7, 7, 7, 7), f"note {n}")
        factories.ReflectionFactory.create(episode=episode)
        factories.AlertFactory.create(episode=episode)
    assert count() == small


def test_client_page_links_to_the_brief_of_the_next_session(clinic: Clinic) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    assert reverse("appointment_brief", args=[clinic.appointment.pk]) in page


def test_a_next_step_repeated_word_for_word_is_said_once(clinic: Clinic) -> None:
    same = "Review the plan with the client."
    first = factories.AlertFactory.create(episode=clinic.episode, suggestion=same, severity="red")
    second = factories.AlertFactory.create(episode=clinic.episode, suggestion=same, severity="red")
    upcoming = session_in(clinic.episode, 9, days=3)
    page = _get(clinic.owner, upcoming)
    assert page.count(same) == 1
    assert "as above." in page
    # Whichever of the two comes first in the brief carries the text; the other says "as above".
    assert (
        len(brief.build(clinic.owner, upcoming).repeated_suggestions & {first.pk, second.pk}) == 1
    )
