"""One round of the scheduler's periodic work (`alliance scheduler` calls `tick()` every minute).

Every step is safe to run on several servers at once and safe to run late: each claims its rows with
a conditional UPDATE or a unique key, so a second scheduler does nothing twice. A step that fails is
logged and the round goes on: one broken step never stops risk escalation or email delivery.

Order: escalation first (a risk must reach a human), then what queues email (alert notifications,
digests, reminders), then recovery (jobs of dead workers, messages left mid-send), then delivery of
whatever is due (so delivery does not depend on the task queue), the hourly housekeeping (expired
sessions, old finished jobs: alliance.operations.housekeeping), and last the daily recompute, the
only slow step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from alliance.care import alert_mail, alert_sync, reminders
from alliance.care.escalation import escalate_unacknowledged_risk
from alliance.operations import housekeeping, outbox, recovery

logger = logging.getLogger(__name__)

# Once an hour per scheduler process (and at its start).
_housekeeping = housekeeping.Sweeper()


def _step(done: dict[str, int], name: str, run: Callable[[], int]) -> None:
    try:
        done[name] = run()
    except Exception:
        logger.exception("Scheduler step %s failed; the next round retries it", name)
        done[name] = -1


def _escalate(now: datetime) -> int:
    escalated = escalate_unacknowledged_risk(now)
    if escalated:
        logger.warning("Escalated %d unacknowledged risk alert(s)", len(escalated))
    return len(escalated)


def urgent_tick(now: datetime | None = None) -> dict[str, int]:
    """Only what a risk answer needs to reach a human: escalation, new-alert emails, and delivery of
    due emails (with recovery of those left mid-send). A web process runs this when no scheduler is
    alive (alliance.operations.standin)."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    _step(done, "escalated", lambda: _escalate(now))
    _step(done, "alert_emails", lambda: alert_mail.notify_new_alerts(now))
    _step(done, "emails_recovered", lambda: sum(outbox.recover_stuck(now).values()))
    _step(done, "emails_sent", lambda: outbox.sweep(now))
    return done


def tick(now: datetime | None = None) -> dict[str, int]:
    """Run every due step once; returns how many things each step did (-1: the step failed)."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    _step(done, "escalated", lambda: _escalate(now))
    _step(done, "alert_emails", lambda: alert_mail.notify_new_alerts(now))
    _step(done, "digests", lambda: alert_mail.send_digests(now))
    _step(done, "reminders", lambda: sum(reminders.queue_due_reminders(now).values()))
    _step(done, "jobs_requeued", lambda: recovery.requeue_orphaned_jobs(now))
    _step(done, "emails_recovered", lambda: sum(outbox.recover_stuck(now).values()))
    _step(done, "emails_sent", lambda: outbox.sweep(now))
    _step(done, "housekeeping", lambda: _housekeeping(now))
    if alert_sync.norms_are_stale():
        # Refit the expected-recovery curves once a day and bring every alert up to date.
        def recompute() -> int:
            result = alert_sync.sync(refit=True)
            logger.info("Daily recompute: %d raised, %d updated", result.created, result.updated)
            return result.created + result.updated

        _step(done, "recomputed", recompute)
    return done
