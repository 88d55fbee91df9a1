"""Background jobs (django-tasks; stored in the database and run by `alliance worker`)."""

from __future__ import annotations

from django_tasks import task

from alliance.care import alert_sync, escalation


@task()
def recompute_episode_alerts(episode_id: int) -> int:
    """After a new response or an attendance change: bring the episode's alerts up to date."""
    return alert_sync.sync([episode_id]).created


@task()
def escalate_unacknowledged_risk() -> int:
    return len(escalation.escalate_unacknowledged_risk())
