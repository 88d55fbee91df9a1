"""The same submission replayed five times (issue 10, point 7): a client's phone resending on a bad
network, a proxy retrying, someone replaying a captured request. One response stored, one write.

Sequential replays run on every database; concurrent ones (five threads released together, each with
its own database connection) need PostgreSQL, where the requests really overlap. On SQLite writers are
serialised by the file lock, which the sequential replay and tests/faults/test_sqlite_locked.py cover.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent, User
from alliance.care.models import Response
from tests.checkin.conftest import Visit, checkin
from tests.checkin.test_flow import _started
from tests.conftest import Clinic

REPLAYS = 5


def _together(send: Callable[[], int]) -> list[int]:
    """`send` from REPLAYS threads at the same moment; the status codes."""
    start = threading.Barrier(REPLAYS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            statuses.append(send())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(REPLAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrent replays need PostgreSQL; SQLite serialises writers (sequential test)"
        )


def _admin_posts(clinic: Clinic) -> Callable[[], Any]:
    data = {
        "email": "new.therapist@clinic.test",
        "first_name": "New",
        "last_name": "Therapist",
        "role": "therapist",
        "is_active": "on",
        "password": "a long enough passphrase",
        "submission_id": str(uuid.uuid4()),
    }

    def send() -> Any:
        http = HttpClient()
        http.force_login(clinic.administrator)
        return http.post(reverse("user_create"), data)

    return send


def test_a_check_in_replayed_in_sequence_stores_one_response(
    visit: Visit, after_session: None
) -> None:
    data = checkin(better="It helped to slow down") | {"started": _started()}
    statuses = [
        HttpClient().post(visit.url("answer", "checkin"), data).status_code for _ in range(REPLAYS)
    ]
    assert statuses == [302] * REPLAYS
    assert Response.objects.filter(instrument="checkin").count() == 1
    assert AuditEvent.objects.filter(action="care.response.recorded").count() <= 1


@pytest.mark.django_db(transaction=True)
def test_a_check_in_replayed_concurrently_stores_one_response(
    visit: Visit, after_session: None
) -> None:
    _needs_postgresql()
    data = checkin(better="It helped to slow down") | {"started": _started()}
    url = visit.url("answer", "checkin")
    statuses = _together(lambda: HttpClient().post(url, data).status_code)
    # Every replay is told it went through (or, at worst, to press again): none is a server error.
    assert set(statuses) <= {302, 503}, statuses
    assert 302 in statuses
    assert Response.objects.filter(instrument="checkin").count() == 1


def test_a_staff_form_replayed_in_sequence_writes_once(clinic: Clinic) -> None:
    send = _admin_posts(clinic)
    assert [send().status_code for _ in range(REPLAYS)] == [302] * REPLAYS
    assert User.objects.filter(email="new.therapist@clinic.test").count() == 1
    assert AuditEvent.objects.filter(action="accounts.user.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_staff_form_replayed_concurrently_writes_once(clinic: Clinic) -> None:
    _needs_postgresql()
    send = _admin_posts(clinic)
    statuses = _together(lambda: send().status_code)
    assert set(statuses) <= {200, 302}, statuses
    assert User.objects.filter(email="new.therapist@clinic.test").count() == 1
    assert AuditEvent.objects.filter(action="accounts.user.created").count() == 1
