"""The landing page rendered once per state (alliance.checkin.shared_pages): the same HTML as a
render of its own, each client's own token in it and no one else's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.http import HttpRequest
from django.test import Client as HttpClient

from alliance.care import models as care
from alliance.checkin import shared_pages
from alliance.checkin.links import create_link
from tests import factories
from tests.checkin.conftest import Visit, checkin, phq9


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    shared_pages.forget()
    yield
    shared_pages.forget()


def _html(url: str, *, shared: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    if not shared:
        monkeypatch.setattr(shared_pages, "render", lambda *args, **kwargs: None)
    page = HttpClient().get(url)
    monkeypatch.undo()
    assert page.status_code == 200
    return page.content.decode()


def _second_link(visit: Visit) -> tuple[care.Appointment, str]:
    # Another client, booked at the same moment: their landing page is in the same state.
    other = factories.EpisodeFactory.create(
        client=factories.ClientFactory.create(code="C-VIS02"),
        therapist=visit.episode.therapist,
    )
    factories.GoalFactory.create(episode=other, number=1, description="Sleep through")
    appointment = factories.AppointmentFactory.create(
        episode=other,
        session_number=1,
        scheduled_at=visit.appointment.scheduled_at,
        attendance=care.Attendance.SCHEDULED,
    )
    return appointment, create_link(appointment)[1]


@pytest.mark.parametrize("lang", ["", "?lang=es"])
def test_the_shared_page_is_the_page_rendered_on_its_own(
    visit: Visit, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = visit.url() + lang
    own = _html(url, shared=False, monkeypatch=monkeypatch)
    first = _html(url, shared=True, monkeypatch=monkeypatch)
    again = _html(url, shared=True, monkeypatch=monkeypatch)  # from the remembered page
    assert first == own
    assert again == own
    assert len(shared_pages._pages) == 1


def test_each_state_has_its_own_page(visit: Visit, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _html(visit.url(), shared=True, monkeypatch=monkeypatch)
    HttpClient().post(visit.url("answer", "phq9"), phq9([1] * 9))
    after_one = _html(visit.url(), shared=True, monkeypatch=monkeypatch)
    assert after_one != before
    assert after_one == _html(visit.url(), shared=False, monkeypatch=monkeypatch)
    appointment = visit.appointment
    end = appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes)
    with time_machine.travel(end, tick=False):
        opened = _html(visit.url(), shared=True, monkeypatch=monkeypatch)
        assert opened == _html(visit.url(), shared=False, monkeypatch=monkeypatch)
        HttpClient().post(visit.url("answer", "checkin"), checkin())
    assert opened != after_one
    assert len(shared_pages._pages) == 3


def test_two_clients_in_one_state_get_one_page_each_with_their_own_token(
    visit: Visit, monkeypatch: pytest.MonkeyPatch
) -> None:
    _appointment, token = _second_link(visit)
    mine = _html(visit.url(), shared=True, monkeypatch=monkeypatch)
    theirs = _html(f"/c/{token}/", shared=True, monkeypatch=monkeypatch)
    assert len(shared_pages._pages) == 1  # the second was the first's, with its own token
    assert visit.token in mine and token not in mine
    assert token in theirs and visit.token not in theirs
    assert theirs == mine.replace(visit.token, token)
    assert shared_pages.PLACEHOLDER not in mine + theirs


def test_a_page_that_takes_the_token_from_elsewhere_is_not_remembered(visit: Visit) -> None:
    class FromTheRequest:
        """A value the key cannot see through: it prints the real token."""

        def __str__(self) -> str:
            return visit.token

    request = HttpClient().get(visit.url()).wsgi_request
    shared_pages.forget()
    context = {"token": visit.token, "after_opens": FromTheRequest(), "before": [], "after": []}
    html = shared_pages.render(
        request, "checkin/landing.html", "en", context, visit.token, per_language={"t": {}}
    )
    assert html is None
    assert not shared_pages._pages


def test_a_token_of_other_characters_is_never_put_in(visit: Visit) -> None:
    request = HttpClient().get(visit.url()).wsgi_request
    odd = 'x"><script>alert(1)</script>'
    assert (
        shared_pages.render(
            request, "checkin/landing.html", "en", {"token": odd}, odd, per_language={}
        )
        is None
    )


def test_a_staff_member_signed_in_on_the_same_browser_leaves_nothing_in_the_shared_page(
    visit: Visit, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A therapist opens a client's link on the clinic's computer (to help them, say): the page they
    # see, remembered for every link in this state, holds nothing of theirs.
    therapist = visit.episode.therapist
    calls: list[tuple[object, ...]] = []
    render = shared_pages.render_to_string

    def spy(*args: object, **kwargs: object) -> str:
        calls.append(args + tuple(kwargs.values()))
        return render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(shared_pages, "render_to_string", spy)
    browser = HttpClient()
    browser.force_login(therapist)
    seen = browser.get(visit.url())
    assert seen.status_code == 200
    # Rendered without the request, so no context processor (user, CSRF, messages) took part.
    assert len(calls) == 1
    assert not any(isinstance(arg, HttpRequest) for arg in calls[0])
    monkeypatch.undo()
    assert therapist.email not in seen.content.decode()
    assert len(shared_pages._pages) == 1
    (remembered,) = shared_pages._pages.values()
    assert therapist.email not in remembered
    assert "csrfmiddlewaretoken" not in remembered
    assert _html(visit.url(), shared=True, monkeypatch=monkeypatch) == seen.content.decode()
