"""`alliance worker`: run background jobs from the database queue (django-tasks-db's `db_worker`),
beating a heartbeat from a thread so that `alliance check`, /health and the clinic page know it runs.

Why a thread rather than a subclass of django-tasks-db's Worker: its loop has no hook between polls,
so a subclass would mean copying `Worker.run`, and a long job (the nightly recompute, a slow mail
server) would stop the beats of a worker that is working. The price: a worker whose main thread hangs
forever still beats; a job stuck in "running" shows in django-tasks' result table instead.
"""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from alliance.operations.heartbeat import BeatingThread, Heart
from alliance.operations.models import ProcessRole
from alliance.operations.recovery import worker_id


class Command(BaseCommand):
    help = (
        "Run background jobs (alert recomputation, reminders, escalations) from the database queue."
    )
    # The system checks import every URL module (charts, PDFs: seconds of start-up) and were run by
    # `alliance serve`/`migrate` already; a restarted process should be back at work at once.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        beats = BeatingThread(Heart(ProcessRole.WORKER))
        beats.start()
        try:
            # db_worker handles SIGTERM/SIGINT itself: it finishes the job in hand, then exits. No
            # autoreloader (on by default with DEBUG): it would run the jobs in a second process that
            # neither `alliance serve` nor the heartbeat knows about.
            # The worker id equals the heartbeat's name (worker:<host>:<pid>), so that the scheduler
            # can tell a job left "running" by a dead worker (alliance.operations.recovery).
            call_command(
                "db_worker", "--queue-name", "*", "--no-reload", "--worker-id", worker_id()
            )
        finally:
            beats.stop()
