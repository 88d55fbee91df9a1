"""The reflection journal: writing a reflection, the reactions beside the ratings, the journal page and
the supervision suggestion."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent, User
from alliance.care import models as care
from tests import factories
from tests.conftest import Clinic


def _http(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _past(clinic: Clinic, number: int = 2, days: int = 7) -> care.Appointment:
    return factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=number,
        scheduled_at=timezone.now() - timedelta(days=days),
        attendance=care.Attendance.ATTENDED,
    )


def _post(**fields: object) -> dict[str, object]:
    return {"submission_id": str(uuid.uuid4()), "text": "", **fields}


def test_owner_writes_a_reflection_with_reactions(clinic: Clinic) -> None:
    appointment = _past(clinic)
    url = reverse("reflection_edit", args=[appointment.pk])
    http = _http(clinic.owner)
    page = http.get(url).content.decode()
    assert "Frustrated" in page and "Not present" in page and "3 · strongly" in page
    assert "Private by default" in page and clinic.supervisor.display_name in page
    response = http.post(
        url,
        _post(r_frustrated="3", r_moved="1", text="I rushed the ending again."),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("client_detail", args=[clinic.client.code])
    reflection = care.Reflection.objects.get(appointment=appointment)
    assert reflection.reactions == {"frustrated": 3, "moved": 1}
    assert reflection.therapist == clinic.owner
    assert not reflection.shared_with_supervisor
    page = response.content.decode()
    assert "private to you" in page
    assert "Frustrated (strongly), Moved (a little)" in page
    assert "Edit your reflection" in page
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM care_reflection WHERE id = %s", [reflection.pk])
        assert "rushed" not in cursor.fetchone()[0]


def test_a_reflection_is_edited_not_duplicated_and_stored_once(clinic: Clinic) -> None:
    appointment = _past(clinic)
    url = reverse("reflection_edit", args=[appointment.pk])
    http = _http(clinic.owner)
    first = _post(r_anxious="2")
    http.post(url, first)
    again = http.post(url, {**first, "r_anxious": "3"})  # a double click resends the first form
    assert again.status_code == 302
    assert care.Reflection.objects.get(appointment=appointment).reactions == {"anxious": 2}
    page = http.get(url).content.decode()
    assert "Edit your reflection" in page
    assert 'name="r_anxious" value="2"' in page and "checked" in page
    http.post(url, _post(r_anxious="3", shared_with_supervisor="on", text="Shared now."))
    reflection = care.Reflection.objects.get(appointment=appointment)
    assert reflection.reactions == {"anxious": 3} and reflection.shared_with_supervisor
    assert care.Reflection.objects.filter(appointment=appointment).count() == 1
    assert AuditEvent.objects.filter(action="care.reflection.viewed", object_id=str(reflection.pk))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Choose at least one reaction"),
        ({"r_moved": "7"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_explained(clinic: Clinic, fields: dict[str, str], message: str) -> None:
    appointment = _past(clinic)
    response = _http(clinic.owner).post(
        reverse("reflection_edit", args=[appointment.pk]), _post(**fields)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not care.Reflection.objects.filter(appointment=appointment).exists()


def test_no_reflection_before_the_session(clinic: Clinic) -> None:
    url = reverse("reflection_edit", args=[clinic.appointment.pk])  # tomorrow
    http = _http(clinic.owner)
    assert "has not taken place yet" in http.get(url).content.decode()
    response = http.post(url, _post(r_moved="2"))
    assert response.status_code == 400
    assert not care.Reflection.objects.filter(appointment=clinic.appointment).exists()


@pytest.mark.parametrize("role", ["supervisor", "colleague", "other_supervisor", "administrator"])
def test_only_the_treating_therapist_writes(clinic: Clinic, role: str) -> None:
    appointment = _past(clinic)
    http = _http(getattr(clinic, role))
    url = reverse("reflection_edit", args=[appointment.pk])
    assert http.get(url).status_code == 404
    assert http.post(url, _post(r_moved="2")).status_code == 404
    assert not care.Reflection.objects.filter(appointment=appointment).exists()


def _strong(clinic: Clinic, reaction: str, count: int, shared: bool = False) -> None:
    start = clinic.episode.appointments.count() + 10
    for i in range(count):
        factories.ReflectionFactory.create(
            episode=clinic.episode,
            appointment=_past(clinic, number=start + i, days=60 - start - i),
            reactions={reaction: 3},
            shared_with_supervisor=shared,
            text=f"Strong {reaction} {i}",
        )


def test_supervision_suggestion_on_client_page_and_journal(clinic: Clinic) -> None:
    http = _http(clinic.owner)
    client_url = reverse("client_detail", args=[clinic.client.code])
    _strong(clinic, "frustrated", 1)
    assert "consider bringing it to supervision" not in http.get(client_url).content.decode()
    _strong(clinic, "helpless", 2)
    expected = "Strong helplessness in 2 of your last 4 reflections on this client."
    assert expected in http.get(client_url).content.decode()
    journal = http.get(reverse("journal")).content.decode()
    assert expected in journal and clinic.client.code in journal
    assert "Hayes et al. 2018" in journal
    # A stricter clinic rule stops it.
    settings = care.ClinicSettings.load()
    settings.supervision_prompt_count = 3
    settings.save()
    assert expected not in http.get(reverse("journal")).content.decode()


def test_prompts_come_from_the_readers_own_reflections_only(clinic: Clinic) -> None:
    _strong(clinic, "anxious", 3, shared=True)
    page = _http(clinic.supervisor).get(reverse("client_detail", args=[clinic.client.code]))
    assert "consider bringing it to supervision" not in page.content.decode()
    assert "Strong anxious 0" in page.content.decode()  # the shared text is readable


def test_reactions_beside_the_clients_ratings(clinic: Clinic) -> None:
    appointment = _past(clinic)
    factories.ResponseFactory.create(
        episode=clinic.episode, appointment=appointment, instrument="checkin", total=4.5
    )
    factories.ResponseFactory.create(
        episode=clinic.episode,
        appointment=appointment,
        instrument="checkin-therapist",
        respondent=care.Respondent.THERAPIST,
        total=8.0,
    )
    factories.ReflectionFactory.create(
        episode=clinic.episode, appointment=appointment, reactions={"protective": 3}
    )
    http = _http(clinic.owner)
    response = http.get(reverse("client_reactions", args=[clinic.client.code]))
    page = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "4.5" in page and "8.0" in page and "Protective (strongly)" in page
    assert "<svg" in page and "style=" not in page.split("<main", 1)[1]
    # The supervisor does not see the reactions of a private reflection.
    other = _http(clinic.supervisor).get(reverse("client_reactions", args=[clinic.client.code]))
    assert "Protective (strongly)" not in other.content.decode()


def test_journal_lists_own_reflections_only(clinic: Clinic) -> None:
    factories.ReflectionFactory.create(
        episode=clinic.episode,
        appointment=_past(clinic),
        reactions={"bored": 2},
        text="Drifting today.",
    )
    page = _http(clinic.owner).get(reverse("journal")).content.decode()
    assert "Drifting today." in page and clinic.private_reflection.text in page
    assert "Bored or disengaged 1" in page
    supervisor_page = _http(clinic.supervisor).get(reverse("journal")).content.decode()
    assert clinic.shared_reflection.text not in supervisor_page  # the journal is the author's own
    assert "Drifting today." not in supervisor_page
    bad = _http(clinic.owner).get(reverse("journal"), {"weeks": "nonsense"})
    assert bad.status_code == 200


def test_journal_queries_do_not_grow(clinic: Clinic) -> None:
    http = _http(clinic.owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(reverse("journal")).status_code == 200
        return len(queries)

    def add_clients(n: int) -> None:
        for _ in range(n):
            episode = factories.EpisodeFactory.create(therapist=clinic.owner)
            for number in (1, 2, 3):
                factories.ReflectionFactory.create(
                    episode=episode,
                    appointment=factories.AppointmentFactory.create(
                        episode=episode, session_number=number
                    ),
                    reactions={"frustrated": 3, "moved": 1},
                )

    add_clients(1)
    small = count()
    add_clients(15)
    assert count() == small


def test_session_page_links_to_the_reflection(clinic: Clinic) -> None:
    appointment = _past(clinic)
    http = _http(clinic.owner)
    url = reverse("appointment_detail", args=[appointment.pk])
    link = reverse("reflection_edit", args=[appointment.pk])
    page = http.get(url).content.decode()
    assert link in page and "Write a reflection" in page
    factories.ReflectionFactory.create(episode=clinic.episode, appointment=appointment)
    assert "Edit your reflection" in http.get(url).content.decode()
    assert link not in _http(clinic.supervisor).get(url).content.decode()
