"""A web process stands in for a missing scheduler, so that a risk answer reaches a human however
Alliance is run.

`alliance serve`, `alliance demo` and the systemd units all run the scheduler. But an installation can
also be run as bare `gunicorn alliance.wsgi` (or `runserver`), and then nothing would escalate an
unacknowledged risk alert or send its emails. So every web process keeps a small daemon thread that,
once a minute, looks at the scheduler's heartbeat; when no scheduler has beaten for
`heartbeat.STALE_AFTER` (3 minutes), one web process (claimed through the shared cache, so a farm of
app servers does it once a minute, not once per process) runs the urgent steps of a round: risk
escalation, new-alert emails, recovery of emails left mid-send and delivery of due emails. It never runs
the daily recompute (seconds of CPU inside a web server) nor queues reminders.

It does not hide the problem: the scheduler's heartbeat stays stale, so `alliance check`, /health and
the administrator's clinic page still say loudly that no scheduler runs. Off with
ALLIANCE_SCHEDULER_STANDIN=0 (the test settings turn it off; tests call `stand_in_if_needed`).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.utils import timezone

from alliance.operations import clock
from alliance.operations.heartbeat import status

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 60.0
CLAIM_KEY = "operations:scheduler-standin"

_started = False
_start_lock = threading.Lock()


def stand_in_if_needed(now: datetime | None = None) -> dict[str, int] | None:
    """Run the urgent steps if no scheduler is alive and no other process did so this minute;
    returns what was done, or None when nothing needed doing."""
    now = now or timezone.now()
    if not status(now)["scheduler"].stale:
        return None
    # cache.add is atomic on the database cache: one process per interval wins.
    if not cache.add(CLAIM_KEY, now.isoformat(), timeout=int(INTERVAL_SECONDS) - 5):
        return None
    done = clock.urgent_tick(now)
    logger.warning(
        "No scheduler has run recently; this web process ran its urgent steps instead: %s. "
        "Start `alliance scheduler` (or use `alliance serve`).",
        done,
    )
    return done


def _loop() -> None:
    while True:
        time.sleep(INTERVAL_SECONDS)
        try:
            close_old_connections()
            stand_in_if_needed()
        except Exception:  # never take the web process down; try again next minute
            logger.exception("Scheduler stand-in round failed")
        finally:
            connection.close()


def ensure_started() -> None:
    """Start the thread once per process (called on the first request, after gunicorn has forked)."""
    global _started  # one thread per process is the point
    if _started or not settings.ALLIANCE_SCHEDULER_STANDIN:
        return
    with _start_lock:
        if _started:
            return
        threading.Thread(target=_loop, name="scheduler-standin", daemon=True).start()
        _started = True
