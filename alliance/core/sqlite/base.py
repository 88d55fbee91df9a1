"""Django's SQLite backend, with one writer at a time per process waiting in Python, not in SQLite.

Why: SQLite lets one connection write at a time. A connection that finds the lock taken waits in
SQLite's busy handler, which *sleeps* and retries (1, 2, 5, 10, 15, 20, 25 ... 100 ms), so under
concurrent check-in submissions a waiting thread sleeps long after the lock was released: at 50
connections the submission served a tenth of the bare view's rate while the CPU idled (issue 10,
point 6). Here a thread that starts a write transaction (every `atomic()` block begins
`BEGIN IMMEDIATE`, see alliance.settings) first takes a process-wide lock, and the next thread is
woken the moment the transaction ends. Between processes (several gunicorn workers, the job
worker) SQLite's own lock still decides, so nothing changes about correctness: the lock only
queues, in order, what SQLite would have made wait anyway. It is held from BEGIN to COMMIT or
ROLLBACK (or the connection's close), and a thread waits at most the database's busy timeout for
it, then gets the same "database is locked" error SQLite would give.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_WRITER = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer = False

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not _WRITER.acquire(timeout=timeout):
            raise OperationalError("database is locked (another thread of this process is writing)")
        self._holds_writer = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in django-stubs
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        if self._holds_writer:
            self._holds_writer = False
            _WRITER.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]  # private in django-stubs
        finally:
            # Even after a failed COMMIT: SQLite's own lock still guards the open transaction.
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]  # private in django-stubs
        finally:
            self._release_writer()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]  # private in django-stubs
        finally:
            self._release_writer()
