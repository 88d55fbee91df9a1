"""Background jobs (django-tasks; stored in the database and run by `alliance worker`).

The dependency runs one way: jobs call alert_sync, and alert_sync never imports this module
(an import-linter contract in pyproject.toml holds it)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from alliance.care import alert_sync, escalation


@task()
def recompute_episode_alerts(episode_id: int) -> int:
    """After a new response or an attendance change: bring the episode's alerts up to date."""
    return alert_sync.sync([episode_id]).created


@task()
def escalate_unacknowledged_risk() -> int:
    return len(escalation.escalate_unacknowledged_risk())


def schedule_recompute(episode_id: int) -> None:
    """Recompute an episode's alerts in the background once the current transaction commits."""
    transaction.on_commit(lambda: recompute_episode_alerts.enqueue(episode_id))
