"""Copying the database out and back in, per engine: SQLite's online backup API, pg_dump/pg_restore.

Both sides stream: `dump_*` hand the data to a writer chunk by chunk, `restore_*` take an iterator of
chunks. Row counts and the migration state are read from the same snapshot as the data, so the
manifest describes exactly what the file holds even while the server keeps writing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction

from alliance.operations.backup_crypto import BackupError

READ_SIZE = 1024 * 1024
Counts = dict[str, int]
Migrations = dict[str, str]


# --- SQLite ----------------------------------------------------------------------------------------


def sqlite_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows]


def _sqlite_counts(db: sqlite3.Connection) -> Counts:
    return {
        table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        for table in sqlite_tables(db)
    }


def _sqlite_migrations(db: sqlite3.Connection) -> Migrations:
    latest: Migrations = {}
    for app, name in db.execute("SELECT app, name FROM django_migrations ORDER BY id"):
        latest[app] = name
    return latest


def sqlite_snapshot(workdir: Path) -> tuple[Path, Counts, Migrations]:
    """Copy the live database into `workdir` with the online backup API, in one step.

    One step holds a read transaction for the whole copy: in WAL mode the server's writers carry on,
    and the copy is the database as it was when the step began."""
    copy = workdir / "snapshot.sqlite3"
    connection.ensure_connection()
    source = connection.connection
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        if not sqlite_tables(target):
            raise BackupError("The database is empty: there is nothing to back up.")
        return copy, _sqlite_counts(target), _sqlite_migrations(target)
    finally:
        target.close()


def sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return bool(sqlite_tables(db))
    finally:
        db.close()


def sqlite_check_copy(path: Path) -> Counts:
    """Integrity-check a decrypted copy and count its rows."""
    db = sqlite3.connect(path)
    try:
        result = db.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            raise BackupError(
                f"The database inside the backup fails SQLite's integrity check: {result[:3]}"
            )
        return _sqlite_counts(db)
    finally:
        db.close()


def sqlite_restore(copy: Path, target: Path) -> None:
    """Copy the checked database onto the target through SQLite, never by replacing the file: a
    leftover -wal file or a running server then sees a whole database, not a mix of two."""
    connection.close()
    source = sqlite3.connect(copy)
    fresh = not target.exists()
    destination = sqlite3.connect(target, timeout=20)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    if fresh:
        target.chmod(0o600)


# --- PostgreSQL -------------------------------------------------------------------------------------


def _pg_environment() -> dict[str, str]:
    """libpq's variables for the configured database; the password never goes on a command line."""
    settings = connection.settings_dict
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", settings.get("HOST")),
        ("PGPORT", settings.get("PORT")),
        ("PGUSER", settings.get("USER")),
        ("PGPASSWORD", settings.get("PASSWORD")),
        ("PGDATABASE", settings.get("NAME")),
        ("PGSSLMODE", settings.get("OPTIONS", {}).get("sslmode")),
        ("PGSSLROOTCERT", settings.get("OPTIONS", {}).get("sslrootcert")),
    ):
        if value:
            env[variable] = str(value)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on the PATH. Install PostgreSQL's client tools (Debian: "
            f"apt-get install postgresql-client-<server major version>)."
        )
    return path


def pg_tool_major(name: str) -> int:
    output = subprocess.run(  # noqa: S603
        [_pg_tool(name), "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"\)\s*(\d+)", output)
    if match is None:
        raise BackupError(f"Could not read the version of {name} from {output.strip()!r}.")
    return int(match.group(1))


def pg_server_major() -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [row[0] for row in cursor.fetchall()]


def pg_counts() -> Counts:
    with connection.cursor() as cursor:
        counts: Counts = {}
        for table in _pg_tables(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
        return counts


def pg_has_tables() -> bool:
    with connection.cursor() as cursor:
        return bool(_pg_tables(cursor))


def pg_dump(
    start: Callable[[Counts, Migrations, dict[str, int]], None], write: Callable[[bytes], None]
) -> None:
    """Run pg_dump on a snapshot exported from a REPEATABLE READ transaction that also counts the
    rows, so the counts and the dump describe the same moment. `start` gets them before any data."""
    server = pg_server_major()
    dump_major = pg_tool_major("pg_dump")
    if dump_major < server:
        raise BackupError(
            f"pg_dump is version {dump_major} but the server is PostgreSQL {server}: pg_dump must "
            f"be at least the server's version (Debian: apt-get install postgresql-client-{server})."
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = pg_counts()
        if "django_migrations" not in counts:
            raise BackupError("The database is empty: there is nothing to back up.")
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        migrations: Migrations = {}
        for app, name in cursor.fetchall():
            migrations[app] = name
        start(counts, migrations, {"server_major": server, "pg_dump_major": dump_major})
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603
                [_pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}"],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_pg_environment(),
            )
            assert process.stdout is not None
            try:
                while data := process.stdout.read(READ_SIZE):
                    write(data)
            finally:
                process.stdout.close()
                returncode = process.wait()
            if returncode != 0:
                raise BackupError(f"pg_dump failed: {_tail(errors)}")


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace").strip()[-600:] or "(no message)"


def pg_restore(chunks: Iterable[bytes], *, clean: bool, list_only: bool = False) -> None:
    """Feed the decrypted dump to pg_restore in one transaction: if the stream turns out damaged
    half-way, pg_restore is stopped and nothing it did is kept."""
    command = [_pg_tool("pg_restore")]
    if list_only:
        command.append("--list")
    else:
        connection.close()
        command += ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
        command += ["--clean", "--if-exists"] if clean else []
        command += ["--dbname", str(connection.settings_dict["NAME"])]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=_pg_environment(),
        )
        assert process.stdin is not None
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
            process.stdin.close()
        except BackupError:
            process.kill()
            process.wait()
            raise
        except BrokenPipeError:
            pass  # pg_restore stopped early; its exit status and message say why.
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        if process.wait() != 0:
            raise BackupError(f"pg_restore failed: {_tail(errors)}")
