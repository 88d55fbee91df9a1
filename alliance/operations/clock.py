"""One round of the scheduler's periodic work (`alliance scheduler` calls `tick()` every minute).

Every step is safe to run on several servers at once and safe to run late: each claims its rows with
a conditional UPDATE or a unique key, so a second scheduler does nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from alliance.care import alert_sync
from alliance.care.escalation import escalate_unacknowledged_risk

logger = logging.getLogger(__name__)


def tick(now: datetime | None = None) -> dict[str, int]:
    """Run every due step once; returns how many things each step did (for the log and for tests)."""
    done: dict[str, int] = {}
    escalated = escalate_unacknowledged_risk()
    if escalated:
        logger.warning("Escalated %d unacknowledged risk alert(s)", len(escalated))
    done["escalated"] = len(escalated)
    if alert_sync.norms_are_stale():
        # Refit the expected-recovery curves once a day and bring every alert up to date.
        result = alert_sync.sync(refit=True)
        logger.info("Daily recompute: %d raised, %d updated", result.created, result.updated)
        done["recomputed"] = result.created + result.updated
    return done
