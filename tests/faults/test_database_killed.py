"""The database connection dies in the middle of a request (issue 10, point 7).

Every SQL statement of a check-in submission, and of a staff form, is made to fail in turn (the
statement never reaches the database, as when the server closes the connection). For each: the page
says what happened without a traceback or SQL, nothing is half-written, and sending the same form
again stores exactly once. A client's answers are back on screen whichever statement failed
(alliance.checkin.resilience), with crisis help if they include a risk answer. On PostgreSQL a real backend is also terminated from a second connection.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.care.models import Alert, AlertNote, Attendance, ClinicSettings, Response
from alliance.checkin.links import create_link
from alliance.checkin.models import CheckinLink
from tests import factories
from tests.checkin.conftest import Visit, checkin, phq9
from tests.checkin.test_flow import _started
from tests.conftest import Clinic
from tests.faults.helpers import FailOnQuery, assert_nothing_leaked


def _fresh_link(visit: Visit, n: int) -> str:
    """Another appointment of the same client, tomorrow, with its own link: a clean slate for the next
    failure (these tests run in autocommit, as the server does, so nothing is rolled back for them)."""
    appointment = factories.AppointmentFactory.create(
        episode=visit.episode,
        session_number=visit.appointment.session_number + n,
        scheduled_at=visit.appointment.scheduled_at,
        attendance=Attendance.SCHEDULED,
    )
    return create_link(appointment)[1]


def _statements(send: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert send().status_code == 302
    return len(queries)


# Real autocommit: a statement failing inside the test's own transaction would poison it for the
# statements after it, which the server never sees.
@pytest.mark.django_db(transaction=True)
def test_check_in_submission_survives_a_failure_at_every_statement(
    visit: Visit, after_session: None
) -> None:
    data = checkin(bond=3, better="The exercise felt pointless") | {"started": _started()}
    http = HttpClient(raise_request_exception=False)
    total = _statements(lambda: http.post(visit.url("answer", "checkin"), data))
    assert total >= 5  # the link lookup, the answers, the audit event, the next step
    outcomes: dict[int, int] = {}
    for n in range(1, total + 1):
        url = reverse("checkin_answer", args=[_fresh_link(visit, n), "checkin"])
        stored = Response.objects.filter(appointment__checkin_links__token_digest__isnull=False)
        fault = FailOnQuery(n)
        with connection.execute_wrapper(fault):
            page = http.post(url, data)
        if not fault.fired:
            # This request ran fewer statements than the measured one (a cached lookup).
            assert page.status_code == 302
            continue
        body = page.content.decode()
        outcomes[n] = page.status_code
        assert_nothing_leaked(body)
        assert "Rosalind" not in body and "C-VIS01" not in body
        appointment = CheckinLink.objects.latest("pk").appointment
        mine = Response.objects.filter(appointment=appointment, instrument="checkin")
        if page.status_code == 503:
            # The friendly page, whichever statement failed before the answers were stored (the
            # link lookup included): the answers are still on screen, nothing was stored.
            assert "save your answers" in body
            assert 'name="q_bond" value="3" checked' in body
            assert "The exercise felt pointless" in body
            assert mine.count() == 0
        else:
            # A statement after the answers were stored failed and was handled (the alert
            # recompute job, which retries on its own): the client goes on. Never the generic
            # error page.
            assert page.status_code == 302, (n, page.status_code)
            assert mine.count() == 1, n
        # The client presses the button again: stored exactly once, with its words.
        assert http.post(url, data).status_code == 302, n
        assert mine.count() == 1, n
        assert mine.get().open_answers == {"better": "The exercise felt pointless"}
        assert stored.exists()
    # The statements that write the answers are covered by the friendly page.
    assert 503 in outcomes.values(), outcomes


class FailEvery:
    """A `connection.execute_wrapper` that raises on every statement `matches` accepts: a table the
    database cannot serve at all for the rest of the request, the fallback's own reads included."""

    def __init__(self, matches: Callable[[str], bool]) -> None:
        self.matches = matches
        self.fired = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.matches(sql):
            self.fired += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def _on(table: str, verb: str = "SELECT") -> Callable[[str], bool]:
    return lambda sql: sql.lstrip().upper().startswith(verb) and f'"{table}"' in sql


# Each statement of a check-in submission, named: a failure at any of them keeps the answers.
STATEMENTS = {
    # One statement since issue 10 (alliance.checkin.lookup): the link, its goal count and the answered
    # forms, which also say which page comes next.
    "link lookup": _on("checkin_checkinlink"),
    "first opened": _on("checkin_checkinlink", "UPDATE"),
    "response": _on("care_response", "INSERT"),
    "audit event": _on("accounts_auditevent", "INSERT"),
}


