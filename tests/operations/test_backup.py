"""`alliance backup` and `alliance restore`, end to end, on the engine the suite runs on.

Settings are read at import, so every installation here (the source, each restore target) is its own
`alliance` process with its own ALLIANCE_DATA_DIR and, on PostgreSQL, its own database. The source
is built once per module: migrated, filled with a small clinic through the factories, and backed up
while another process keeps committing clients.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.operations.backup_crypto import (
    MAGIC,
    BackupError,
    BackupKey,
    Damaged,
    DecryptingReader,
    EncryptingWriter,
    NotABackup,
    Passphrase,
    WrongKey,
)

ROOT = Path(__file__).resolve().parents[2]
BACKUP_KEY = BackupKey.generate().as_text()
POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgres://", "postgresql://"))
WRITER_ACTION = "test.backup.writer"
BACKUP_EVENTS = {"operations.backup.created", "operations.backup.restored"}


# --- The container: pure, property-tested ------------------------------------------------------


def _seal(
    data: bytes, key: BackupKey | Passphrase, chunk_size: int, manifest: bytes = b"{}"
) -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, key, chunk_size=chunk_size)
    writer.write_manifest(manifest)
    for start in range(0, len(data), 7):  # written in pieces that do not match the chunks
        writer.write(data[start : start + 7])
    writer.close()
    return out.getvalue()


def _open(blob: bytes, key: BackupKey | Passphrase) -> tuple[bytes, bytes]:
    reader = DecryptingReader(io.BytesIO(blob), key)
    return reader.manifest, b"".join(reader.chunks())


KEY = BackupKey.generate()


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000), chunk_size=st.integers(1, 700), manifest=st.binary(max_size=50)
)
def test_any_bytes_in_any_chunk_size_come_back_unchanged(
    data: bytes, chunk_size: int, manifest: bytes
) -> None:
    assert _open(_seal(data, KEY, chunk_size, manifest), KEY) == (manifest, data)


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=600),
    chunk_size=st.integers(1, 200),
    where=st.integers(0),
    flip=st.integers(1, 255),
)
def test_any_changed_byte_is_detected(data: bytes, chunk_size: int, where: int, flip: int) -> None:
    blob = bytearray(_seal(data, KEY, chunk_size))
    blob[where % len(blob)] ^= flip
    with pytest.raises(BackupError):
        _open(bytes(blob), KEY)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=600), chunk_size=st.integers(1, 200), keep=st.integers(0))
def test_a_cut_off_file_is_detected(data: bytes, chunk_size: int, keep: int) -> None:
    blob = _seal(data, KEY, chunk_size)
    with pytest.raises(BackupError):
        _open(blob[: keep % len(blob)], KEY)


def test_dropped_or_extra_chunks_and_wrong_keys_are_named() -> None:
    blob = _seal(b"x" * 100, KEY, 10)
    with pytest.raises(Damaged, match="after its final chunk"):
        _open(blob + b"\0", KEY)
    with pytest.raises(WrongKey, match="Wrong backup key"):
        _open(blob, BackupKey.generate())
    with pytest.raises(NotABackup):
        _open(b"SQLite format 3\0" + blob, KEY)
    # A chunk cut out of the middle: the data is 10 records of 4 + 10 + 16 bytes (the last final).
    first_data = len(blob) - 10 * 30
    with pytest.raises(Damaged, match="authentication"):
        _open(blob[:first_data] + blob[first_data + 30 :], KEY)


def test_passphrase_round_trip_and_wrong_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    # Less scrypt work than real backups use, to keep the suite quick; the file records the cost.
    monkeypatch.setattr("alliance.operations.backup_crypto.SCRYPT_LOG2_N", 12)
    sealed = _seal(b"clinic", Passphrase(b"correct horse battery"), 4)
    assert MAGIC not in sealed[len(MAGIC) :]  # the magic only at the start; the rest is noise
    assert _open(sealed, Passphrase(b"correct horse battery"))[1] == b"clinic"
    with pytest.raises(WrongKey, match="Wrong passphrase"):
        _open(sealed, Passphrase(b"incorrect horse battery"))
    with pytest.raises(WrongKey, match="passphrase"):
        _open(sealed, KEY)


# --- Installations -----------------------------------------------------------------------------


@dataclass
class Instance:
    data_dir: Path
    database_url: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "SECRET_KEY"))
            and not k.startswith("ALLIANCE_")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="alliance.settings",
            ALLIANCE_DATA_DIR=str(self.data_dir),
            ALLIANCE_BACKUP_KEY=BACKUP_KEY,
            ALLIANCE_HTTPS="0",
            PYTHONPATH=str(ROOT),
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(extra)
        return env

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "alliance", *args],
            cwd=ROOT,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        script = "import django; django.setup()\n" + code
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result

    def table_count(self) -> int:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as db:
                row = db.execute(
                    "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchone()
                return int(row[0]) if row else 0
        path = self.data_dir / "alliance.sqlite3"
        if not path.exists():
            return 0
        with sqlite3.connect(path) as db:
            return int(
                db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
            )

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as db:
                cursor = db.execute(statement)
                return list(cursor.fetchall()) if cursor.description else []
        with sqlite3.connect(self.data_dir / "alliance.sqlite3") as db:
            return db.execute(statement).fetchall()

    def dump(self) -> dict[str, Any]:
        out = self.data_dir.parent / f"dump-{uuid.uuid4().hex}.json"
        self.python(
            f"from tests.operations.test_backup import dump_everything; dump_everything({str(out)!r})"
        )
        return json.loads(out.read_text())


def _server_url(name: str) -> str:
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Instances:
    """Makes installations and removes their PostgreSQL databases afterwards."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.databases: list[str] = []

    def new(self) -> Instance:
        name = f"alliance_d_{uuid.uuid4().hex[:12]}"
        data_dir = self.base / name
        if not ON_POSTGRES:
            return Instance(data_dir)
        import psycopg

        with psycopg.connect(_server_url("postgres"), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return Instance(data_dir, _server_url(name))

    def close(self) -> None:
        if not self.databases:
            return
        import psycopg

        with psycopg.connect(_server_url("postgres"), autocommit=True) as db:
            for name in self.databases:
                db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instances]:
    made = Instances(tmp_path_factory.mktemp("backup"))
    yield made
    made.close()


