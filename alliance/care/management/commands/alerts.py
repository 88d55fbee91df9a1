"""`alliance alerts recompute [--refit] [--episode ID ...]`: bring every stored alert up to date.

The same code runs after each response (as a background job), so the result is identical either way.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.care import alert_sync


class Command(BaseCommand):
    help = "Recompute alerts for the whole clinic (or some episodes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["recompute"])
        parser.add_argument(
            "--refit", action="store_true", help="Refit the clinic's expected-recovery curves."
        )
        parser.add_argument(
            "--episode", type=int, action="append", help="Only this episode (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "recompute":
            raise CommandError("unknown action")
        started = time.perf_counter()
        settings = alert_sync.clinic_alert_settings()
        norms = alert_sync.clinic_norms(settings, refit=options["refit"])
        result = alert_sync.sync(options["episode"], settings=settings, norms=norms)
        self.stdout.write(
            f"{result.episodes} episodes: {result.created} alerts raised, {result.updated} updated "
            f"({time.perf_counter() - started:.1f} s)"
        )
