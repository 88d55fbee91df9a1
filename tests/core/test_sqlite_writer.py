"""SQLite writers queue in the process (alliance/core/sqlite/base.py): the lock is held from BEGIN
to COMMIT or ROLLBACK, and a second thread's write waits for
the first instead of failing or sleeping in SQLite's busy handler."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from alliance.care.models import Client
from alliance.core.sqlite import base
from tests import factories

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer queue is SQLite's"),
    pytest.mark.django_db(transaction=True),
]


def _write(code: str) -> None:
    factories.ClientFactory.create(code=code)


def test_the_lock_is_held_for_the_transaction_and_released_by_commit() -> None:
    assert not base._WRITER.locked()
    with transaction.atomic():
        assert base._WRITER.locked()
        with transaction.atomic():  # a savepoint: no second BEGIN
            _write("C-LOCK1")
        assert base._WRITER.locked()
    assert not base._WRITER.locked()


def test_a_rollback_releases_the_lock() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        _write("C-LOCK2")
        raise RuntimeError
    assert not base._WRITER.locked()
    with transaction.atomic():  # and the next transaction can start
        _write("C-LOCK3")
    assert not base._WRITER.locked()


def test_a_transaction_begun_by_hand_holds_the_lock_until_its_rollback() -> None:
    # What Django does under autocommit when an atomic block starts (set_autocommit(False) + BEGIN).
    # (Closing the connection releases it too, but an in-memory test database ignores close().)
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert base._WRITER.locked()
    connection.rollback()
    connection.set_autocommit(True)
    assert not base._WRITER.locked()


def test_a_second_writer_waits_for_the_first_and_both_writes_land() -> None:
    order: list[str] = []
    first_in = threading.Event()
    second_waiting = threading.Event()

    def second() -> None:
        try:
            second_waiting.set()
            with transaction.atomic():
                order.append("second began")
                _write("C-LOCK5")
        finally:
            connections.close_all()

    with transaction.atomic():
        _write("C-LOCK4")
        first_in.set()
        thread = threading.Thread(target=second)
        thread.start()
        second_waiting.wait(5)
        # The second thread is now blocked on the lock (it cannot have begun: we hold it).
        thread.join(0.2)
        assert order == []
        order.append("first committing")
    thread.join(10)
    assert order == ["first committing", "second began"]
    assert set(Client.objects.values_list("code", flat=True)) >= {"C-LOCK4", "C-LOCK5"}
