"""Intake (issue 9, point 1): clients and their episodes, goals that keep their history, the measure
plan, a returning client's new episode, and a supervisor's assignment and transfer."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from alliance.accounts.models import AuditEvent, Role
from alliance.care import intake
from alliance.care.intake_forms import outcome_instrument_choices
from alliance.care.models import Client, Episode, EpisodeStatus, Goal, GoalRevision
from alliance.checkin import flow
from tests import factories
from tests.care.builders import http_as
from tests.conftest import Clinic

CODE = re.compile(r"^C-[ACDEFHJKMNPQRTUVWXY34679]{5}$")


def _new_client_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client-name": "Wilhelmina Quartermaine",
        "client-email": "wq@example.com",
        "client-phone": "+1 555 0199",
        "client-preferred_language": "es",
        "client-email_consent": "on",
        "episode-goal_1": "Sleep through the night",
        "episode-goal_2": "Go back to the choir",
        "episode-goal_3": "",
        "episode-instruments": ["phq9"],
        "episode-gbo_every": "2",
        "episode-submission_id": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- codes -------------------------------------------------------------------------------------


def test_client_codes_have_the_demo_format_and_vary() -> None:
    codes = {intake.new_client_code() for _ in range(200)}
    assert all(CODE.match(code) for code in codes)
    assert len(codes) > 190  # random, not sequential


@pytest.mark.django_db
def test_a_taken_code_is_never_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    therapist = factories.UserFactory.create()
    factories.ClientFactory.create(code="C-AAAAA")
    offered = iter(["C-AAAAA", "C-AAAAA", "C-CCCCC"])
    monkeypatch.setattr(intake, "new_client_code", lambda: next(offered))
    episode = intake.create_client({"name": "Someone"}, intake.EpisodePlan(therapist=therapist))
    assert episode.client.code == "C-CCCCC"


# --- creating a client -------------------------------------------------------------------------


def test_therapist_adds_a_client_with_their_first_episode(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    assert "Add a client" in http.get(reverse("caseload")).content.decode()
    response = http.post(reverse("client_create"), _new_client_data())
    client = Client.objects.exclude(pk__in=[clinic.client.pk, clinic.colleague_client.pk]).get()
    assert CODE.match(client.code)
    assert response.status_code == 302 and response["Location"] == reverse(
        "client_detail", args=[client.code]
    )
    assert "Quartermaine" not in response["Location"]
    assert (client.name, client.email, client.preferred_language) == (
        "Wilhelmina Quartermaine",
        "wq@example.com",
        "es",
    )
    assert client.email_consent
    episode = client.episodes.get()
    assert episode.therapist == clinic.owner and episode.status == EpisodeStatus.ACTIVE
    assert episode.outcome_instruments == ["phq9"] and episode.gbo_every == 2
    assert list(episode.goals.values_list("number", "description")) == [
        (1, "Sleep through the night"),
        (2, "Go back to the choir"),
    ]
    page = http.get(response["Location"]).content.decode()
    assert "Wilhelmina Quartermaine" in page and "Go back to the choir" in page
    assert AuditEvent.objects.filter(action="care.client.created", client_id=client.pk).exists()
    # The new client is the owner's alone.
    assert http_as(clinic.colleague).get(response["Location"]).status_code == 404


def test_consent_to_emailed_links_needs_an_email(clinic: Clinic) -> None:
    page = http_as(clinic.owner).post(
        reverse("client_create"), _new_client_data(**{"client-email": ""})
    )
    assert page.status_code == 400
    assert "Consent to emailed links needs an email address" in page.content.decode()
    assert Client.objects.count() == 2


def test_a_form_sent_twice_adds_one_client(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    data = _new_client_data()
    first = http.post(reverse("client_create"), data)
    second = http.post(reverse("client_create"), data)
    assert Client.objects.count() == 3
    assert first["Location"] == second["Location"]


def test_more_than_three_goals_cannot_be_sent(clinic: Clinic) -> None:
    with pytest.raises(intake.IntakeError):
        intake.create_client(
            {"name": "X"}, intake.EpisodePlan(therapist=clinic.owner, goals=["a", "b", "c", "d"])
        )
    assert Client.objects.count() == 2  # the client went with the refused episode


def test_measure_choices_are_outcome_instruments_only() -> None:
    ids = [i for i, _label in outcome_instrument_choices()]
    assert {"phq9", "gad7"} <= set(ids)
    assert not {"checkin", "checkin-therapist", "gbo"} & set(ids)


def test_supervisor_assigns_a_new_client_to_a_supervisee_only(clinic: Clinic) -> None:
    http = http_as(clinic.supervisor)
    form = http.get(reverse("client_create")).content.decode()
    assert clinic.owner.display_name in form and clinic.colleague.display_name not in form
    refused = http.post(
        reverse("client_create"), _new_client_data(**{"episode-therapist": clinic.colleague.pk})
    )
    assert refused.status_code == 400 and Client.objects.count() == 2
    done = http.post(
        reverse("client_create"), _new_client_data(**{"episode-therapist": clinic.owner.pk})
    )
    assert done.status_code == 302
    episode = Episode.objects.get(client__name__isnull=False, client__email_consent=True)
    assert episode.therapist == clinic.owner
    assert http_as(clinic.owner).get(done["Location"]).status_code == 200


# --- editing a client --------------------------------------------------------------------------


def test_therapist_edits_the_client(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    url = reverse("client_edit", args=[clinic.client.code])
    assert "Marguerite Quillfeather" in http.get(url).content.decode()
    response = http.post(
        url,
        {
            "name": "Marguerite Quillfeather-Ames",
            "email": "",
            "phone": "+1 555 0111",
            "preferred_language": "en",
            "submission_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    clinic.client.refresh_from_db()
    assert (clinic.client.name, clinic.client.email, clinic.client.phone) == (
        "Marguerite Quillfeather-Ames",
        "",
        "+1 555 0111",
    )
    assert clinic.client.code == "C-OWN01"


def test_supervisor_reads_but_does_not_edit_a_client(clinic: Clinic) -> None:
    url = reverse("client_edit", args=[clinic.client.code])
    assert http_as(clinic.supervisor).post(url, {"name": "Changed"}).status_code == 404
    clinic.client.refresh_from_db()
    assert clinic.client.name == "Marguerite Quillfeather"


# --- a returning client ------------------------------------------------------------------------


def _end(episode: Episode) -> None:
    episode.status, episode.ended_on, episode.end_reason = "ended", timezone.localdate(), "planned"
    episode.save()


def test_a_second_active_episode_is_refused_with_a_reason(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    url = reverse("episode_create", args=[clinic.client.code])
    assert "already has an active episode" in http.get(url).content.decode()
    page = http.post(url, {"gbo_every": "4", "submission_id": str(uuid.uuid4())})
    assert page.status_code == 400 and "already has an active episode" in page.content.decode()
    assert clinic.client.episodes.count() == 1
    with pytest.raises(intake.IntakeError):
        intake.start_episode(clinic.client, intake.EpisodePlan(therapist=clinic.owner))


def test_a_returning_client_gets_a_new_episode_and_the_old_one_stays(clinic: Clinic) -> None:
    _end(clinic.episode)
    http = http_as(clinic.owner)
    client_page = reverse("client_detail", args=[clinic.client.code])
    assert "Start a new episode" in http.get(client_page).content.decode()
    response = http.post(
        reverse("episode_create", args=[clinic.client.code]),
        {
            "goal_1": "Keep the new job",
            "instruments": ["gad7"],
            "gbo_every": "0",
            "submission_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    new, old = clinic.client.episodes.order_by("-id")
    assert new.is_active and new.therapist == clinic.owner and new.gbo_every == 0
    assert old == clinic.episode and old.status == "ended"
    page = http.get(client_page).content.decode()
    assert "Keep the new job" in page and "Speak up at work without panicking" in page
    assert "Start a new episode" not in page


# --- goals and plan ----------------------------------------------------------------------------


def _goals_post(http: HttpClient, episode: Episode, **fields: Any) -> Any:
    data = {
        "goal_1": "",
        "goal_2": "",
        "goal_3": "",
        "instruments": list(episode.outcome_instruments),
        "gbo_every": str(episode.gbo_every),
        "submission_id": str(uuid.uuid4()),
        **fields,
    }
    return http.post(reverse("episode_goals", args=[episode.pk]), data)


def test_a_reworded_goal_keeps_its_history(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    goal = clinic.episode.goals.get()
    first_wording = goal.description
    _goals_post(http, clinic.episode, goal_1="Speak up in meetings")
    _goals_post(http, clinic.episode, goal_1="Speak up in meetings and with my manager")
    goal.refresh_from_db()
    assert goal.description == "Speak up in meetings and with my manager"
    first, second = GoalRevision.objects.filter(goal=goal).order_by("replaced_at")
    assert (first.description, first.valid_from) == (first_wording, goal.created_at)
    assert (second.description, second.valid_from) == ("Speak up in meetings", first.replaced_at)
    assert second.replaced_by == clinic.owner
    page = http.get(reverse("episode_goals", args=[clinic.episode.pk])).content.decode()
    assert first_wording in page and "Speak up in meetings" in page
    assert "Earlier wordings" in page


def test_goals_are_added_up_to_three_and_never_emptied(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    _goals_post(http, clinic.episode, goal_1=clinic.episode.goals.get().description, goal_2="B")
    assert list(clinic.episode.goals.values_list("number", flat=True)) == [1, 2]
    refused = _goals_post(http, clinic.episode, goal_1="", goal_2="B")
    assert refused.status_code == 400 and "reword it instead" in refused.content.decode()
    assert clinic.episode.goals.count() == 2
    assert not GoalRevision.objects.exists()


def test_the_measure_plan_changes(clinic: Clinic) -> None:
    response = _goals_post(
        http_as(clinic.owner),
        clinic.episode,
        goal_1=clinic.episode.goals.get().description,
        instruments=["gad7", "phq9"],
        gbo_every="1",
    )
    assert response.status_code == 302
    clinic.episode.refresh_from_db()
    assert clinic.episode.outcome_instruments == ["phq9", "gad7"]
    assert clinic.episode.gbo_every == 1


def test_supervisor_reads_goals_but_cannot_change_them(clinic: Clinic) -> None:
    http = http_as(clinic.supervisor)
    page = http.get(reverse("episode_goals", args=[clinic.episode.pk])).content.decode()
    assert "Speak up at work without panicking" in page and "<textarea" not in page
    assert _goals_post(http, clinic.episode, goal_1="Hijacked").status_code == 404
    assert clinic.episode.goals.get().description == "Speak up at work without panicking"


# --- GBO schedule in the check-in flow ---------------------------------------------------------


@given(st.integers(min_value=1, max_value=200), st.sampled_from([0, 1, 2, 3, 4, 6]))
def test_gbo_is_due_at_session_one_and_every_nth_after(session: int, every: int) -> None:
    due = flow.gbo_due(session, every)
    if every == 0:
        assert not due
    else:
        assert due == ((session - 1) % every == 0)
        assert flow.gbo_due(1, every)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("every", "sessions_with_gbo"), [(4, [1, 5, 9]), (2, [1, 3, 5, 7, 9]), (1, list(range(1, 10)))]
)
def test_the_check_in_asks_gbo_on_the_episode_schedule(
    every: int, sessions_with_gbo: list[int]
) -> None:
    episode = factories.EpisodeFactory.create(gbo_every=every, outcome_instruments=["phq9"])
    asked = [
        number
        for number in range(1, 10)
        if flow.GBO
        in flow.before_instruments(
            factories.AppointmentFactory.build(episode=episode, session_number=number), 2
        )
    ]
    assert asked == sessions_with_gbo


@pytest.mark.django_db
def test_gbo_never_and_without_goals() -> None:
    never = factories.EpisodeFactory.create(gbo_every=0, outcome_instruments=["phq9", "gad7"])
    first = factories.AppointmentFactory.build(episode=never, session_number=1)
    assert flow.before_instruments(first, 2) == ["phq9", "gad7"]
    usual = factories.EpisodeFactory.create(gbo_every=4)
    assert flow.GBO not in flow.before_instruments(
        factories.AppointmentFactory.build(episode=usual, session_number=1), 0
    )


# --- transfer ----------------------------------------------------------------------------------


def test_supervisor_transfers_an_episode_between_supervisees(clinic: Clinic) -> None:
    second = factories.UserFactory.create(email="second@clinic.test")
    factories.SupervisionFactory.create(supervisor=clinic.supervisor, therapist=second)
    http = http_as(clinic.supervisor)
    url = reverse("episode_transfer", args=[clinic.episode.pk])
    form = http.get(url).content.decode()
    assert second.display_name in form and clinic.colleague.display_name not in form
    assert (
        http.post(
            url, {"therapist": clinic.colleague.pk, "submission_id": str(uuid.uuid4())}
        ).status_code
        == 400
    )
    response = http.post(url, {"therapist": second.pk, "submission_id": str(uuid.uuid4())})
    assert response.status_code == 302
    clinic.episode.refresh_from_db()
    assert clinic.episode.therapist == second
    event = AuditEvent.objects.get(action="care.episode.transferred")
    assert event.data == {"from": clinic.owner.pk, "to": second.pk}
    assert event.client_id == clinic.client.pk and event.actor == clinic.supervisor
    client_page = reverse("client_detail", args=[clinic.client.code])
    assert http_as(second).get(client_page).status_code == 200
    assert http_as(clinic.owner).get(client_page).status_code == 404
    # The previous therapist's private reflection stays theirs.
    assert clinic.private_reflection.text not in http_as(second).get(client_page).content.decode()


def test_only_the_supervisor_offers_a_transfer(clinic: Clinic) -> None:
    url = reverse("client_detail", args=[clinic.client.code])
    assert "Transfer to another supervisee" in http_as(clinic.supervisor).get(url).content.decode()
    assert "Transfer to another supervisee" not in http_as(clinic.owner).get(url).content.decode()


# --- queries -----------------------------------------------------------------------------------


def _count(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_goals_page_queries_do_not_grow_with_revisions() -> None:
    episode = factories.EpisodeFactory.create()
    goals = [
        factories.GoalFactory.create(episode=episode, number=n, description=f"Goal {n}")
        for n in (1, 2)
    ]
    http = http_as(episode.therapist)
    url = reverse("episode_goals", args=[episode.pk])

    def revise(times: int) -> None:
        for goal in goals:
            for _ in range(times):
                GoalRevision.objects.create(
                    goal=goal, description="old", valid_from=timezone.now() - timedelta(days=9)
                )

    revise(1)
    small = _count(http, url)
    factories.GoalFactory.create(episode=episode, number=3)
    revise(10)
    assert _count(http, url) == small


@pytest.mark.django_db
def test_new_client_page_queries_do_not_grow_with_supervisees() -> None:
    supervisor = factories.UserFactory.create(role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor)
    http = http_as(supervisor)
    small = _count(http, reverse("client_create"))
    for _ in range(10):
        factories.SupervisionFactory.create(supervisor=supervisor)
    assert _count(http, reverse("client_create")) == small
    assert Goal.objects.count() == 0
