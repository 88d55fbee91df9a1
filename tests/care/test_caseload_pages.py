"""The caseload table is paged (alliance.care.queries.CASELOAD_PAGE_SIZE): the most urgent clients on the
first page, every client on exactly one page, filters kept across pages, and only the clients a page
shows are recorded as viewed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from alliance.accounts.models import AuditEvent, User
from alliance.care import queries
from alliance.care.models import Episode
from tests import factories
from tests.care.builders import http_as

SIZE = queries.CASELOAD_PAGE_SIZE


def _codes(html: str) -> list[str]:
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<span class="code">(C-[A-Z0-9]+)</span>', table)


@pytest.fixture
def caseload(db: None) -> tuple[User, list[Episode]]:
    therapist = factories.UserFactory.create()
    episodes = [
        factories.EpisodeFactory.create(
            therapist=therapist, client=factories.ClientFactory.create(code=f"C-P{n:04d}")
        )
        for n in range(SIZE + 7)
    ]
    # The last client by code has the only urgent alert: the order, not the code, puts them first.
    factories.AlertFactory.create(episode=episodes[-1], kind="risk", severity="urgent")
    return therapist, episodes


def test_every_client_is_on_exactly_one_page_the_most_urgent_first(
    caseload: tuple[User, list[Episode]],
) -> None:
    therapist, episodes = caseload
    http = http_as(therapist)
    first = http.get(reverse("caseload")).content.decode()
    second = http.get(reverse("caseload"), {"page": 2}).content.decode()
    page1, page2 = _codes(first), _codes(second)
    assert len(page1) == SIZE and len(page2) == 7
    assert page1[0] == episodes[-1].client.code
    assert sorted(page1 + page2) == sorted(e.client.code for e in episodes)
    assert f"Clients 1 to {SIZE} of {SIZE + 7}" in first
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_a_page_that_does_not_parse_or_is_past_the_end_shows_a_real_page(
    caseload: tuple[User, list[Episode]],
) -> None:
    http = http_as(caseload[0])
    assert len(_codes(http.get(reverse("caseload"), {"page": "x"}).content.decode())) == SIZE
    assert len(_codes(http.get(reverse("caseload"), {"page": 99}).content.decode())) == 7


def test_filters_are_kept_in_the_page_links(caseload: tuple[User, list[Episode]]) -> None:
    html = http_as(caseload[0]).get(reverse("caseload"), {"quiet": "on"}).content.decode()
    assert "?status=active&amp;quiet=on&amp;page=2" in html


def test_only_the_clients_a_page_shows_are_recorded_as_viewed(
    caseload: tuple[User, list[Episode]],
) -> None:
    therapist, episodes = caseload
    html = http_as(therapist).get(reverse("caseload"), {"page": 2}).content.decode()
    viewed = set(
        AuditEvent.objects.filter(action="care.caseload.viewed").values_list("client_id", flat=True)
    )
    shown = {e.client_id for e in episodes if e.client.code in _codes(html)}
    # The page's rows, and the urgent client of the "needs attention" list above the table.
    assert viewed == shown | {episodes[-1].client_id}
    assert len(viewed) == 8
