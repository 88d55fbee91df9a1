"""Group commit (alliance/core/group_commit.py): the work several threads queued commits in one
transaction, each piece atomic on its own; a piece's error reaches its own thread only; a failed
COMMIT fails them all; a thread never reports a failure for work that was stored, nor waits past the
busy timeout for work nobody took."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError, connection, connections
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from alliance.core import group_commit
from alliance.core.group_commit import GroupCommit, _Piece

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="group commit is SQLite's"),
    pytest.mark.django_db(transaction=True),
]

TABLE = "test_group_commit_row"


@pytest.fixture(autouse=True)
def table() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


def _insert(label: str) -> Callable[[CursorWrapper], int]:
    def work(cursor: CursorWrapper) -> int:
        cursor.execute(f"INSERT INTO {TABLE} (label) VALUES (%s) RETURNING id", [label])  # noqa: S608
        return int(cursor.fetchone()[0])

    return work


def _labels() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT label FROM {TABLE} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def _queued(group: GroupCommit, *works: Callable[[CursorWrapper], Any]) -> list[_Piece[Any]]:
    pieces = [_Piece(work) for work in works]
    for piece in pieces:
        group.add(piece)
    return pieces


def test_queued_pieces_commit_in_one_transaction() -> None:
    group = GroupCommit()
    pieces = _queued(group, _insert("a"), _insert("b"), _insert("c"))
    with CaptureQueriesContext(connection) as captured:
        group.lead()
    statements = [q["sql"] for q in captured.captured_queries]
    # BEGIN, the three INSERTs, COMMIT: no savepoints.
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    assert len(statements) == 5
    assert all(p.done and p.error is None for p in pieces)
    assert _labels() == ["a", "b", "c"]
    ids = [p.result for p in pieces]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(ids)  # type: ignore[type-var]
    assert not connection.in_atomic_block


def test_a_piece_alone_is_its_own_transaction() -> None:
    group = GroupCommit()
    with CaptureQueriesContext(connection) as captured:
        result = group.run(_insert("alone"), timeout=1)
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in statements] == ["BEGIN", "INSERT", "COMMIT"]
    assert _labels() == ["alone"] and isinstance(result, int)


def test_a_failing_piece_fails_alone_and_only_its_thread_hears_of_it() -> None:
    def half_then_fail(cursor: CursorWrapper) -> None:
        _insert("written then undone")(cursor)
        _insert("a")(cursor)  # breaks the unique label

    group = GroupCommit()
    pieces = _queued(group, _insert("a"), half_then_fail, _insert("c"))
    with CaptureQueriesContext(connection) as captured:
        group.lead()
    assert isinstance(pieces[1].error, IntegrityError)
    assert pieces[0].error is None and pieces[2].error is None
    assert all(p.done for p in pieces)
    # Its first row went with it; the others committed, each in a transaction of its own once the
    # group's had failed.
    assert _labels() == ["a", "c"]
    begins = [q["sql"] for q in captured.captured_queries].count("BEGIN IMMEDIATE")
    assert begins == 1 + 3


def test_an_interrupted_leader_leaves_no_piece_without_an_outcome() -> None:
    def interrupted(_cursor: CursorWrapper) -> None:
        raise KeyboardInterrupt

    group = GroupCommit()
    pieces = _queued(group, _insert("a"), interrupted)
    with pytest.raises(KeyboardInterrupt):
        group.lead()
    assert all(p.done and isinstance(p.error, OperationalError) for p in pieces)
    assert _labels() == []


def test_a_failed_commit_is_tried_again_piece_by_piece() -> None:
    group = GroupCommit()
    pieces = _queued(group, _insert("x"), _insert("y"))
    failure = OperationalError("disk I/O error")
    real_commit = connections["default"].commit
    commits: list[str] = []

    def commit() -> None:
        # The group's COMMIT fails (a full disk); the first piece's own then succeeds, the second's
        # fails again.
        commits.append("commit")
        if len(commits) in (1, 3):
            raise failure
        real_commit()

    with mock.patch.object(connections["default"], "commit", side_effect=commit):
        group.lead()
    assert pieces[0].error is None and isinstance(pieces[0].result, int)
    assert pieces[1].error is failure
    assert _labels() == ["x"]


def test_threads_that_queue_while_another_writes_are_committed_by_one_leader() -> None:
    group = GroupCommit()
    leads: list[int] = []
    real_lead = group.lead

    def counted_lead() -> None:
        leads.append(len(group._queue))
        real_lead()

    results: dict[str, Any] = {}

    def client(label: str) -> None:
        try:
            results[label] = group.run(_insert(label), timeout=10)
        except Exception as error:  # the assertion below shows it
            results[label] = error
        finally:
            connections.close_all()

    with mock.patch.object(group, "lead", counted_lead):
        group._leader.acquire()  # another thread's write is in progress
        threads = [threading.Thread(target=client, args=(f"t{i}",)) for i in range(3)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(group._queue) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        group._leader.release()
        for thread in threads:
            thread.join(10)
    assert sorted(_labels()) == ["t0", "t1", "t2"]
    assert all(isinstance(results[label], int) for label in ("t0", "t1", "t2")), results
    # The first thread to get the lock wrote all three; the others found theirs done.
    assert leads == [3]


def test_work_nobody_took_in_time_fails_and_is_never_written() -> None:
    group = GroupCommit()
    group._leader.acquire()
    try:
        with pytest.raises(OperationalError, match="locked"):
            group.run(_insert("late"), timeout=0.05)
        assert group._queue == []
    finally:
        group._leader.release()
    group.run(_insert("next"), timeout=1)
    assert _labels() == ["next"]


def test_work_a_leader_took_is_waited_for_past_the_timeout() -> None:
    group = GroupCommit()
    outcome: list[Any] = []

    def client() -> None:
        try:
            outcome.append(group.run(_insert("taken"), timeout=0.05))
        except Exception as error:  # the assertion below shows it
            outcome.append(error)
        finally:
            connections.close_all()

    group._leader.acquire()
    thread = threading.Thread(target=client)
    thread.start()
    deadline = time.monotonic() + 10
    while not group._queue and time.monotonic() < deadline:
        time.sleep(0.005)
    group.lead()  # this thread leads: it takes the client's piece and commits it
    time.sleep(0.2)  # past the client's timeout
    group._leader.release()
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], int), outcome
    assert _labels() == ["taken"]


def test_inside_an_open_transaction_the_work_shares_its_commit() -> None:
    from django.db import transaction

    with transaction.atomic():
        group_commit.run(_insert("inside"))
        assert connection.in_atomic_block
        assert _labels() == ["inside"]
    assert _labels() == ["inside"]