# In autocommit, as the server runs: inside a test's transaction a failed UPDATE marks that transaction
# for rollback (QuerySet.update), which the server never sees.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("statement", STATEMENTS)
def test_check_in_answers_are_kept_whichever_statement_fails(
    visit: Visit, after_session: None, statement: str
) -> None:
    data = checkin(bond=3, better="The exercise felt pointless") | {"started": _started()}
    url = visit.url("answer", "checkin")
    http = HttpClient(raise_request_exception=False)
    fault = FailOnQuery(1, matches=STATEMENTS[statement])
    with connection.execute_wrapper(fault):
        page = http.post(url, data)
    assert fault.fired, statement
    body = page.content.decode()
    assert page.status_code == 503
    assert "save your answers" in body
    assert 'name="q_bond" value="3" checked' in body
    assert "The exercise felt pointless" in body
    assert "no-store" in page["Cache-Control"]
    assert_nothing_leaked(body)
    assert "Rosalind" not in body and "C-VIS01" not in body
    assert Response.objects.count() == 0  # nothing half-written
    # No crisis help for answers without risk (it would alarm for nothing).
    assert 'id="crisis"' not in body
    # The client presses the button again: stored exactly once.
    assert http.post(url, data).status_code == 302
    assert http.post(url, data).status_code == 302
    assert Response.objects.get().open_answers == {"better": "The exercise felt pointless"}


def test_answers_kept_in_the_language_of_the_form(visit: Visit, after_session: None) -> None:
    # The link lookup failed, so the client's language comes from the form's own field.
    data = checkin(bond=6) | {"started": _started(), "lang": "es"}
    with connection.execute_wrapper(FailEvery(_on("checkin_checkinlink"))):
        page = HttpClient(raise_request_exception=False).post(visit.url("answer", "checkin"), data)
    body = page.content.decode()
    assert page.status_code == 503
    assert '<html lang="es">' in body
    assert "No hemos podido guardar sus respuestas" in body
    assert 'name="q_bond" value="6" checked' in body


def test_risk_answer_kept_with_the_clinics_crisis_lines(visit: Visit) -> None:
    clinic = ClinicSettings.load()
    clinic.crisis_resources_en = "Call the Riverside crisis team on 0800 000 111."
    clinic.save()
    data = phq9([1, 1, 1, 1, 1, 1, 1, 1, 2]) | {"started": _started()}
    with connection.execute_wrapper(FailOnQuery(1, matches=_on("checkin_checkinlink"))):
        page = HttpClient(raise_request_exception=False).post(visit.url("answer", "phq9"), data)
    body = page.content.decode()
    assert page.status_code == 503
    assert 'name="q_9" value="2" checked' in body
    assert 'id="crisis"' in body and "Riverside crisis team" in body


def test_risk_answer_kept_with_built_in_crisis_help_when_nothing_can_be_read(
    visit: Visit,
) -> None:
    data = phq9([1, 1, 1, 1, 1, 1, 1, 1, 2]) | {"started": _started()}
    with connection.execute_wrapper(FailEvery(lambda sql: True)):
        page = HttpClient(raise_request_exception=False).post(visit.url("answer", "phq9"), data)
    body = page.content.decode()
    assert page.status_code == 503
    assert 'name="q_9" value="2" checked' in body
    assert 'id="crisis"' in body and "call your local emergency number" in body
    assert_nothing_leaked(body)


def test_goal_ratings_kept_with_the_goals_words_or_their_numbers(visit: Visit) -> None:
    data = {"q_goal1": "4", "started": _started()}
    url = visit.url("answer", "gbo")
    http = HttpClient(raise_request_exception=False)
    # The goals can still be read: the client sees their own words, through the valid link.
    with connection.execute_wrapper(FailOnQuery(1, matches=_on("care_response", "INSERT"))):
        page = http.post(url, data).content.decode()
    assert "Go back to swimming" in page and 'name="q_goal1" value="4" checked' in page
    # They cannot: the rating keeps its place under the goal's number.
    with connection.execute_wrapper(FailEvery(_on("care_goal"))):
        page = http.post(url, data).content.decode()
    assert "Your goal: “goal 1”" in page and 'name="q_goal1" value="4" checked' in page
    assert "Go back to swimming" not in page
    assert http.post(url, data).status_code == 302
    assert Response.objects.get(instrument="gbo").answers == {"goal1": 4}


