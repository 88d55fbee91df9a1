"""Background processes say they are alive, and anyone can ask which are.

The job worker and the scheduler each upsert one `Heartbeat` row, named ``role:host:pid``, at least
every `BEAT_SECONDS`. `status()` answers, per role, when the newest of them was last seen and whether
that is too long ago (`STALE_AFTER`); `alliance check`, /health and the administrator's clinic page
read it. Nothing else depends on heartbeats: they are a signal for people, not a lock.

Rows of processes that stopped are kept for a day (so "the worker was last seen at 03:12" can be said)
and then pruned by the next live process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from alliance.operations.models import Heartbeat, ProcessRole

logger = logging.getLogger(__name__)

# Beat twice as often as the brief's "at least every 30 s", so one slow beat (a busy SQLite writer)
# never makes a live process look stale.
BEAT_SECONDS = 15.0
# The worker beats from its own thread, so only a dead process misses beats. The scheduler beats
# between rounds, and a round can take tens of seconds (the daily recompute), hence its longer grace.
STALE_AFTER: dict[str, timedelta] = {
    ProcessRole.WORKER: timedelta(minutes=2),
    ProcessRole.SCHEDULER: timedelta(minutes=3),
}
KEEP_FOR = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)


def process_name(role: str, *, pid: int | None = None, host: str | None = None) -> str:
    return f"{role}:{host or socket.gethostname()}:{pid if pid is not None else os.getpid()}"


class Heart:
    """One process's heartbeat. `beat()` is cheap (one UPDATE; an INSERT the first time)."""

    def __init__(self, role: str, *, name: str | None = None) -> None:
        self.role = role
        self.host = socket.gethostname()[:120]
        self.pid = os.getpid()
        self.name = name or process_name(role, pid=self.pid, host=self.host)
        self._last_pruned: datetime | None = None

    def beat(self, now: datetime | None = None) -> None:
        now = now or timezone.now()
        updated = Heartbeat.objects.filter(name=self.name).update(seen_at=now, pid=self.pid)
        if not updated:
            try:
                with transaction.atomic():
                    Heartbeat.objects.create(
                        name=self.name,
                        role=self.role,
                        host=self.host,
                        pid=self.pid,
                        started_at=now,
                        seen_at=now,
                    )
            except IntegrityError:  # another process with our name raced us (a cron --once run)
                Heartbeat.objects.filter(name=self.name).update(seen_at=now, pid=self.pid)
        if self._last_pruned is None or now - self._last_pruned >= PRUNE_EVERY:
            prune(now)
            self._last_pruned = now


def prune(now: datetime | None = None) -> int:
    """Forget processes not seen for a day."""
    now = now or timezone.now()
    deleted, _ = Heartbeat.objects.filter(seen_at__lt=now - KEEP_FOR).delete()
    return deleted


class BeatingThread(threading.Thread):
    """Beats for the whole process from a daemon thread, every `interval` seconds until `stop()`.

    Used by the job worker: django-tasks-db's worker loop offers no hook between polls, and a long job
    (the nightly recompute, an SMTP server timing out) must not make a working worker look dead. The
    thread has its own database connection (Django's are per thread), closed after every beat so
    that it never holds an idle connection or a stale one after the database restarted.
    """

    def __init__(self, heart: Heart, interval: float = BEAT_SECONDS) -> None:
        super().__init__(name=f"heartbeat-{heart.role}", daemon=True)
        self.heart = heart
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            try:
                self.heart.beat()
            except Exception:  # the database may be briefly away; the next beat retries
                logger.exception("Heartbeat of %s failed", self.heart.name)
            finally:
                connection.close()
            if self._stopped.wait(self.interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self.join(timeout)


@dataclass(frozen=True)
class RoleStatus:
    role: str
    seen_at: datetime | None  # the newest heartbeat of any process in this role
    age_seconds: int | None
    stale: bool  # never seen, or not within STALE_AFTER[role]

    @property
    def state(self) -> str:
        if self.seen_at is None:
            return "missing"
        return "stale" if self.stale else "ok"


def status(now: datetime | None = None) -> dict[str, RoleStatus]:
    """Per role, the newest heartbeat and whether it is stale. One query."""
    now = now or timezone.now()
    newest = dict(Heartbeat.objects.values_list("role").annotate(newest=Max("seen_at")).order_by())
    result: dict[str, RoleStatus] = {}
    for role in (ProcessRole.WORKER, ProcessRole.SCHEDULER):
        seen_at = newest.get(role)
        age = max(0, int((now - seen_at).total_seconds())) if seen_at else None
        stale = seen_at is None or now - seen_at > STALE_AFTER[role]
        result[str(role)] = RoleStatus(str(role), seen_at, age, stale)
    return result
