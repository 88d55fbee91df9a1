"""Helpers for tests that need PostgreSQL itself: a second connection to the test database, and
terminating the backend that serves this process (what a restart or an administrator does)."""

from __future__ import annotations

import time

import psycopg
from django.db import connection


def second_connection() -> psycopg.Connection[tuple[object, ...]]:
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        dbname=params["NAME"],
        autocommit=True,
    )


def terminate_backend(pid: int) -> None:
    """pg_terminate_backend, then wait until the backend has really gone (it only signals)."""
    with second_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        for _ in range(200):
            if other.execute(gone, [pid]).fetchone() == (0,):
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} did not go")
