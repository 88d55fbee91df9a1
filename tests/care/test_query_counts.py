"""Pages a therapist uses run a fixed number of SQL queries, whatever the caseload size (netbox-style
baselines: if a change adds a query, update the number here deliberately)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.accounts.models import Role, User
from tests import factories

# caseload 10 -> 11 (issue 9): the "needs attention" list is one row per client, from one grouped
# query on alerts plus one for the names of the (at most 30) clients it shows, rather than decrypting
# a name for every (client, kind) row.
# client_detail 16 -> 21 (issue 9): +1 the client's recent written answers near the top ("In their
# own words", alliance.care.words, a sliced query), +2 the latest session's answers item by item, +1
# auditing that read, +1 the clinic's supervision-prompt rule (alliance.care.journal).
# every page -3 (issue 10): the session row is renewed at most once a minute
# (alliance.core.middleware.IdleTimeoutMiddleware), not written on every request (BEGIN, UPDATE, COMMIT).
# caseload 8 -> 9 (issue 10, point 6): the table is paged (queries.CASELOAD_PAGE_SIZE): +1 the order
# of all the episodes (with what the "needs attention" list ranks clients by), then the figures of one
# page's; the list then counts the kinds of the (at most 30) clients it shows and reads their names.
# caseload 9 -> 11 (issue 10, point 6): the order is three plain queries (the episodes, their open
# alerts, their next appointments) instead of one with four correlated subqueries per episode, which
# PostgreSQL ran three times slower than the three together (queries.own_caseload_order).
# The read records of a list page (alliance.accounts.audit._insert), inside the test's transaction:
# on PostgreSQL one INSERT ... SELECT over unnest(); on SQLite the rows' INSERT in a savepoint (3).
LIST_READS = 1 if connection.vendor == "postgresql" else 3
BASELINES = {"caseload": 8 + LIST_READS, "supervision": 5 + LIST_READS, "client_detail": 18}


def _caseload_of(therapist: User, size: int) -> None:
    for _ in range(size):
        episode = factories.EpisodeFactory.create(therapist=therapist)
        for number in (1, 2, 3):
            appointment = factories.AppointmentFactory.create(
                episode=episode, session_number=number
            )
            factories.ResponseFactory.create(
                episode=episode, appointment=appointment, instrument="phq9"
            )
            factories.ResponseFactory.create(
                episode=episode, appointment=appointment, instrument="checkin", total=7.5
            )
        factories.AlertFactory.create(episode=episode)


def _count(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["caseload", "supervision"])
def test_caseload_queries_do_not_grow_with_the_caseload(page: str) -> None:
    therapist = factories.UserFactory.create()
    supervisor = factories.UserFactory.create(role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=therapist)
    http = HttpClient()
    http.force_login(therapist if page == "caseload" else supervisor)
    _caseload_of(therapist, 2)
    small = _count(http, reverse(page))
    _caseload_of(therapist, 25)
    large = _count(http, reverse(page))
    assert small == large == BASELINES[page]


@pytest.mark.django_db
def test_client_page_queries_do_not_grow_with_the_number_of_sessions() -> None:
    therapist = factories.UserFactory.create()
    episode = factories.EpisodeFactory.create(therapist=therapist)
    http = HttpClient()
    http.force_login(therapist)
    url = reverse("client_detail", args=[episode.client.code])

    def add_sessions(start: int, count: int) -> None:
        for number in range(start, start + count):
            appointment = factories.AppointmentFactory.create(
                episode=episode, session_number=number
            )
            factories.ResponseFactory.create(episode=episode, appointment=appointment)
            factories.ReflectionFactory.create(episode=episode, appointment=appointment)
            factories.AlertFactory.create(episode=episode, appointment=appointment)
            factories.AlertFactory.create(episode=episode, appointment=appointment, status="closed")

    add_sessions(1, 2)
    small = _count(http, url)
    add_sessions(3, 30)
    assert small == _count(http, url) == BASELINES["client_detail"]
