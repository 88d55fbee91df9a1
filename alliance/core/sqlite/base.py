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

Between processes the same queue is kept with a lock file beside the database (`<name>-writers.lock`,
flock): under load the busy handler had the same effect across gunicorn workers as between threads
(the second worker's writer slept up to 100 ms while the first worker's threads handed the lock to
one another; submissions ran at a third of the CPU's capacity, p90 0.8 s). A blocked flock is woken
by the kernel the moment the holder releases it. The file lock is taken after the thread lock, so at
most one thread per process waits on it; it has no timeout of its own (flock has none), and waits as
long as another Alliance process's transaction lasts. A writer that is not Alliance (the sqlite3
shell) takes no file lock: SQLite's busy timeout still covers it. An in-memory database (the tests)
has no file and no file lock. The kernel drops the lock of a process that dies.
"""

from __future__ import annotations

import fcntl
import os
import threading
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_WRITER = threading.Lock()
# The lock file's descriptor, per database file, opened by this process (a forked child opens its
# own: a descriptor inherited across fork would share the parent's lock, not wait for it).
_LOCK_FILES: dict[str, tuple[int, int]] = {}


def _lock_file(path: str) -> int:
    opened = _LOCK_FILES.get(path)
    if opened is None or opened[0] != os.getpid():
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        _LOCK_FILES[path] = opened = (os.getpid(), descriptor)
    return opened[1]


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer = False
    _held_file: int | None = None

    def _writers_lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}-writers.lock"

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not _WRITER.acquire(timeout=timeout):
            raise OperationalError("database is locked (another thread of this process is writing)")
        self._holds_writer = True
        try:
            path = self._writers_lock_path()
            if path is not None:
                descriptor = _lock_file(path)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                self._held_file = descriptor
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in django-stubs
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        if self._held_file is not None:
            descriptor, self._held_file = self._held_file, None
            fcntl.flock(descriptor, fcntl.LOCK_UN)
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