def test_expired_csrf_cookie_and_a_database_error_together_keep_the_answers(
    visit: Visit, after_session: None
) -> None:
    data = checkin(bond=2) | {"started": _started()}
    http = HttpClient(enforce_csrf_checks=True, raise_request_exception=False)
    with connection.execute_wrapper(FailEvery(_on("checkin_checkinlink"))):
        page = http.post(visit.url("answer", "checkin"), data)
    assert page.status_code == 503
    assert 'name="q_bond" value="2" checked' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_with_atomic_requests_a_failed_submission_writes_nothing(
    visit: Visit, after_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alliance runs in autocommit; should ATOMIC_REQUESTS be turned on, the request's own
    transaction is rolled back rather than committing what ran before the failure (here the link's
    first-opened time, written before the goals are read)."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    data = checkin() | {"started": _started()}
    with connection.execute_wrapper(FailOnQuery(1, matches=_on("care_goal"))):
        page = HttpClient(raise_request_exception=False).post(visit.url("answer", "checkin"), data)
    assert page.status_code == 503
    assert CheckinLink.objects.get(appointment=visit.appointment).first_opened_at is None


@pytest.mark.django_db(transaction=True)
def test_staff_form_survives_a_failure_at_every_statement(clinic: Clinic) -> None:
    http = HttpClient(raise_request_exception=False)
    http.force_login(clinic.owner)

    def repair(alert: Alert, submission: str) -> Any:
        url = reverse("alert_action", args=[alert.pk, "discuss_repair"])
        return http.post(
            url, {"note": "We talked about the missed week", "submission_id": submission}
        )

    # Measured on a second alert: the first request of a session runs a few more statements.
    repair(clinic.alert, str(uuid.uuid4()))
    warm = factories.AlertFactory.create(episode=clinic.episode, key="fault-measure")
    total = _statements(lambda: repair(warm, str(uuid.uuid4())))
    assert total >= 4
    fired = 0
    for n in range(1, total + 1):
        alert = factories.AlertFactory.create(episode=clinic.episode, key=f"fault-{n}")
        submission = str(uuid.uuid4())
        fault = FailOnQuery(n)
        with connection.execute_wrapper(fault):
            page = repair(alert, submission)
        if not fault.fired:
            # This request ran fewer statements (the session was saved by an earlier one).
            assert page.status_code == 302
            continue
        fired += 1
        body = page.content.decode()
        assert_nothing_leaked(body)
        assert "missed week" not in body
        alert.refresh_from_db()
        notes = AlertNote.objects.filter(alert=alert)
        if page.status_code == 500:
            assert "Something went wrong on our side" in body
        else:
            # The last statement is the session's own save, after the action committed: Django
            # answers its plain 400 page (SessionInterrupted), no detail shown.
            assert page.status_code == 400, (n, page.status_code)
            assert alert.status == "repair_discussed"
        # Nothing half-written: the note and the status change go together or not at all.
        assert (alert.status == "repair_discussed") == (notes.count() == 1), n
        # The same form sent again (the browser resending it): one note, whatever happened first.
        assert repair(alert, submission).status_code == 302
        assert notes.count() == 1, n
        alert.refresh_from_db()
        assert alert.status == "repair_discussed"
    assert fired >= total // 2


@pytest.mark.django_db(transaction=True)
def test_postgresql_connection_terminated_between_requests_recovers(visit: Visit) -> None:
    """A real kill: the backend serving this process is terminated from a second connection. At the
    start of the next request Django's health check (conn_health_checks in alliance/settings.py)
    finds the connection dead and opens a new one, so the client's submission is stored, once."""
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL (DATABASE_URL=postgres://...)")
    from tests.postgres import terminate_backend

    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    url = visit.url("answer", "gad7")
    data = {f"q_{n}": "1" for n in range(1, 8)} | {"started": _started()}
    http = HttpClient(raise_request_exception=False)
    try:
        assert http.get(visit.url()).status_code == 200
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        terminate_backend(pid)
        # What Django's handler does at the start of every request (its test client leaves it out).
        close_old_connections()
        page = http.post(url, data)
        assert_nothing_leaked(page.content.decode())
        assert page.status_code == 302
        assert connection.connection.info.backend_pid != pid
        assert http.post(url, data).status_code == 302  # sent again: still one
        assert Response.objects.filter(instrument="gad7").count() == 1
    finally:
        connection.close()  # whatever state it is in, the teardown's flush gets a fresh one


# The concern form: what the client wrote about their therapist is kept whichever statement fails.
CONCERN_STATEMENTS = {
    "link lookup": _on("checkin_checkinlink"),
    "duplicate check": _on("accounts_formsubmission", "INSERT"),
    "concern": _on("checkin_concern", "INSERT"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("statement", CONCERN_STATEMENTS)
def test_a_concern_is_kept_whichever_statement_fails(visit: Visit, statement: str) -> None:
    from alliance.checkin.models import Concern

    page = HttpClient().get(visit.url("concern")).content.decode()
    submission = re.search(r'name="submission_id" value="([^"]+)"', page)
    data = {
        "text": "He makes comments about my weight.",
        "feels_unsafe": "on",
        "started": _started(),
    } | ({"submission_id": submission.group(1)} if submission else {})
    http = HttpClient(raise_request_exception=False)
    fault = FailOnQuery(1, matches=CONCERN_STATEMENTS[statement])
    with connection.execute_wrapper(fault):
        failed = http.post(visit.url("concern"), data)
    body = failed.content.decode()
    if not fault.fired:
        pytest.skip(f"the concern form runs no {statement} statement")
    assert failed.status_code == 503
    assert "He makes comments about my weight." in body
    assert_nothing_leaked(body)
    assert Concern.objects.count() == 0
    # Sent again: stored once, however often.
    assert http.post(visit.url("concern"), data).status_code == 200
    assert http.post(visit.url("concern"), data).status_code == 200
    assert Concern.objects.count() == 1
