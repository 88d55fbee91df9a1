"""Short write transactions of several threads committed as one (group commit), on SQLite.

Why (issue 10, point 6): SQLite has one writer. Under load every check-in submission queued for it
and paid for a transaction of its own: BEGIN, the writers' file lock, and a COMMIT that appends to
the write-ahead log every page the transaction changed (17 pages, 71 kB, a submission; mostly the
same pages as the submission before it: the tails of the response, audit and job tables and their
indexes), and that empties every other connection's page cache. Here a thread that wants to write
queues its work and waits for the leader lock. The thread that gets the lock takes everything queued
(its own work and what other threads queued meanwhile), runs it in one transaction and commits
once. A thread whose work a leader ran finds it done when it gets the lock, and goes on with the
result.

What is kept:
- Each piece is atomic, and its errors are its own: when any piece of a group raises, or the COMMIT
  fails, the whole transaction is rolled back and each piece runs again alone, in a transaction of
  its own; a piece's error then reaches its own thread only. (Savepoints around each piece did the
  same at two more statements a piece, paid on every submission; a failing piece is rare: a full
  disk, a link deleted meanwhile.) So a piece may run twice, and must do nothing but its SQL.
- A thread's result is returned only after the commit that made it durable.
- Alone (nobody else waiting), a piece runs in a transaction of its own.
- A thread waits at most the database's busy timeout for its work to be taken, then gets "database
  is locked", as it would have from SQLite. Work a leader has taken is always waited for: a thread
  never reports a failure for work that was stored.

The work runs on the leader's thread and connection, so it is a function of the cursor it is given:
SQL and parameters only (alliance.core.chain's parts), nothing that reads thread-local state (the
active language, the current request) or the thread's own connection.

Off inside an open transaction (the work then runs in a savepoint of that transaction, whose commit
it must share) and on databases other than SQLite, which have no single writer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.backends.utils import CursorWrapper

T = TypeVar("T")
Work = Callable[[CursorWrapper], T]


@dataclass(eq=False)
class _Piece(Generic[T]):
    work: Work[T]
    done: bool = False
    result: T | None = None
    error: BaseException | None = None


class GroupCommit:
    """A queue of write transactions and the lock whose holder commits them together."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self._queue: list[_Piece[Any]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, work: Work[T], *, timeout: float) -> T:
        """`work(cursor)` in a write transaction, possibly shared with other threads' (see above)."""
        piece: _Piece[T] = _Piece(work)
        self.add(piece)
        if not self._leader.acquire(timeout=timeout):
            with self._queue_lock:
                waiting = piece in self._queue
                if waiting:
                    self._queue.remove(piece)
            if waiting:
                raise OperationalError(
                    "database is locked (other writes of this process are ahead)"
                )
            # A leader took it: its transaction ends, whatever happens, before the lock is free.
            self._leader.acquire()
        try:
            # `done` is set by a leader before it releases the lock this thread now holds.
            if not piece.done:
                self.lead()
        finally:
            self._leader.release()
        if piece.error is not None:
            raise piece.error
        return piece.result  # type: ignore[return-value]  # set when there is no error: see lead

    def add(self, piece: _Piece[Any]) -> None:
        with self._queue_lock:
            self._queue.append(piece)

    def lead(self) -> None:
        """Run everything queued in one transaction. The caller holds the leader lock (or, in a
        test, is the only thread that uses this queue)."""
        with self._queue_lock:
            group, self._queue = self._queue, []
        if not group:
            return
        try:
            if len(group) == 1 or not self._together(group):
                # Alone, or again one by one after the group failed: each in its own transaction.
                for piece in group:
                    self._alone(piece)
        finally:
            # Interrupted (the process is stopping): what did not finish was rolled back.
            for piece in group:
                if not piece.done:
                    piece.error = OperationalError("interrupted before this write was committed")
                    piece.done = True

    def _together(self, group: list[_Piece[Any]]) -> bool:
        """All pieces in one transaction; False (and nothing stored) when any of them, or the
        COMMIT, failed."""
        results = []
        try:
            with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
                for piece in group:
                    results.append(piece.work(cursor))
        except Exception:  # each piece runs alone next, and its error reaches its thread
            return False
        for piece, result in zip(group, results, strict=True):
            piece.result, piece.done = result, True
        return True

    def _alone(self, piece: _Piece[Any]) -> None:
        try:
            with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
                piece.result = piece.work(cursor)
        except Exception as error:  # raised again in the piece's own thread
            piece.error = error
        piece.done = True


_GROUPS: dict[str, GroupCommit] = {}
_GROUPS_LOCK = threading.Lock()


def _group(using: str) -> GroupCommit:
    group = _GROUPS.get(using)
    if group is None:
        with _GROUPS_LOCK:
            group = _GROUPS.setdefault(using, GroupCommit(using))
    return group


def run(work: Work[T], using: str = DEFAULT_DB_ALIAS) -> T:
    """`work(cursor)` in a write transaction; on SQLite, possibly committed together with other
    threads' work (see the module's docstring)."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            return work(cursor)
    timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5))
    return _group(using).run(work, timeout=timeout)
