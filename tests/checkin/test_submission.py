"""A check-in submission's writes (alliance.checkin.submission): the same rows whether they are a
chain (alliance.core.chain: one statement on PostgreSQL, plain statements in a transaction that other
submissions may share on SQLite) or the models' writes in a transaction (a form that may have been
answered before); all of them or none; a raced duplicate stores once.

With the job backend of production (jobs in the database): the tests' own backend runs jobs in the
process and never uses the chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.db import IntegrityError, connection
from django.db.models.signals import post_save
from django.test import Client as HttpClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from alliance.accounts.models import AuditEvent
from alliance.care.models import Alert, AlertKind, Respondent, Response, ResponseSource
from alliance.care.responses import prepare_response
from alliance.care.tasks import prepare_recompute
from alliance.checkin import submission
from alliance.checkin.links import resolve
from alliance.checkin.models import CheckinLink
from alliance.checkin.page_forms import new_started_value
from alliance.checkin.tokens import digest
from alliance.core import chain
from tests.checkin.conftest import Visit, checkin, phq9

IN_DATABASE = {"default": {"BACKEND": "alliance.operations.task_backend.DatabaseBackend"}}


@pytest.fixture
def at_session_end(visit: Visit) -> Iterator[None]:
    appointment = visit.appointment
    end = appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes)
    with time_machine.travel(end, tick=False), override_settings(TASKS=IN_DATABASE):
        yield


def _submit(visit: Visit) -> tuple[Any, list[str]]:
    data = checkin(bond=9, goals=6) | {"started": new_started_value()}
    with CaptureQueriesContext(connection) as captured:
        answer = HttpClient(REMOTE_ADDR="203.0.113.7").post(visit.url("answer", "checkin"), data)
    return answer, [q["sql"] for q in captured.captured_queries]


@pytest.fixture(params=[True, False], ids=["chain", "transaction"])
def as_chain(request: pytest.FixtureRequest, at_session_end: None) -> Iterator[bool]:
    """Each test once with the chain and once with the models' transaction."""
    with mock.patch.object(chain, "supported", return_value=request.param):
        yield request.param


def test_the_submission_stores_its_four_rows_once(visit: Visit, as_chain: bool) -> None:
    answer, statements = _submit(visit)
    assert answer.status_code == 302
    response = Response.objects.get(appointment=visit.appointment)
    assert (response.instrument, response.respondent, response.source) == (
        "checkin",
        Respondent.CLIENT,
        ResponseSource.CHECKIN,
    )
    assert response.answers["bond"] == 9 and response.answers["goals"] == 6
    event = AuditEvent.objects.get(action="care.response.created")
    assert (event.object_type, event.object_id, event.client_id) == (
        "response",
        str(response.pk),
        visit.episode.client_id,
    )
    assert (event.actor_id, event.actor_label, event.ip_address, event.data) == (
        None,
        "client link",
        "203.0.113.7",
        {},
    )
    assert len(event.request_id) == 32
    job = DBTaskResult.objects.get()
    assert job.args_kwargs == {"args": [visit.episode.pk], "kwargs": {}}
    assert job.task_path == "alliance.care.tasks.recompute_episode_alerts"
    assert DBTaskResult.objects.ready().filter(pk=job.pk).exists()
    link = CheckinLink.objects.get(token_digest=digest(visit.token))
    assert link.first_opened_at is not None
    writes = [s for s in statements if not s.startswith("SELECT")]
    if as_chain and connection.vendor == "postgresql":
        # The link's lookup, then the four rows in one statement: no BEGIN, no COMMIT.
        assert len(statements) == 2 and len(writes) == 1 and writes[0].startswith("WITH ")
    elif as_chain:
        # The link's lookup, then the four statements (in the test's transaction, a savepoint).
        kinds = [s.split()[0] for s in writes if not s.startswith(("SAVEPOINT", "RELEASE"))]
        assert len(statements) == 1 + len(writes) and kinds == ["UPDATE", *["INSERT"] * 3]
    else:
        assert sum(s.startswith("INSERT") for s in writes) == 3
    # Sent again (a double submit): the form is answered, so this takes the transaction, finds the
    # response, and stores nothing new, not even a second recompute (the first committed with it).
    again, _ = _submit(visit)
    assert again.status_code == 302
    assert Response.objects.filter(appointment=visit.appointment).count() == 1
    assert AuditEvent.objects.filter(action="care.response.created").count() == 1
    assert DBTaskResult.objects.get() == job


