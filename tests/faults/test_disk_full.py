"""The disk fills up (issue 10, point 7): every write that touches a file, and SQLite's own.

Simulated with `OSError(ENOSPC)` at the write itself, and once for real: a subprocess under
`RLIMIT_FSIZE` (the kernel refuses to grow a file past the limit, EFBIG), since a tiny loop-mounted or
tmpfs filesystem needs root and is not something a test suite may mount. PDFs are compiled in memory
(alliance/reports/pdf.py, typst.compile returns bytes) and write no file, so there is nothing to fill.

Each case: a clear error, nothing lost (the answers stay on screen, the email stays queued), no
fragment left behind, and the application keeps serving other pages.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core.mail import EmailMessage
from django.db import OperationalError, connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alliance.care.models import Response
from alliance.core import mail
from alliance.operations import outbox
from alliance.operations.models import OutboundEmail
from tests.checkin.conftest import Visit, checkin
from tests.checkin.test_flow import _started
from tests.conftest import Clinic
from tests.faults.helpers import FailOnQuery, assert_nothing_leaked

REPO = Path(__file__).resolve().parents[2]


def _no_space(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _full_file(fd: int, _mode: str = "wb") -> io.BytesIO:
    """What os.fdopen gives on a full disk: the file was created, writing to it fails."""
    os.close(fd)
    return _FullFile()


class _FullFile(io.BytesIO):
    """A file on a full disk: opening works, writing does not."""

    def write(self, _data: Any) -> int:
        _no_space()
        return 0


@pytest.fixture
def outbox_sink(tmp_path: Path) -> Any:
    with override_settings(EMAIL_BACKEND="alliance.core.mail.OutboxBackend", DATA_DIR=tmp_path):
        yield tmp_path / "outbox"


def test_mail_sink_on_a_full_disk_keeps_the_email_queued_and_sends_it_once_later(
    db: None, outbox_sink: Path
) -> None:
    row = outbox.queue(
        "fault:disk-full", "alert_urgent", ["therapist@clinic.test"], "Alliance: urgent", "link"
    )
    assert row is not None
    with mock.patch.object(mail.os, "fdopen", _full_file):
        assert outbox.deliver(row.pk) == "pending"
    row.refresh_from_db()
    assert row.attempts == 1 and "No space left on device" in row.last_error
    assert list(outbox_sink.iterdir()) == []  # no truncated .eml left behind
    # Space is freed; the retry after its back-off sends it, once.
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert outbox.deliver(row.pk) == "sent"
        assert outbox.deliver(row.pk) == ""
    [sent] = list(outbox_sink.iterdir())
    assert b"Alliance: urgent" in sent.read_bytes()
    assert OutboundEmail.objects.get(pk=row.pk).status == "sent"


def test_a_real_file_size_limit_makes_the_mail_sink_fail_cleanly(tmp_path: Path) -> None:
    """RLIMIT_FSIZE in a child process: the kernel itself refuses the write (EFBIG)."""
    script = textwrap.dedent(
        """
        import resource, signal, sys
        from pathlib import Path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        import django
        django.setup()
        from django.core.mail import EmailMessage
        from alliance.core.mail import OutboxBackend
        big = EmailMessage("Alliance: check-in", "x" * 20000, "a@clinic.test", ["b@clinic.test"])
        try:
            OutboxBackend().send_messages([big])
        except OSError as error:
            print("refused", error.errno)
        small = EmailMessage("Alliance: check-in", "short", "a@clinic.test", ["b@clinic.test"])
        print("sent", OutboxBackend().send_messages([small]))
        print("files", len(list((Path(sys.argv[1]) / "outbox").iterdir())))
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ALLIANCE_DATA_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.split()
    assert lines[:2] == ["refused", str(errno.EFBIG)], done.stdout
    # The small message still goes out, and the refused one left no fragment.
    assert "sent 1" in done.stdout and "files 1" in done.stdout, done.stdout


def test_chart_cache_on_a_full_disk_still_shows_the_charts(clinic: Clinic) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)
    with mock.patch("django.core.cache.backends.filebased.FileBasedCache.set", _no_space):
        page = http.get(reverse("episode_charts", args=[clinic.episode.pk]), HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert http.get(reverse("caseload")).status_code == 200


def test_a_log_file_on_a_full_disk_does_not_break_requests(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """logging reports its own write failure on stderr (Handler.handleError) and carries on."""

    class FullStream(io.StringIO):
        def write(self, _text: str) -> int:
            _no_space()
            return 0

    handler = logging.StreamHandler(FullStream())
    request_log = logging.getLogger("alliance.request")
    request_log.addHandler(handler)
    try:
        http = HttpClient()
        http.force_login(clinic.owner)
        page = http.get(reverse("client_detail", args=[clinic.client.code]))
    finally:
        request_log.removeHandler(handler)
    assert page.status_code == 200
    assert "No space left on device" in capsys.readouterr().err


def test_sqlite_disk_full_keeps_the_answers_and_the_app_serves_other_pages(
    visit: Visit, after_session: None
) -> None:
    """`database or disk is full` (SQLITE_FULL) from the statement that stores the answers."""
    data = checkin(bond=4, better="Too much homework") | {"started": _started()}
    url = visit.url("answer", "checkin")
    full = FailOnQuery(
        1,
        matches=lambda sql: sql.lstrip().upper().startswith("INSERT"),
        error=OperationalError("database or disk is full"),
    )
    with connection.execute_wrapper(full):
        page = HttpClient(raise_request_exception=False).post(url, data)
    assert full.fired
    body = page.content.decode()
    assert page.status_code == 503
    assert 'name="q_bond" value="4" checked' in body and "Too much homework" in body
    assert_nothing_leaked(body)
    assert Response.objects.count() == 0
    # Other pages still answer, and once there is room the same answers are stored once.
    assert HttpClient().get(visit.url()).status_code == 200
    assert HttpClient().post(url, data).status_code == 302
    assert Response.objects.filter(instrument="checkin").count() == 1


def test_an_email_too_big_for_the_disk_is_not_half_written(tmp_path: Path) -> None:
    """The sink's own clean-up, without the outbox around it."""
    message = EmailMessage("Alliance", "body", "a@clinic.test", ["b@clinic.test"])
    with (
        override_settings(DATA_DIR=tmp_path),
        mock.patch.object(mail.os, "fdopen", _full_file),
        pytest.raises(OSError, match="No space left"),
    ):
        mail.OutboxBackend().send_messages([message])
    assert list((tmp_path / "outbox").iterdir()) == []
