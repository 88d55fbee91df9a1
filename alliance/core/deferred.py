"""Writes that may wait a moment: records of reads, written in batches off the request path.

Why (issue 10, point 6): every page that shows client data records the read (an audit event), and a
client's first visit to a link records when it was opened. On SQLite each of those was a write
transaction of its own on a request that otherwise only reads, and under load the writes, not the
work, set the pace: every write waits for the one writer, and a writer that finds the database busy
sleeps (SQLite's busy handler) rather than queueing. Measured with benchmarks/load.py, the check-in
landing served about half as many requests a second while its links were being opened for the
first time (one more write each) as once they all had been.

So these writes are queued in the process and a background thread writes everything queued, every
`DEFER_INTERVAL` seconds, in one transaction (one `executemany` per statement). What that trades:
if the process is killed outright (SIGKILL, out of memory, power loss), the read records of the last
fraction of a second are lost; a normal stop or restart writes them first (`atexit`). Changes to
client data, and their own audit events, are never deferred: they commit with the change. On
PostgreSQL the batch commits with `synchronous_commit` off, like a single read record
(alliance.accounts.audit._insert).

Off (every write made at once, as before) when settings.ALLIANCE_DEFER_READ_RECORDS is False: the
tests run that way, so that a test sees the record its request made; tests/core/test_deferred.py
runs the queue itself.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

DEFER_INTERVAL = 0.25  # seconds
# Past this many queued statements a request writes the queue itself rather than let it grow (a
# database that is down for long: the requests then fail loudly, as they would without the queue).
MAX_PENDING = 20_000


# Rows per multi-row INSERT (SQLite; PostgreSQL copies the rows, see _write_rows): a caseload view
# records 50 to 80 reads at once, and executemany would send each row as its own statement. 100 rows
# of an audit event's 10 columns stay far below SQLite's limit on parameters per statement.
ROWS_PER_INSERT = 100

# `INSERT INTO "table" ("a", "b") VALUES (%s, %s)`: only placeholders, so the rows can be copied.
_PLAIN_INSERT = re.compile(r'INSERT INTO ("[^"]+") \(([^)]+)\) VALUES \(%s(?:, %s)*\)')


def _write_rows(cursor: Any, statement: str, rows: list[Sequence[Any]]) -> None:
    """`statement` once per row: an `INSERT ... VALUES (%s, ...)` as multi-row INSERTs (on
    PostgreSQL as one COPY), any other statement with executemany."""
    plain = _PLAIN_INSERT.fullmatch(statement)
    if plain and cursor.db.vendor == "postgresql":
        # COPY, not a multi-row INSERT: psycopg caches how it splits a statement at its %s only for
        # statements of at most 50 parameters, and split one of 1,000 anew on every batch, in Python:
        # 2 to 3 ms of the web process's CPU per caseload view (issue 10, point 6). COPY sends the
        # rows as data, through the same type adapters, with no statement to split or plan.
        table, columns = plain.groups()
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    head, marker, values = statement.rpartition(" VALUES ")
    if not marker or not statement.startswith("INSERT INTO ") or not values.startswith("("):
        cursor.executemany(statement, rows)
        return
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        cursor.execute(
            f"{head} VALUES {', '.join([values] * len(chunk))}",
            [value for row in chunk for value in row],
        )


class _Queue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Sequence[Any]]] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._wake = threading.Event()
        # Tests drive the queue by hand (flush), from the thread that holds the test's transaction.
        self.autostart = True

    def add(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Queue `statement` once per row of parameters."""
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker starts with its own empty queue and its own thread.
                self._pending, self._thread, self._pid = [], None, os.getpid()
            self._pending.extend((statement, params) for params in rows)
            full = len(self._pending) >= MAX_PENDING
            if self._thread is None and self.autostart:
                self._thread = threading.Thread(
                    target=self._run, name="alliance-deferred-writes", daemon=True
                )
                self._thread.start()
        if full:
            self.flush()

    def flush(self) -> int:
        """Write everything queued now, in one transaction; returns how many statements. On a
        database error the statements stay queued for the next attempt."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        grouped: dict[str, list[Sequence[Any]]] = {}
        for statement, params in batch:
            grouped.setdefault(statement, []).append(params)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                for statement, rows in grouped.items():
                    _write_rows(cursor, statement, rows)
        except DatabaseError:
            logger.exception("Deferred writes failed; %d kept for the next attempt", len(batch))
            with self._lock:
                self._pending[:0] = batch
            connection.close()
            return 0
        return len(batch)

    def _run(self) -> None:
        while True:
            self._wake.wait(DEFER_INTERVAL)
            try:
                self.flush()
            except Exception:  # the thread must outlive any one failure
                logger.exception("Deferred writes: unexpected error")


_queue = _Queue()
atexit.register(_queue.flush)


def enabled() -> bool:
    return bool(getattr(settings, "ALLIANCE_DEFER_READ_RECORDS", False))


def write(statement: str, params: Sequence[Any]) -> None:
    """Run `statement` with `params` now, or soon in a batch when deferring is on (see above).
    Only for records of reads: never for a change to client data."""
    write_many(statement, [params])


def write_many(statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """`write` for several rows of parameters at once (one lock, one check of the setting)."""
    if enabled():
        _queue.add(statement, rows)
        return
    with connection.cursor() as cursor:
        for params in rows:
            cursor.execute(statement, params)


def flush() -> int:
    """Write what is queued now (a test, or a command that wants its records in before it ends)."""
    return _queue.flush()
