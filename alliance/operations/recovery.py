"""A worker killed mid-job loses nothing.

django-tasks-db marks a job RUNNING when a worker claims it (SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL, an exclusive transaction on SQLite, so two workers never claim the same job) and leaves it
RUNNING forever if that worker dies. Each scheduler round (`tick`) puts such a job back to READY when it
has been running longer than `JOB_LEASE` *and* the worker that claimed it shows no fresh heartbeat.

How the two are matched: `alliance worker` runs django-tasks-db's worker with
``--worker-id worker:<host>:<pid>`` (`worker_id()` below), which django-tasks-db appends to the job's
`worker_ids`; the worker's heartbeat row (alliance.operations.heartbeat) carries the same name. A job
whose last worker id has no heartbeat seen within `HEARTBEAT_STALE` belongs to a dead worker.

Rerunning is safe because every job is idempotent (outbox keys; recompute merges by alert key).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alliance.operations.models import Heartbeat

logger = logging.getLogger(__name__)

# A job that has run this long is suspect (the slowest, a clinic's full recompute, takes well under a
# minute; see docs/alerts-evaluation.md) ...
JOB_LEASE = timedelta(minutes=10)
# ... and is requeued only if its worker has not said it is alive for this long.
HEARTBEAT_STALE = timedelta(minutes=3)
# django-tasks-db refuses longer worker ids.
WORKER_ID_MAX = 64


def worker_id(host: str | None = None, pid: int | None = None) -> str:
    """The id `alliance worker` gives django-tasks-db, equal to its heartbeat's name."""
    host = host or socket.gethostname()
    pid = pid or os.getpid()
    return f"worker:{host}:{pid}"[:WORKER_ID_MAX]


def _alive(worker: str, now: datetime) -> bool:
    fresh = Heartbeat.objects.filter(seen_at__gte=now - HEARTBEAT_STALE)
    if len(worker) >= WORKER_ID_MAX:
        # The id was cut to django-tasks-db's limit; the heartbeat keeps the full name.
        return fresh.filter(name__startswith=worker).exists()
    return fresh.filter(name=worker).exists()


def requeue_orphaned_jobs(now: datetime | None = None) -> int:
    """Put jobs of dead workers back to READY; returns how many."""
    now = now or timezone.now()
    suspects = DBTaskResult.objects.running().filter(started_at__lt=now - JOB_LEASE)
    requeued = 0
    for job in suspects.only("id", "worker_ids", "started_at", "task_path"):
        last = job.worker_ids[-1] if job.worker_ids else ""
        if last and _alive(last, now):
            continue  # a live worker on a long job: leave it alone
        # Conditional on the same claim, so a job that just finished (or was requeued by another
        # scheduler) is not touched.
        done = DBTaskResult.objects.filter(
            pk=job.pk, status="RUNNING", started_at=job.started_at
        ).update(status="READY", started_at=None)
        if done:
            requeued += 1
            logger.warning(
                "Job %s (%s) was left running by %s, which is gone; requeued",
                job.pk,
                job.task_path,
                last or "an unknown worker",
            )
    return requeued
