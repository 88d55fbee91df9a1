"""`alliance scheduler`: the clock. Every minute it runs one round of periodic work
(`alliance.operations.clock.tick`: risk escalation, reminders, digests, the daily recompute) and it
writes a heartbeat at least every 15 s, between rounds, so that `alliance check`, /health and the
clinic page can say when no scheduler is running.

Started by `alliance serve` (unless --no-scheduler); one per installation is enough, and running two
is harmless (every step claims its rows with a conditional UPDATE or a unique key). SIGTERM or SIGINT
ends it after the round in hand.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from alliance.operations.clock import tick
from alliance.operations.heartbeat import BEAT_SECONDS, Heart, process_name
from alliance.operations.models import ProcessRole

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run periodic work (risk escalation, reminders, digests, the daily recompute)."
    # The system checks import every URL module (charts, PDFs: seconds of start-up) and were run by
    # `alliance serve`/`migrate` already; a restarted process should be back at work at once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            # From the environment too, so that `alliance serve` (which starts this command) can be
            # given a shorter round: the end-to-end risk test runs one every second.
            default=float(os.environ.get("ALLIANCE_SCHEDULER_INTERVAL", "60")),
            help="Seconds between rounds (default 60, or ALLIANCE_SCHEDULER_INTERVAL).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Run one round and exit (for cron)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        once = options["once"]
        # Run from cron, every round is a new process: one row per host instead of one per minute.
        heart = Heart(
            ProcessRole.SCHEDULER,
            name=process_name(ProcessRole.SCHEDULER, pid=0) if once else None,
        )
        self._stopping = False
        if not once:
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        interval = options["interval"]
        next_round = time.monotonic()
        while not self._stopping:
            close_old_connections()
            try:
                heart.beat()
            except Exception:  # a heartbeat is a signal for people; never stop the clock for it
                logger.exception("Scheduler heartbeat failed")
            if time.monotonic() >= next_round:
                next_round = time.monotonic() + interval
                try:
                    tick()
                except Exception:  # keep the clock running; the next round retries
                    logger.exception("Scheduled round failed")
                if once:
                    return
            self._sleep_until(min(next_round, time.monotonic() + BEAT_SECONDS))
        logger.info("Scheduler stopped")

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.warning("Scheduler received %s; stopping", signal.strsignal(signum))
        self._stopping = True

    def _sleep_until(self, deadline: float) -> None:
        # Short naps, so a stop signal ends the wait within a second.
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
