from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run background jobs (alert recomputation, reminders, escalations) from the database queue."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("db_worker", "--queue-name", "*")
