"""`alliance demo`: a believable clinic on SQLite, then the app (on http://127.0.0.1:8000 unless --bind
says otherwise; the address printed is the one it binds to).

The first run generates the clinic (seeded, so every newcomer sees the same one, dated up to today);
later runs reuse it. Every run prints the demo logins and a fresh, working check-in link.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import Role, User
from alliance.care.models import Appointment, Attendance
from alliance.checkin.links import create_link
from alliance.core.management.commands.serve import serve
from alliance.demo.loader import DEMO_PASSWORD, load_clinic, settle_demo_history
from alliance.demo.simulate import simulate_clinic

DEMO_SEED = 2026
GUNICORN_DEFAULT_PORT = "8000"


def browsable_url(bind: str) -> str:
    """The address to open for a gunicorn --bind value: "0.0.0.0:8080" listens everywhere, and is
    opened as http://127.0.0.1:8080; a bare host gets gunicorn's default port."""
    if bind.startswith(("unix:", "fd://")):
        return ""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        host, port = bind, GUNICORN_DEFAULT_PORT
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)  # noqa: S104
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = (
        "Load the demo clinic (first run) and start Alliance (by default on http://127.0.0.1:8000)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo database and rebuild it."
        )
        parser.add_argument("--clients", type=int, default=80, help="Size of the simulated clinic.")
        parser.add_argument("--therapists", type=int, default=None)
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument(
            "--no-serve", action="store_true", help="Load the data and print logins only."
        )
        parser.add_argument("--bind", default=os.environ.get("ALLIANCE_BIND", "127.0.0.1:8000"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset"]:
            self._reset()
        call_command("migrate", "--noinput", verbosity=0)
        call_command("createcachetable", verbosity=0)
        if User.objects.exists():
            self.stdout.write("Demo clinic already loaded (use --reset to rebuild it).")
        else:
            self._load(options)
        self._print_welcome(options["bind"])
        if not options["no_serve"]:
            # Links made outside a request (emails from jobs) use SITE_URL: point it where we listen.
            if url := browsable_url(options["bind"]):
                os.environ.setdefault("ALLIANCE_SITE_URL", url)
            # The web servers, the job worker and the scheduler, each restarted if it dies: the
            # demo's risk alerts escalate on time too.
            code = serve(options["bind"], workers=2, with_worker=True, with_scheduler=True)
            if code:
                raise SystemExit(code)

    def _reset(self) -> None:
        database = settings.DATABASES["default"]
        if connection.vendor != "sqlite":
            raise CommandError(
                "--reset only deletes the demo's own SQLite file; drop other databases yourself."
            )
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            path = f"{database['NAME']}{suffix}"
            if os.path.exists(path):  # noqa: PTH110
                os.remove(path)  # noqa: PTH107

    def _load(self, options: dict[str, Any]) -> None:
        clients = options["clients"]
        therapists = options["therapists"] or max(4, round(clients / 20))
        self.stdout.write(
            f"Generating a demo clinic: {clients} clients, {therapists} therapists, 12 months ..."
        )
        started = time.perf_counter()
        clinic = simulate_clinic(
            seed=options["seed"],
            n_clients=clients,
            n_therapists=therapists,
            end=timezone.localdate(),
            tz=timezone.get_current_timezone(),
        )
        summary = load_clinic(clinic)
        self.stdout.write(
            f"  {summary.episodes} episodes, {summary.appointments} appointments, {summary.responses} "
            f"responses, {summary.reflections} reflections ({time.perf_counter() - started:.1f} s)"
        )
        call_command("alerts", "recompute", stdout=self.stdout)
        settled = settle_demo_history()
        self.stdout.write(f"  {settled} older alerts marked as handled at the time (demo history)")

    def _checkin_url(self, bind: str) -> str:
        therapist = User.objects.filter(role=Role.THERAPIST).order_by("pk").first()
        appointment = (
            Appointment.objects.filter(
                episode__therapist=therapist,
                attendance=Attendance.SCHEDULED,
                scheduled_at__gte=timezone.now(),
            )
            .order_by("scheduled_at")
            .first()
        )
        if appointment is None:
            return "(no upcoming appointment to make a link for)"
        base = browsable_url(bind) or settings.SITE_URL
        _, token = create_link(appointment)
        return f"{base}{reverse('checkin_landing', args=[token])}"

    def _print_welcome(self, bind: str) -> None:
        people = list(User.objects.order_by("role", "pk"))
        width = max(len(u.email) for u in people) if people else 20
        lines = [
            "",
            "  Alliance demo clinic (demo data and demo passwords only: never use them for real clients)",
            "",
            f"  Open {browsable_url(bind) or bind}/ and sign in with one of these "
            f"(password: {DEMO_PASSWORD}):",
        ]
        for user in people:
            lines.append(f"    {user.email:<{width}}  {Role(user.role).label}")
        lines += [
            "",
            "  The administrator also needs a one-time code (administrators must use two-factor sign-in):",
            "    ./alliancew demo_code      prints the current code",
            "",
            "  A client's check-in link for an upcoming appointment (open it on your phone or a narrow window):",
            f"    {self._checkin_url(bind)}",
            "",
        ]
        self.stdout.write("\n".join(lines))