# --- What runs inside the installations --------------------------------------------------------


def populate() -> None:
    """A small clinic with every kind of client data that a restore must bring back readable."""
    from alliance.accounts.audit import log_event
    from alliance.accounts.models import Role
    from alliance.care import models as care
    from alliance.checkin.models import Concern
    from tests import factories

    therapist = factories.UserFactory.create(email="olive@clinic.test")
    supervisor = factories.UserFactory.create(email="sam@clinic.test", role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=therapist)
    for number, name in enumerate(["Marguerite Quillfeather", "José Ñúñez", "Zoë Ångström"]):
        client = factories.ClientFactory.create(code=f"C-BK{number}", name=name)
        episode = factories.EpisodeFactory.create(client=client, therapist=therapist)
        factories.GoalFactory.create(episode=episode, description=f"Goal of {name}")
        appointment = factories.AppointmentFactory.create(episode=episode, session_number=1)
        factories.ResponseFactory.create(
            episode=episode,
            appointment=appointment,
            open_answers={"better": f"Less rushing, {name} said — «gracias»"},
        )
        factories.ReflectionFactory.create(episode=episode, text=f"Reflection about {name}")
        alert = factories.AlertFactory.create(episode=episode, appointment=appointment)
        care.AlertNote.objects.create(
            alert=alert, author=therapist, text=f"Repair talk with {name}"
        )
        Concern.objects.create(episode=episode, text=f"A concern from {name}")
        log_event("care.client.viewed", obj=client, actor=therapist)