def test_a_risk_answer_stored_either_way_raises_its_alert_at_once(
    visit: Visit, as_chain: bool
) -> None:
    data = phq9([1, 1, 1, 1, 1, 1, 1, 1, 2]) | {"started": new_started_value()}
    answer = HttpClient().post(visit.url("answer", "phq9"), data)
    # The crisis resources first; the alert was raised in the request (the job is for the rest).
    assert answer.status_code == 302 and "/support/" in answer["Location"]
    response = Response.objects.get(instrument="phq9", risk=True)
    alert = Alert.objects.get(kind=AlertKind.RISK)
    assert alert.episode_id == visit.episode.pk == response.episode_id


def _pending(visit: Visit) -> tuple[Any, ...]:
    resolved = resolve(visit.token, mark_opened=False)
    link = resolved.link
    assert link is not None
    pending = prepare_response(
        episode=link.appointment.episode,
        appointment=link.appointment,
        instrument_id="checkin",
        answers={"bond": 8, "goals": 7, "tasks": 7, "overall": 8},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )
    return link, pending, prepare_recompute(link.appointment.episode_id)


def test_a_raced_duplicate_stores_once_and_the_chain_still_writes_the_rest(
    visit: Visit, at_session_end: None
) -> None:
    link, pending, job = _pending(visit)
    # Another submission of the same form committed after this one's lookup said there was none.
    _other_link, other, _other_job = _pending(visit)
    earlier = other.store(known_new=True).response
    events_before = AuditEvent.objects.filter(action="care.response.created").count()
    recorded = submission.store(link, pending, job, known_new=True)
    assert recorded.created is False and recorded.response.pk == earlier.pk
    assert Response.objects.filter(appointment=visit.appointment).count() == 1
    # No event for a response that was not written.
    assert AuditEvent.objects.filter(action="care.response.created").count() == events_before
    assert DBTaskResult.objects.count() == 1
    assert CheckinLink.objects.get(pk=link.pk).first_opened_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_chain_that_fails_in_any_part_writes_none_of_them(
    visit: Visit, at_session_end: None
) -> None:
    link, pending, job = _pending(visit)
    # The job's row is there already: the chain's last part breaks the primary key.
    with connection.cursor() as cursor:
        cursor.execute(job.insert.sql, job.insert.params)
    assert DBTaskResult.objects.count() == 1
    with pytest.raises(IntegrityError):
        submission.store(link, pending, job, known_new=True)
    # In autocommit, as in production: the chain was its own transaction (one statement on
    # PostgreSQL, a group of one on SQLite), and rolled back whole.
    assert not connection.in_atomic_block
    assert not Response.objects.filter(appointment=visit.appointment).exists()
    assert not AuditEvent.objects.filter(action="care.response.created").exists()
    assert CheckinLink.objects.get(pk=link.pk).first_opened_at is None
    assert DBTaskResult.objects.count() == 1


def test_the_chain_skips_only_the_audit_receiver_of_a_response() -> None:
    # PendingResponse.chain_stored and PendingResponse.store mark the row saved without post_save,
    # because each writes the audit event that is that signal's one receiver (the chain's part, the
    # prepared event). Another receiver would be skipped too: this fails first.
    receivers = post_save._live_receivers(Response)
    names = [f"{r.__module__}.{r.__qualname__}" for r in receivers[0]]
    assert names == ["alliance.care.signals._saved"]


def test_a_chain_names_its_parts_once_and_keeps_their_parameters_in_order() -> None:
    parts = [
        chain.Part("first", "INSERT INTO a (x) VALUES (%s) RETURNING id", [1]),
        chain.Part("second", "INSERT INTO b (y, z) SELECT %s, id FROM first", ["two"]),
    ]
    sql, params = chain.statement(parts, "first")
    assert sql == (
        "WITH first AS (INSERT INTO a (x) VALUES (%s) RETURNING id), "
        "second AS (INSERT INTO b (y, z) SELECT %s, id FROM first) SELECT * FROM first"
    )
    assert params == [1, "two"]
    with pytest.raises(ValueError, match="distinct"):
        chain.statement([*parts, parts[0]], "first")
    with pytest.raises(ValueError, match="distinct"):
        chain.statement([chain.Part('x"; DROP', "DELETE FROM a", [])], 'x"; DROP')
    with pytest.raises(ValueError, match="not Returned"):
        # PostgreSQL's one statement reads an earlier part by its name (FROM first).
        chain.statement([parts[0], chain.Part("second", "x", [chain.Returned("first")])], "first")
    with pytest.raises(ValueError, match="not one of its parts"):
        chain.statement(parts, "third")
