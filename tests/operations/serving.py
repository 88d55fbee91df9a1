"""`alliance serve` started for real on a loopback port, with its own SQLite database in a temporary
data directory (whatever database the suite runs on), for the process tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(database: Path) -> dict[int, str]:
    try:
        with sqlite3.connect(database, timeout=5) as db:
            rows = db.execute(
                "SELECT pid, seen_at FROM operations_heartbeat WHERE role = 'worker'"
            ).fetchall()
    except sqlite3.OperationalError:  # not migrated yet, or busy
        return {}
    return {int(pid): seen_at for pid, seen_at in rows}


def _until(condition, deadline: float, what: str):
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def serve_env() -> dict[str, str]:
    """Extra environment for the served processes; a test module overrides this fixture."""
    return {}


@pytest.fixture
def running_serve(
    tmp_path: Path, serve_env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # Its own SQLite database in a temporary data directory, whatever the suite runs on; and
        # bytecode caching on, so the children start in a second or two.
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONDONTWRITEBYTECODE"}
    }
    env |= {"ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_HTTPS": "0", "WEB_CONCURRENCY": "1"}
    env |= serve_env
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "alliance", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so that cleanup can reach every child, whatever happens
    )
    try:
        yield process, port, tmp_path / "alliance.sqlite3"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