def write_forever(progress: str) -> None:
    """Commit a client and its audit event together, again and again, recording how far it got."""
    from django.db import transaction

    from alliance.accounts.models import AuditEvent
    from alliance.care.models import Client

    number = 0
    while True:
        with transaction.atomic():
            Client.objects.create(code=f"W-{number:06d}", name=f"Writer {number}")
            AuditEvent.objects.create(action=WRITER_ACTION, object_id=str(number))
        number += 1
        # Replaced, not rewritten in place, so that a reader never sees an empty file.
        Path(progress + ".new").write_text(str(number))
        Path(progress + ".new").replace(progress)


def dump_everything(path: str) -> None:
    """Every row of every table as stored, and every encrypted field decrypted through the models."""
    from django.apps import apps
    from django.db import connection

    from alliance.core.fields import encrypted_fields

    tables: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            rows = [json.loads(json.dumps(list(row), default=str)) for row in cursor.fetchall()]
            tables[table] = {"columns": columns, "rows": rows}
    decrypted: dict[str, list[Any]] = {}
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if fields:
            values = model._default_manager.order_by("pk").values_list("pk", *fields)
            decrypted[model._meta.db_table] = json.loads(json.dumps(list(values), default=str))
    Path(path).write_text(json.dumps({"tables": tables, "decrypted": decrypted}))


def _comparable(dump: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Rows as sorted strings, without the writer's rows (and the events their creation logged)
    and without the backup's own audit events."""
    clients = dump["tables"]["care_client"]
    code = clients["columns"].index("code")
    writer_ids = {row[0] for row in clients["rows"] if str(row[code]).startswith("W-")}

    def keep(table: str, columns: list[str], row: list[Any]) -> bool:
        values = dict(zip(columns, row, strict=True))
        if table == "care_client":
            return values["id"] not in writer_ids
        if table == "accounts_auditevent":
            return (
                values["action"] not in BACKUP_EVENTS | {WRITER_ACTION}
                and values["client_id"] not in writer_ids
            )
        return True

    tables = {
        table: sorted(json.dumps(r) for r in content["rows"] if keep(table, content["columns"], r))
        for table, content in dump["tables"].items()
    }
    decrypted = {
        table: sorted(
            json.dumps(row) for row in rows if not (table == "care_client" and row[0] in writer_ids)
        )
        for table, rows in dump["decrypted"].items()
    }
    return tables, decrypted


def _writer_numbers(dump: dict[str, Any]) -> tuple[set[int], set[int]]:
    clients = dump["tables"]["care_client"]
    code = clients["columns"].index("code")
    events = dump["tables"]["accounts_auditevent"]
    action, object_id = events["columns"].index("action"), events["columns"].index("object_id")
    return (
        {int(row[code][2:]) for row in clients["rows"] if str(row[code]).startswith("W-")},
        {int(row[object_id]) for row in events["rows"] if row[action] == WRITER_ACTION},
    )


@dataclass
class Source:
    instance: Instance
    backup: Path
    backup_with_keys: Path
    written_before: int
    written_after: int
    field_key: str


def _wait_for(progress: Path, at_least: int) -> int:
    for _ in range(600):
        if progress.exists() and progress.read_text() and int(progress.read_text()) >= at_least:
            return int(progress.read_text())
        time.sleep(0.05)
    raise AssertionError("the writer process did not get going")


@pytest.fixture(scope="module")
def source(instances: Instances) -> Source:
    instance = instances.new()
    instance.python(
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from tests.operations.test_backup import populate; populate()"
    )
    progress = instance.data_dir / "writer-progress"
    writer = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n"
            f"from tests.operations.test_backup import write_forever; write_forever({str(progress)!r})",
        ],
        cwd=ROOT,
        env=instance.env(),
        stderr=subprocess.PIPE,
    )
    try:
        before = _wait_for(progress, 5)
        made = instance.run("backup", str(instances.base / "clinic.backup"))
        assert made.returncode == 0, made.stderr
        after = int(progress.read_text())
    finally:
        writer.terminate()
        writer.wait()
    with_keys = instance.run("backup", "--include-keys", str(instances.base / "with-keys.backup"))
    assert with_keys.returncode == 0, with_keys.stderr
    return Source(
        instance,
        instances.base / "clinic.backup",
        instances.base / "with-keys.backup",
        before,
        after,
        (instance.data_dir / "field_encryption_keys").read_text().strip(),
    )


