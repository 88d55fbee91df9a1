"""The progress view: the client's own answers in plain words, nothing of the therapist's, in the
client's language; through the check-in link only when the clinic allows it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.accounts.models import Role
from alliance.care import models as care
from alliance.checkin.links import create_link
from tests import factories
from tests.care.ending_data import history

pytestmark = pytest.mark.django_db


def _http(user: object | None = None) -> HttpClient:
    http = HttpClient()
    if user is not None:
        http.force_login(user)  # type: ignore[arg-type]
    return http


def test_owner_and_supervisor_see_plain_sentences_and_nothing_private() -> None:
    h = history()
    factories.ReflectionFactory.create(episode=h.episode, text="I felt bored and guilty.")
    supervisor = factories.UserFactory.create(role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=h.episode.therapist)
    url = reverse("episode_progress", args=[h.episode.pk])
    for user in (h.episode.therapist, supervisor):
        response = _http(user).get(url)
        page = response.content.decode()
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "Your mood (PHQ-9) score went from 18 to 9." in page
        assert "Your worry (GAD-7) score went from 14 to 6." in page
        assert "Sleep through the night" in page
        assert "You rated it 2 at first and 7 most recently, out of 10." in page
        view = page[page.index('class="progress-view"') :]
        for private in ("I felt bored", "Check-in fell", "Therapist", "Expected", "alert"):
            assert private not in view, private
        assert "I felt bored" not in page and "Check-in fell" not in page
        assert "style=" not in page
    assert _http(factories.UserFactory.create()).get(url).status_code == 404


def test_in_the_clients_language() -> None:
    h = history(lang="es")
    page = _http(h.episode.therapist).get(reverse("episode_progress", args=[h.episode.pk]))
    text = page.content.decode()
    assert "Su puntuación de ánimo (PHQ-9) pasó de 18 a 9." in text
    assert 'lang="es"' in text


def test_through_the_link_only_when_the_clinic_allows_it() -> None:
    h = history()
    _link, token = create_link(h.future, created_by=h.episode.therapist)
    url = reverse("checkin_progress", args=[token])
    thanks = reverse("checkin_thanks", args=[token])
    assert _http().get(url).status_code == 404
    assert url not in _http().get(thanks).content.decode()
    settings = care.ClinicSettings.load()
    settings.share_progress_with_clients = True
    settings.save()
    assert url in _http().get(thanks).content.decode()
    response = _http().get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Your mood (PHQ-9) score went from 18 to 9." in page
    client = h.episode.client
    for secret in (client.name, client.code, client.email, "Check-in fell"):
        assert secret not in page
    assert _http().get(reverse("checkin_progress", args=["not-a-token"])).status_code == 404


def test_administrator_can_allow_it_in_the_clinic_settings() -> None:
    from alliance.accounts.forms import ClinicSettingsForm

    assert "share_progress_with_clients" in ClinicSettingsForm().fields


def test_progress_queries_do_not_grow_with_sessions() -> None:
    counts = []
    for sessions in (3, 12):
        h = history(sessions=sessions)
        http = _http(h.episode.therapist)
        url = reverse("episode_progress", args=[h.episode.pk])
        http.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
