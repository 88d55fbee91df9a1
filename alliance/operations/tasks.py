"""Background jobs of the running installation, and `retrying`, the back-off every job uses.

Jobs are django-tasks tasks stored in the database (django-tasks-db) and run by `alliance worker`.
Every job here is idempotent (an outbox key, a recompute that merges by alert key), so running one
twice — after a worker was killed mid-job and the scheduler requeued it — changes nothing the second
time (see alliance.operations.recovery).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from alliance.operations import outbox
from alliance.operations.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)

T = TypeVar("T")

JOB_ATTEMPTS = 5
JOB_FIRST_BACKOFF = timedelta(minutes=1)
JOB_MAX_BACKOFF = timedelta(minutes=30)


def job_backoff(attempt: int) -> timedelta:
    """Wait before running a job again after its `attempt`-th failure: 1, 2, 4 ... minutes, capped."""
    return min(JOB_FIRST_BACKOFF * (2 ** min(max(attempt, 1) - 1, 16)), JOB_MAX_BACKOFF)


def run_later(job: Task[..., Any], when: timedelta, *args: Any, **kwargs: Any) -> bool:
    """Enqueue `job` to run after `when`; False when the backend cannot defer (the immediate backend
    used by tests and by `ALLIANCE_TASKS_BACKEND`), where running it again at once would only fail
    again: then the scheduler's sweeps are the retry."""
    if not job.get_backend().supports_defer:
        return False
    job.using(run_after=timezone.now() + when).enqueue(*args, **kwargs)
    return True


def retrying(
    attempts: int = JOB_ATTEMPTS,
) -> Callable[[Callable[..., T]], Task[..., T | None]]:
    """Make a function a task that, when it raises, is enqueued again with back-off (`job_backoff`)
    up to `attempts` runs in all, then logged at ERROR and left failed. The attempt count travels as
    the keyword argument ``attempt``. Use for idempotent jobs only (they may run more than once)."""

    def decorate(func: Callable[..., T]) -> Task[..., T | None]:
        @functools.wraps(func)
        def run(*args: Any, attempt: int = 1, **kwargs: Any) -> T | None:
            try:
                return func(*args, **kwargs)
            except Exception:
                if attempt >= attempts:
                    logger.exception("Job %s failed %d times; giving up", func.__name__, attempt)
                    raise
                wait = job_backoff(attempt)
                if run_later(job, wait, *args, attempt=attempt + 1, **kwargs):
                    logger.warning(
                        "Job %s failed (attempt %d); retrying in %s",
                        func.__name__,
                        attempt,
                        wait,
                        exc_info=True,
                    )
                    return None
                raise

        job: Task[..., T | None] = task()(run)
        return job

    return decorate


@task()
def deliver_email(pk: int) -> str:
    """Send one outbox message. A failed send is retried by the outbox's own back-off: this job
    enqueues itself again for when the row is next due (and the scheduler's sweep would send it
    anyway)."""
    status = outbox.deliver(pk)
    if status == EmailStatus.PENDING:
        row = OutboundEmail.objects.filter(pk=pk).values_list("not_before", flat=True).first()
        if row is not None:
            run_later(deliver_email, max(row - timezone.now(), timedelta(0)), pk)
    return status
