"""The issue's own check, with `alliance serve` running on a fresh install: a client answers PHQ-9 item 9
above 0 through their link; the therapist is emailed at once; with nobody acknowledging, the
supervisor's email arrives after the configured delay, then the administrators'.

Real processes (gunicorn, worker, scheduler) on a loopback port, real HTTP, mail read from the outbox
directory. The clock is not faked inside the server: the test moves the alert's times back by more than
the configured delay (as if the minutes had passed) and the scheduler, running a round every second,
must notice on its own.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.operations.serving import _until, running_serve

__all__ = ["running_serve"]

DELAY_MINUTES = 5  # both stages; long enough that a slow machine never reaches it by itself

SETUP = f"""
import json
from datetime import timedelta
from django.utils import timezone
from alliance.accounts.models import Role, Supervision, User
from alliance.care.models import Appointment, Client, ClinicSettings, Episode
from alliance.checkin.links import create_link

therapist = User.objects.create_user("therapist@clinic.test", "x" * 16, first_name="Tess")
supervisor = User.objects.create_user(
    "supervisor@clinic.test", "x" * 16, role=Role.SUPERVISOR
)
User.objects.create_user("admin@clinic.test", "x" * 16, role=Role.ADMINISTRATOR)
Supervision.objects.create(supervisor=supervisor, therapist=therapist)
clinic = ClinicSettings.load()
clinic.crisis_resources_en = "Call 999"
clinic.alert_settings = {{
    "risk_escalation_minutes": {DELAY_MINUTES},
    "risk_administrator_escalation_minutes": {DELAY_MINUTES},
}}
clinic.save()
client = Client.objects.create(code="C-E2E01", name="Robin Example")
episode = Episode.objects.create(client=client, therapist=therapist)
appointment = Appointment.objects.create(
    episode=episode, session_number=1, scheduled_at=timezone.now() + timedelta(hours=1)
)
_, token = create_link(appointment)
print(json.dumps({{"token": token}}))
"""


@pytest.fixture
def serve_env() -> dict[str, str]:
    return {"ALLIANCE_SCHEDULER_INTERVAL": "1"}


def _mail(outbox: Path) -> list[tuple[str, str]]:
    """(subject, To) of every message in the outbox directory."""
    found = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append((str(message["Subject"]), str(message["To"])))
    return found


def _to(outbox: Path, subject_part: str) -> list[str]:
    return [to for subject, to in _mail(outbox) if subject_part in subject]


def _backdate(database: Path, column: str, minutes: int) -> None:
    moment = datetime.now(UTC) - timedelta(minutes=minutes)
    with sqlite3.connect(database, timeout=20) as db:
        db.execute(
            f"UPDATE care_alert SET {column} = ? WHERE kind = 'risk'",  # noqa: S608 - fixed names
            (moment.strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )


def test_a_risk_answer_reaches_therapist_then_supervisor_then_administrators(
    running_serve: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, database = running_serve
    data_dir = database.parent
    outbox = data_dir / "outbox"
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # generous for a busy machine; nothing here is timed

    def healthy() -> bool:
        assert process.poll() is None, (data_dir / "serve.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:  # noqa: S310
                return json.loads(answer.read())["database"] == "ok"
        except OSError:
            return False

    _until(healthy, deadline, "/health")
    setup = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "alliance", "shell", "-c", SETUP],
        env={**_env(process), "ALLIANCE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(setup.stdout.strip().splitlines()[-1])["token"]

    # The client, on their phone: open the PHQ-9 and answer item 9 with "several days".
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form_url = f"{base}/c/{token}/answer/phq9/"
    page = browser.open(form_url, timeout=30).read().decode()
    hidden = dict(re.findall(r'name="(csrfmiddlewaretoken|started)" value="([^"]+)"', page))
    answers = {f"q_{n}": "1" for n in range(1, 11)}
    request = urllib.request.Request(  # noqa: S310 - loopback
        form_url,
        data=urllib.parse.urlencode(hidden | answers).encode(),
        headers={"Referer": form_url},
    )
    shown = browser.open(request, timeout=30).read().decode()
    assert "999" in shown  # the crisis resources, at once

    # The therapist hears at once (the worker or the next round sends it).
    urgent = _until(lambda: _to(outbox, "Urgent"), deadline, "the therapist's urgent email")
    assert urgent == ["therapist@clinic.test"]
    # Not yet escalated: nobody has waited the configured delay.
    assert _to(outbox, "Unacknowledged") == []

    # The first delay passes with nobody acknowledging: the supervisor is told.
    _backdate(database, "created_at", DELAY_MINUTES + 1)
    first = _until(lambda: _to(outbox, "Unacknowledged"), deadline, "the supervisor's email")
    assert first == ["supervisor@clinic.test"]

    # The second delay passes: the administrators are told, and the supervisor not again.
    _backdate(database, "escalated_at", DELAY_MINUTES + 1)
    both = _until(
        lambda: (found := _to(outbox, "Unacknowledged")) and len(found) > 1 and found,
        deadline,
        "the administrators' email",
    )
    assert sorted(both) == ["admin@clinic.test", "supervisor@clinic.test"]
    for subject, _to_header in _mail(outbox):
        assert "Robin" not in subject  # no client name in any email
    for path in outbox.glob("*.eml"):
        assert "Robin Example" not in path.read_text()


def _env(process: subprocess.Popen[bytes]) -> dict[str, str]:
    """The environment `alliance serve` was started with (its own SQLite, no test settings)."""
    environ = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in environ if b"=" in entry)
