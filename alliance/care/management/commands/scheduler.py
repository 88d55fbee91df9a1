"""`alliance scheduler`: the clock. Every minute it escalates unacknowledged risk alerts; once a day it
refits the clinic's norms and recomputes every alert. Started by `alliance serve`; one per installation
is enough, and running two is harmless (escalation claims each alert with a conditional UPDATE, and a
recompute never duplicates an alert)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from alliance.operations.clock import tick

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run periodic work: risk escalation every minute."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=60.0)
        parser.add_argument(
            "--once", action="store_true", help="Run one round and exit (for cron)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            close_old_connections()
            try:
                tick()
            except Exception:  # keep the clock running; the next round retries
                logger.exception("Scheduled round failed")
            if options["once"]:
                return
            time.sleep(options["interval"])