def _give_keys_of(source: Source, target: Instance) -> None:
    """What an operator does when the backup does not carry the keys: copy the key file over."""
    target.data_dir.mkdir(mode=0o700)
    keys = target.data_dir / "field_encryption_keys"
    keys.write_text(source.field_key + "\n")
    keys.chmod(0o600)


# --- Backup and restore ------------------------------------------------------------------------


def test_a_backup_taken_while_writing_restores_every_row_readable(
    source: Source, instances: Instances
) -> None:
    assert source.backup.stat().st_mode & 0o777 == 0o600
    assert not list(source.backup.parent.glob("*.partial"))
    assert not list(source.instance.data_dir.glob(".backup-work-*"))  # no plaintext left behind
    assert b"Quillfeather" not in source.backup.read_bytes()

    target = instances.new()
    _give_keys_of(source, target)
    restored = target.run("restore", str(source.backup))
    assert restored.returncode == 0, restored.stderr
    assert "every table's count matches" in restored.stdout

    original, copy = source.instance.dump(), target.dump()
    # Consistent: the writer's client and audit event arrive together, as a prefix of what it
    # committed, and the writer kept committing while the backup ran.
    clients, events = _writer_numbers(copy)
    assert clients == events == set(range(len(clients)))
    assert source.written_before <= len(clients) <= source.written_after
    assert source.written_after > source.written_before

    assert set(copy["tables"]) == set(original["tables"])
    original_rows, original_decrypted = _comparable(original)
    copy_rows, copy_decrypted = _comparable(copy)
    for table in original_rows:
        assert copy_rows[table] == original_rows[table], table
    assert copy_decrypted == original_decrypted
    names = {row[1] for row in copy["decrypted"]["care_client"]}
    assert {"Marguerite Quillfeather", "José Ñúñez", "Zoë Ångström"} <= names
    answers = json.dumps(copy["decrypted"]["care_response"], ensure_ascii=False)
    assert "«gracias»" in answers
    assert len(copy["decrypted"]["care_alertnote"]) == 3
    assert len(copy["decrypted"]["care_reflection"]) == 3
    restored_events = [
        r
        for r in copy["tables"]["accounts_auditevent"]["rows"]
        if "operations.backup.restored" in r
    ]
    assert len(restored_events) == 1


def test_a_non_empty_target_is_kept_unless_forced(source: Source, instances: Instances) -> None:
    target = instances.new()
    _give_keys_of(source, target)
    assert target.run("restore", str(source.backup)).returncode == 0
    # Something written after the restore, which a refused restore must leave alone.
    target.sql(
        "INSERT INTO django_migrations (app, name, applied) "
        "VALUES ('later', 'marker', CURRENT_TIMESTAMP)"
    )
    marker = "SELECT COUNT(*) FROM django_migrations WHERE app = 'later'"
    refused = target.run("restore", str(source.backup))
    assert refused.returncode == 1
    assert "already holds tables" in refused.stderr and "--force" in refused.stderr
    assert target.sql(marker) == [(1,)]

    forced = target.run("restore", "--force", str(source.backup))
    assert forced.returncode == 0, forced.stderr
    assert target.sql(marker) == [(0,)]


@pytest.fixture(scope="module")
def empty_target(instances: Instances) -> Iterator[Instance]:
    """One installation shared by the tests of refusals: each checks that it is still empty and that
    its own (generated) keys were not replaced."""
    target = instances.new()
    assert target.run("restore", "--help").returncode == 0  # settings generate its keys
    keys = (target.data_dir / "field_encryption_keys").read_text()
    yield target
    assert target.table_count() == 0
    assert (target.data_dir / "field_encryption_keys").read_text() == keys


