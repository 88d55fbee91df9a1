"""Background jobs (django-tasks; stored in the database and run by `alliance worker`).

The dependency runs one way: jobs call alert_sync, and alert_sync never imports this module
(an import-linter contract in pyproject.toml holds it). Jobs that fail are run again with back-off
(`alliance.operations.tasks.retrying`); both are idempotent, so a second run changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django_tasks_db import DatabaseBackend

from alliance.care import alert_mail, alert_sync, escalation
from alliance.care.models import AlertKind
from alliance.operations import task_backend
from alliance.operations.task_backend import PreparedJob
from alliance.operations.tasks import retrying


@retrying()
def recompute_episode_alerts(episode_id: int) -> int:
    """After a new response or an attendance change: bring the episode's alerts up to date. A risk
    alert raised here (when the check-in's own attempt failed) is emailed at once."""
    result = alert_sync.sync([episode_id])
    alert_mail.urgent(a for a in result.new_alerts if a.kind == AlertKind.RISK)
    return result.created


@retrying()
def escalate_unacknowledged_risk() -> int:
    return len(escalation.escalate_unacknowledged_risk())


def schedule_recompute(episode_id: int) -> None:
    """Recompute an episode's alerts in the background after the current transaction.

    With jobs in the database (django_tasks_db, the default) the job row is written in the caller's
    transaction: it commits, or rolls back, with the change that needs it, so a crash between the two
    cannot lose the recompute, and a client's submission is one commit instead of two (on PostgreSQL
    each commit waits for the disk: issue 10, point 6). The worker cannot see the row before the
    change is committed. Any other backend is told only once the change has committed."""
    prepare_recompute(episode_id).enqueue()


@dataclass(frozen=True)
class JobAtCommit:
    """A job for a backend that cannot prepare one (`prepare_recompute`): `enqueue()` does it all."""

    enqueue: Callable[[], object]


def prepare_recompute(episode_id: int) -> PreparedJob | JobAtCommit:
    """`schedule_recompute`, in two steps: call this before the transaction, and `.enqueue()` on what
    it returns inside it. With Alliance's job backend (alliance.operations.task_backend) the row is
    built and its INSERT prepared now, so that the transaction (on SQLite, the one writer every
    other submission waits for) only runs the statement; that INSERT can also be part of a chain
    (alliance.core.chain, PostgreSQL)."""
    backend = recompute_episode_alerts.get_backend()
    if isinstance(backend, task_backend.DatabaseBackend):
        return backend.prepare(recompute_episode_alerts, episode_id)
    if isinstance(backend, DatabaseBackend):
        return JobAtCommit(lambda: recompute_episode_alerts.enqueue(episode_id))
    return JobAtCommit(
        lambda: transaction.on_commit(lambda: recompute_episode_alerts.enqueue(episode_id))
    )
