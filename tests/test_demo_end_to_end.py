"""`alliance demo` as a newcomer runs it: a fresh data directory, the real command, a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the demo's embedded SQLite file is what this test inspects",
)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = tmp_path_factory.mktemp("demo-data")
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["ALLIANCE_DATA_DIR"] = str(data)
    result = subprocess.run(
        [sys.executable, "-m", "alliance", "demo", "--no-serve", "--clients", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return data, result.stdout


def test_demo_prints_logins_and_a_working_check_in_link(demo_dir: tuple[Path, str]) -> None:
    _, output = demo_dir
    assert "password: alliance-demo" in output
    assert (
        "@demo.alliance.invalid" in output and "Administrator" in output and "Therapist" in output
    )
    assert "http://127.0.0.1:8000/c/" in output
    assert "demo data and demo passwords only" in output


def test_demo_secrets_are_generated_with_mode_0600(demo_dir: tuple[Path, str]) -> None:
    data, _ = demo_dir
    for name in ("secret_key", "field_encryption_keys"):
        assert (data / name).stat().st_mode & 0o777 == 0o600


def test_sqlite_file_holds_no_client_name_or_reflection_in_clear(
    demo_dir: tuple[Path, str],
) -> None:
    data, _ = demo_dir
    database = data / "alliance.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    codes = [row[0] for row in connection.execute("SELECT code FROM care_client")]
    connection.close()
    assert len(codes) == 30

    from alliance.demo.simulate import simulate_clinic

    # The same seed and size the command used; only the dates differ, never the names or texts.
    clinic = simulate_clinic(seed=2026, n_clients=30, n_therapists=4)
    raw = b"".join(path.read_bytes() for path in data.glob("alliance.sqlite3*"))
    names = [f"{c.first_name} {c.last_name}" for c in clinic.clients]
    assert {c.code for c in clinic.clients} == set(codes)  # the data really is in this file
    reflections = [a.reflection for e in clinic.episodes for a in e.appointments if a.reflection]
    assert reflections
    for secret in [
        *names,
        *(c.email for c in clinic.clients),
        *reflections,
        *(g for e in clinic.episodes for g in e.goals),
    ]:
        assert secret.encode() not in raw, f"found in clear: {secret[:30]}"
