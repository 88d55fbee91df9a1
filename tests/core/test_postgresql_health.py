"""The PostgreSQL health check asks the server only when it has written unasked
(alliance/core/postgresql/base.py): a kept connection the server has not touched costs no round trip,
and one the server has closed is still found and replaced."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import close_old_connections, connection, connections

from tests.postgres import second_connection, terminate_backend

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend's health check (DATABASE_URL=postgres://...)")


def test_a_quiet_connection_is_usable_without_a_statement() -> None:
    _needs_postgresql()
    assert type(connections["default"]).__module__ == "alliance.core.postgresql.base"
    connection.ensure_connection()
    raw = connection.connection
    with (
        mock.patch.object(raw, "execute", wraps=raw.execute) as execute,
        mock.patch.object(raw, "cursor", wraps=raw.cursor) as cursor,
    ):
        assert connection.is_usable() is True
    assert not execute.called and not cursor.called


def test_a_connection_the_server_closed_is_found_and_replaced() -> None:
    _needs_postgresql()
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        terminate_backend(pid)
        assert connection.is_usable() is False
        # What Django does at the start of a request: the dead connection is closed, and the next
        # statement opens a new one.
        connections["default"].health_check_done = False  # type: ignore[attr-defined]
        close_old_connections()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
    finally:
        connection.close()


def test_a_connection_the_server_wrote_to_is_asked() -> None:
    _needs_postgresql()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN alliance_health_test")
    with second_connection() as other:
        other.execute("NOTIFY alliance_health_test")
    raw = connection.connection
    try:
        with mock.patch.object(raw, "cursor", wraps=raw.cursor) as asked:
            for _ in range(100):  # the notification reaches the socket within milliseconds
                if connection.is_usable() and asked.called:
                    break
                time.sleep(0.01)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("UNLISTEN *")
    # Something arrived unasked: Django's own SELECT 1 decided, and the connection is fine.
    assert asked.called
