"""`alliance serve`: migrate, collect static files, then run gunicorn, the job worker and the scheduler,
and restart any of them that dies (alliance.operations.supervise).

One command for a small clinic's server. Installations that run the processes under systemd instead
(deploy/alliance-*.service) start `alliance serve --no-worker --no-scheduler` for the web servers (or
gunicorn directly) and `alliance worker` and `alliance scheduler` as units of their own.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from alliance.operations.supervise import Supervisor


def gunicorn_argv(bind: str, workers: int) -> list[str]:
    # No gunicorn access log: its lines would print check-in tokens (they are in the path), and
    # RequestIdMiddleware logs every request instead, with the token redacted and the request id.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "alliance.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        # Threads let a worker overlap one request's wait for the database (SQLite's single writer,
        # a PostgreSQL round trip) with another's work: measured by benchmarks/load.py, the check-in
        # landing served about 1.7 times the requests per second of sync workers.
        "--worker-class",
        "gthread",
        "--threads",
        os.environ.get("ALLIANCE_THREADS", "4"),
        # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
        # connections across them. On one shared socket the worker that woke first took them: the
        # proxy's few kept-alive connections (nginx's `keepalive 16`), or a load test's, landed 9
        # to 1 or 50 to 0 on one worker, which then served on one core while the other idled
        # (issue 10, point 6; docs/deployment.md "Web workers").
        "--reuse-port",
        "--forwarded-allow-ips",
        os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # gunicorn's control socket lives in $HOME/.gunicorn/: two installations (or a test run) on
        # one machine would share it, and a hardened unit cannot write there. Alliance does not use it.
        "--no-control-socket",
    ]


def children(
    bind: str, workers: int, *, with_worker: bool, with_scheduler: bool
) -> dict[str, list[str]]:
    alliance = [sys.executable, "-m", "alliance"]
    processes = {"web": gunicorn_argv(bind, workers)}
    if with_worker:
        processes["worker"] = [*alliance, "worker"]
    if with_scheduler:
        processes["scheduler"] = [*alliance, "scheduler"]
    return processes


def serve(bind: str, workers: int, *, with_worker: bool = True, with_scheduler: bool = True) -> int:
    call_command("migrate", "--noinput", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    # The children open their own connections; this process only supervises from here on.
    connections.close_all()
    supervisor = Supervisor(
        children(bind, workers, with_worker=with_worker, with_scheduler=with_scheduler),
        env=dict(os.environ),
    )
    return supervisor.run()


class Command(BaseCommand):
    help = (
        "Run Alliance: migrate, collect static files, start gunicorn, the job worker and the "
        "scheduler, and restart any of them that stops."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("ALLIANCE_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the job worker (it runs elsewhere, e.g. as a systemd unit).",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not start the scheduler (it runs elsewhere, e.g. as a systemd unit).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = serve(
            options["bind"],
            options["workers"],
            with_worker=not options["no_worker"],
            with_scheduler=not options["no_scheduler"],
        )
        if code:
            raise SystemExit(code)
