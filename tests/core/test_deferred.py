"""Records of reads written in batches off the request path (alliance.core.deferred): a landing
visit's audit event and the link's first opening arrive with the next batch, exactly once; a
change's own records are never deferred; a failed batch is kept for the next attempt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from alliance.accounts.audit import log_clients_viewed
from alliance.accounts.models import AuditEvent
from alliance.checkin.models import CheckinLink
from alliance.checkin.page_forms import new_started_value
from alliance.core import deferred
from tests import factories
from tests.checkin.conftest import Visit, checkin


@pytest.fixture
def deferring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(deferred._queue, "autostart", False)
    deferred.flush()
    with override_settings(ALLIANCE_DEFER_READ_RECORDS=True):
        yield
    deferred.flush()


# Without a test's surrounding transaction: inside one, records are written with it, never deferred.
pytestmark = pytest.mark.django_db(transaction=True)


def _opened_events() -> int:
    return AuditEvent.objects.filter(action="checkin.link.opened").count()


def test_a_visit_is_recorded_with_the_next_batch_exactly_once(
    visit: Visit, deferring: None
) -> None:
    assert HttpClient().get(visit.url()).status_code == 200
    assert _opened_events() == 0
    assert CheckinLink.objects.get(appointment=visit.appointment).first_opened_at is None
    assert deferred.flush() == 2  # the audit event and the first opening
    assert _opened_events() == 1
    assert CheckinLink.objects.get(appointment=visit.appointment).first_opened_at is not None
    assert deferred.flush() == 0


def test_a_submission_is_never_deferred(visit: Visit, deferring: None) -> None:
    appointment = visit.appointment
    with time_machine.travel(
        appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes), tick=False
    ):
        data = checkin() | {"started": new_started_value()}
        HttpClient().post(visit.url("answer", "checkin"), data)
    # The response's own audit event and the link's first opening committed with the answers.
    assert AuditEvent.objects.filter(action="care.response.created").count() == 1
    assert CheckinLink.objects.get(appointment=appointment).first_opened_at is not None
    assert deferred.flush() == 0


def test_a_failed_batch_is_kept_for_the_next_attempt(
    visit: Visit, deferring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    HttpClient().get(visit.url())

    class Down:
        def __enter__(self) -> None:
            raise DatabaseError("the database is away")

        def __exit__(self, *args: object) -> None:
            return None

    with monkeypatch.context() as patch:
        patch.setattr(deferred.transaction, "atomic", lambda: Down())
        assert deferred.flush() == 0
    assert _opened_events() == 0
    assert deferred.flush() == 2
    assert _opened_events() == 1


def test_a_list_pages_reads_are_one_statement_and_arrive_each_once(
    deferring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A caseload view records one read per client shown; 250 of them are three multi-row INSERTs on
    # SQLite and one INSERT ... SELECT over unnest() on PostgreSQL, not 250 statements, and every
    # event arrives exactly once with its own client.
    clients = [factories.ClientFactory.create(code=f"C-BATCH{i}") for i in range(3)]
    ids = [clients[i % 3].pk for i in range(250)]
    log_clients_viewed("care.caseload.viewed", ids, actor_label="system")
    copies = _count_copies(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        written = deferred.flush()
    # (executemany's are captured as "<n> times: INSERT ...")
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    if connection.vendor == "postgresql":
        assert (written, len(inserts), copies) == (1, 1, [])
        assert "unnest(" in inserts[0]
    else:
        assert (written, len(inserts), copies) == (250, 3, [])
    viewed = AuditEvent.objects.filter(action="care.caseload.viewed")
    assert viewed.count() == 250
    for client in clients:
        assert viewed.filter(client_id=client.pk).count() == ids.count(client.pk)
    assert set(viewed.values_list("object_id", flat=True)) == {str(c.pk) for c in clients}


def test_single_reads_of_many_requests_are_batched(
    deferring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One read each (a client page, a landing visit), from many requests: one COPY on PostgreSQL,
    # multi-row INSERTs of 100 rows on SQLite.
    client = factories.ClientFactory.create(code="C-SINGLE")
    for _ in range(250):
        log_clients_viewed("care.client.viewed", [client.pk], actor_label="system")
    copies = _count_copies(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert deferred.flush() == 250
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    if connection.vendor == "postgresql":
        assert (len(inserts), copies) == (0, ["COPY"])
    else:
        assert (len(inserts), copies) == (3, [])
    assert (
        AuditEvent.objects.filter(action="care.client.viewed", client_id=client.pk).count() == 250
    )


def _count_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The COPY statements run from now on (PostgreSQL only: SQLite has no COPY)."""
    seen: list[str] = []
    if connection.vendor == "postgresql":
        import psycopg

        original = psycopg.Cursor.copy

        def copy(self: psycopg.Cursor[Any], statement: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(statement.split()[0])
            return original(self, statement, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "copy", copy)
    return seen


# Text that COPY's format must escape (tab, newline, backslash, its \N for null), quotes, and text
# beyond ASCII; in the one free-text column (data carries codes only).
AWKWARD = "tab\there\nnew line \\N back\\slash 'quote' \"double\" ñ ✓ 🙂"


@pytest.mark.parametrize("shown", [1, 2], ids=["one client (COPY)", "a list (unnest)"])
def test_every_kind_of_value_arrives_as_written(deferring: None, shown: int) -> None:
    clients = [factories.ClientFactory.create(code=f"C-COPY{i}") for i in range(shown)]
    events = AuditEvent.objects.filter(action__startswith="test.")
    with override_settings(ALLIANCE_DEFER_READ_RECORDS=True):
        log_clients_viewed(
            "test.read",
            [c.pk for c in clients],
            data={"as": "supervisor", "n": [1, 2.5, None]},
            actor_label=AWKWARD,
        )
    assert events.count() == 0
    deferred.flush()
    assert events.count() == shown
    for client in clients:
        event = events.get(client_id=client.pk)
        assert (event.actor_label, event.data, event.client_id, event.object_id) == (
            AWKWARD,
            {"as": "supervisor", "n": [1, 2.5, None]},
            client.pk,
            str(client.pk),
        )
        assert event.ip_address is None and event.at is not None
