"""Rows that have served their purpose, deleted by the scheduler once an hour (`clock.tick`).

- **Expired sessions.** Django's database sessions are never read once expired (the idle timeout is
  30 minutes by default) but stay in `django_session` until deleted; Django leaves that to its
  `clearsessions` command, which nobody remembers to schedule.
- **Finished background jobs.** Every check-in submission enqueues the recompute of its episode's
  alerts (alliance.care.tasks), and django-tasks-db keeps every job's row after it has run: the
  table grew by one row per submission, for ever. A job that succeeded is kept `SUCCEEDED_KEPT`
  (what ran recently, for someone looking into a problem), one that failed `FAILED_KEPT` (its error
  and traceback). Jobs waiting or running are never touched.

Safe on several schedulers at once: each is a DELETE of rows past a date, which a second scheduler
finds already gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

SWEEP_EVERY = timedelta(hours=1)
SUCCEEDED_KEPT = timedelta(days=14)
FAILED_KEPT = timedelta(days=90)


def sweep(now: datetime | None = None) -> int:
    """Delete expired sessions and old finished jobs; returns how many rows went."""
    now = now or timezone.now()
    # Django's own clean-up (what `clearsessions` runs), counted around it: it returns nothing.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = store.get_model_class().objects
    before = sessions.count()
    store.clear_expired()
    deleted_sessions = before - sessions.count()
    # Not django-tasks-db's `prune_db_task_results`: it refuses to run unless the configured job
    # backend is its own (rows written under it stay when a clinic switches), and logs its count
    # instead of returning it. The same filter, by status and age:
    deleted_jobs = 0
    for status, kept in (
        (TaskResultStatus.SUCCESSFUL, SUCCEEDED_KEPT),
        (TaskResultStatus.FAILED, FAILED_KEPT),
    ):
        deleted, _ = DBTaskResult.objects.filter(status=status, finished_at__lt=now - kept).delete()
        deleted_jobs += deleted
    return deleted_sessions + deleted_jobs


class Sweeper:
    """Runs `sweep` when the last run in this process is `SWEEP_EVERY` old (or there was none: a
    restarted scheduler sweeps at once)."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    def __call__(self, now: datetime) -> int:
        if self.last is not None and now - self.last < SWEEP_EVERY:
            return 0
        swept = sweep(now)
        self.last = now
        return swept