def test_verify_reads_the_manifest_without_restoring(
    source: Source, empty_target: Instance
) -> None:
    checked = empty_target.run("restore", "--check", str(source.backup))
    assert checked.returncode == 0, checked.stderr
    fingerprint = hashlib.sha256(source.field_key.encode()).hexdigest()[:16]
    assert fingerprint in checked.stdout
    assert "carries the keys themselves: no" in checked.stdout
    assert source.field_key not in checked.stdout
    assert empty_target.table_count() == 0


def test_a_wrong_backup_key_is_refused_before_anything_is_written(
    source: Source, empty_target: Instance
) -> None:
    result = empty_target.run(
        "restore", str(source.backup_with_keys), ALLIANCE_BACKUP_KEY=BackupKey.generate().as_text()
    )
    assert result.returncode == 1
    assert "Wrong backup key" in result.stderr
    assert "Traceback" not in result.stderr
    assert empty_target.table_count() == 0


def test_a_truncated_or_altered_file_is_refused(
    source: Source, instances: Instances, empty_target: Instance
) -> None:
    blob = source.backup_with_keys.read_bytes()
    cut = instances.base / "cut.backup"
    cut.write_bytes(blob[: len(blob) * 2 // 3])
    altered = instances.base / "altered.backup"
    changed = bytearray(blob)
    changed[len(blob) - 100] ^= 0x01  # in the last chunk: everything before it decrypts fine
    altered.write_bytes(bytes(changed))

    checked = empty_target.run("restore", "--check", str(cut))
    assert checked.returncode == 1
    assert "truncated" in checked.stderr
    # The backup carries its keys, so only the damage can stop this restore (and its keys must not
    # be installed: the fixture checks the target's own keys are still there).
    restored = empty_target.run("restore", str(altered))
    assert restored.returncode == 1
    assert "altered or damaged" in restored.stderr
    assert "Traceback" not in restored.stderr
    assert empty_target.table_count() == 0


def test_missing_field_keys_are_named_and_nothing_is_restored(
    source: Source, empty_target: Instance
) -> None:
    result = empty_target.run("restore", str(source.backup))
    assert result.returncode == 1
    fingerprint = hashlib.sha256(source.field_key.encode()).hexdigest()[:16]
    assert f"lacks the field encryption key(s) with fingerprint {fingerprint}" in result.stderr
    assert empty_target.table_count() == 0


def test_a_backup_with_its_keys_restores_onto_a_data_dir_without_them(
    source: Source, instances: Instances
) -> None:
    target = instances.new()
    result = target.run("restore", str(source.backup_with_keys))
    assert result.returncode == 0, result.stderr
    written = target.data_dir / "field_encryption_keys"
    assert written.read_text().strip() == source.field_key
    assert written.stat().st_mode & 0o777 == 0o600
    assert (target.data_dir / "secret_key").read_text() == (
        source.instance.data_dir / "secret_key"
    ).read_text()
    names = {row[1] for row in target.dump()["decrypted"]["care_client"]}
    assert "José Ñúñez" in names


def test_the_commands_answer_bad_input_with_a_message(
    source: Source, instances: Instances, empty_target: Instance
) -> None:
    not_a_backup = instances.base / "notes.txt"
    not_a_backup.write_text("hello")
    out = str(instances.base / "x.backup")
    cases = [
        (("restore", str(instances.base / "missing.backup")), {}, 2, "Cannot read"),
        (("restore", str(not_a_backup)), {}, 2, "not an Alliance backup"),
        (("backup", out), {"ALLIANCE_BACKUP_KEY": ""}, 2, "No backup key"),
        (("backup", out), {"ALLIANCE_BACKUP_KEY": "short"}, 2, "32 random bytes"),
        (
            ("restore", "--check", str(source.backup), "--passphrase-file", str(not_a_backup)),
            {},
            2,
            "at least 12",
        ),
        (("restore",), {}, 2, "the following arguments are required: file"),
    ]
    for args, env, status, message in cases:
        result = empty_target.run(*args, **env)
        assert result.returncode == status, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert not (instances.base / "x.backup").exists()
