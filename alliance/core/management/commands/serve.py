"""`alliance serve`: migrate, collect static files, then run gunicorn, the job worker and the scheduler.

One command for a small clinic's server. Larger installations can run `gunicorn alliance.wsgi` and
`alliance worker` under their own supervisor instead (use --no-worker here).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def serve(bind: str, workers: int, *, with_worker: bool, quiet: bool = False) -> int:
    call_command("migrate", "--noinput", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    env = dict(os.environ)
    children: list[subprocess.Popen[bytes]] = []
    if with_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "alliance", "worker"], env=env))
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "alliance.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-" if not quiet else "/dev/null",
        "--forwarded-allow-ips",
        os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    children.append(subprocess.Popen(gunicorn, env=env))  # noqa: S603

    def stop(signum: int, _frame: Any) -> None:
        for child in children:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [child.wait() for child in reversed(children)]
    return max(codes, default=0)


class Command(BaseCommand):
    help = "Run Alliance: migrate, collect static files, start gunicorn and the job worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("ALLIANCE_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--no-worker", action="store_true", help="Do not start the job worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        code = serve(options["bind"], options["workers"], with_worker=not options["no_worker"])
        if code:
            raise SystemExit(code)
