"""The SQLite file is locked by another process for longer than the busy timeout (issue 10, point 7).

A real lock on a real file: the test database (in memory under pytest) is copied to a file with
SQLite's backup API, Django's connection is pointed at that file with a busy timeout of 0.2 s instead
of 20 s, and a second connection holds `BEGIN EXCLUSIVE` on it while a client submits. The client gets
the "we couldn't save your answers, they are still here" page (503), nothing is half-written, and once
the lock is released the same submission is stored exactly once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client as HttpClient

from alliance.care.models import Response
from tests.checkin.conftest import Visit, checkin
from tests.checkin.test_flow import _started
from tests.faults.helpers import assert_nothing_leaked

pytestmark = pytest.mark.django_db(transaction=True)

BUSY_TIMEOUT_SECONDS = 0.2


@pytest.fixture
def on_a_file(tmp_path: Path) -> Iterator[Path]:
    """Django's default connection on a file copy of the test database, for the test's duration."""
    if connection.vendor != "sqlite":
        pytest.skip("a file lock is SQLite's; PostgreSQL waits for row locks instead")
    path = tmp_path / "locked.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    copy.close()
    saved = connection.settings_dict["NAME"], dict(connection.settings_dict["OPTIONS"])
    # A shared in-memory database lives while a connection to it is open: keep one, so that Django's
    # own connection can leave it for the file and come back to it afterwards.
    keeper = sqlite3.connect(saved[0], uri=True)
    connection.settings_dict["NAME"] = str(path)
    connection.close()  # Django never closes an in-memory database; with the file's name it does
    connection.settings_dict["OPTIONS"] = {
        **saved[1],
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;",  # as in production
        "timeout": BUSY_TIMEOUT_SECONDS,
    }
    try:
        connection.ensure_connection()
        assert connection.connection.execute("PRAGMA database_list").fetchone()[2] == str(path)
        yield path
    finally:
        connection.close()
        connection.settings_dict["NAME"], connection.settings_dict["OPTIONS"] = saved
        connection.ensure_connection()
        keeper.close()


def test_a_submission_during_a_long_lock_keeps_the_answers_and_stores_once_after(
    visit: Visit, after_session: None, on_a_file: Path
) -> None:
    http = HttpClient(raise_request_exception=False)
    url = visit.url("answer", "checkin")
    # The client opens the form before the lock (opening a link is itself a write).
    assert http.get(url).status_code == 200
    data = checkin(bond=2, better="I felt judged when we talked about work") | {
        "started": _started()
    }
    holder = sqlite3.connect(on_a_file, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # a backup tool, a migration, a stuck writer
        page = http.post(url, data)
        body = page.content.decode()
        assert page.status_code == 503
        assert "save your answers" in body
        assert 'name="q_bond" value="2" checked' in body
        assert "I felt judged when we talked about work" in body
        assert_nothing_leaked(body)
        holder.execute("ROLLBACK")
        # Nothing half-written: no response, no orphaned audit event for one.
        assert Response.objects.filter(instrument="checkin").count() == 0
    finally:
        holder.close()
    retry = http.post(url, data)
    assert retry.status_code == 302
    assert http.post(url, data).status_code == 302  # and a double press on the retry
    stored = Response.objects.get(instrument="checkin")
    assert stored.open_answers == {"better": "I felt judged when we talked about work"}
