"""`alliance backup` and `alliance restore`: a consistent, encrypted copy of the database.

What a backup file holds: a manifest (when, which engine, Alliance's version, the latest migration of
each app, the fingerprints of SECRET_KEY and of every FIELD_ENCRYPTION_KEYS key, the number of rows
in every table; with --include-keys also the keys) and the database itself (an SQLite file, or a
`pg_dump --format=custom` archive), all inside the encrypted container of backup_crypto.

What it leaves out, on purpose: `chart-cache/` (drawn charts, rebuilt on demand from the data),
`static/` (collected from the code by `alliance serve`), and `outbox/` (the mail sink of an
installation without SMTP: copies of emails already "sent", never read back by Alliance; every email
Alliance still means to send is in the database's outbox table, which is in the backup).

The backup key is meant to live off the server (see docs/operations.md): the file alone reveals
nothing, and losing the server does not lose the means to read the backup.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from alliance.accounts.audit import log_event
from alliance.core.fields import encrypted_fields
from alliance.core.secrets import secret_from_env
from alliance.operations import backup_engines as engines
from alliance.operations.backup_crypto import (
    BackupError,
    BackupKey,
    DecryptingReader,
    EncryptingWriter,
    Key,
    Passphrase,
)

MANIFEST_VERSION = 1


class UsageError(BackupError):
    """Bad input rather than a bad backup: the command exits with status 2."""


def fingerprint(secret: str) -> str:
    """Names a key without revealing it: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()[:16]


def engine() -> str:
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise UsageError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def load_key(passphrase_file: Path | None) -> Key:
    if passphrase_file is not None:
        try:
            secret = passphrase_file.read_bytes().rstrip(b"\r\n")
        except OSError as error:
            raise UsageError(f"Cannot read the passphrase file: {error.strerror}.") from error
        if len(secret) < 12:
            raise UsageError("The passphrase must be at least 12 characters long.")
        return Passphrase(secret)
    try:
        text = secret_from_env("ALLIANCE_BACKUP_KEY")
    except OSError as error:
        raise UsageError(f"Cannot read ALLIANCE_BACKUP_KEY_FILE: {error.strerror}.") from error
    if not text:
        raise UsageError(
            "No backup key: set ALLIANCE_BACKUP_KEY or ALLIANCE_BACKUP_KEY_FILE (make a key with "
            "`alliance backup --generate-key` and keep a copy away from this server), or give "
            "--passphrase-file."
        )
    try:
        return BackupKey.from_text(text)
    except BackupError as error:
        raise UsageError(str(error)) from error


def _alliance_version() -> str:
    try:
        return metadata.version("alliance")
    except metadata.PackageNotFoundError:
        return "unknown"


def _manifest(
    kind: str,
    counts: engines.Counts,
    migrations: engines.Migrations,
    *,
    include_keys: bool,
    extra: dict[str, Any],
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": kind,
        "alliance_version": _alliance_version(),
        "migrations": migrations,
        "secret_key_fingerprint": fingerprint(settings.SECRET_KEY),
        "field_key_fingerprints": [fingerprint(key) for key in settings.FIELD_ENCRYPTION_KEYS],
        "row_counts": counts,
        "includes_keys": include_keys,
        **extra,
    }
    if include_keys:
        manifest["keys"] = {
            "secret_key": settings.SECRET_KEY,
            "field_encryption_keys": list(settings.FIELD_ENCRYPTION_KEYS),
        }
    return manifest


@contextlib.contextmanager
def _private_workdir(base: Path) -> Iterator[Path]:
    """A 0700 directory for plaintext that must touch the disk (an SQLite copy), always removed."""
    workdir = tempfile.TemporaryDirectory(dir=base, prefix=".backup-work-")
    try:
        yield Path(workdir.name)
    finally:
        workdir.cleanup()


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[BinaryIO]:
    """Write FILE.partial (mode 0600), then rename it over FILE: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    size: int
    seconds: float


def create_backup(path: Path, key: Key, *, include_keys: bool = False) -> BackupResult:
    kind = engine()
    started = time.monotonic()
    manifest: dict[str, Any] = {}
    with _atomic_output(path) as output:
        writer = EncryptingWriter(output, key)

        def start(counts: engines.Counts, migrations: engines.Migrations, extra: Any) -> None:
            manifest.update(
                _manifest(kind, counts, migrations, include_keys=include_keys, extra=extra)
            )
            writer.write_manifest(json.dumps(manifest, sort_keys=True).encode("utf-8"))

        if kind == "sqlite":
            with _private_workdir(settings.DATA_DIR) as workdir:
                copy, counts, migrations = engines.sqlite_snapshot(workdir)
                # An SQLite file compresses about 8:1 (free pages, indexes); pg_dump's custom
                # format is compressed already.
                start(counts, migrations, {"compression": "zlib"})
                compressor = zlib.compressobj(6)
                with copy.open("rb") as source:
                    while data := source.read(engines.READ_SIZE):
                        writer.write(compressor.compress(data))
                writer.write(compressor.flush())
        else:
            engines.pg_dump(
                lambda c, m, e: start(c, m, {"postgresql": e, "compression": "none"}), writer.write
            )
        writer.close()
    total = sum(manifest["row_counts"].values())
    log_event(
        "operations.backup.created",
        data={"engine": kind, "rows": total, "includes_keys": include_keys},
    )
    return BackupResult(path, manifest, path.stat().st_size, time.monotonic() - started)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise UsageError(f"Cannot read {path}: {error.strerror}.") from error


def _read_manifest(reader: DecryptingReader) -> dict[str, Any]:
    try:
        manifest = json.loads(reader.manifest)
    except ValueError as error:
        raise BackupError("The backup's manifest is not valid JSON.") from error
    if not isinstance(manifest, dict) or manifest.get("manifest_version") != MANIFEST_VERSION:
        raise BackupError("The backup's manifest is of an unknown version.")
    return manifest


def describe(manifest: dict[str, Any]) -> list[str]:
    """The manifest for people: never the keys themselves."""
    counts: dict[str, int] = manifest["row_counts"]
    lines = [
        f"made {manifest['created_at']} by Alliance {manifest['alliance_version']} "
        f"from {manifest['engine']}",
        f"{sum(counts.values())} rows in {len(counts)} tables",
        "field encryption keys (fingerprints, newest first): "
        + ", ".join(manifest["field_key_fingerprints"]),
        f"SECRET_KEY fingerprint: {manifest['secret_key_fingerprint']}",
        "carries the keys themselves: " + ("yes" if manifest["includes_keys"] else "no"),
    ]
    return lines


def verify_backup(path: Path, key: Key) -> dict[str, Any]:
    """Decrypt and authenticate the whole file; check the database inside it where we can."""
    with _open(path) as source:
        reader = DecryptingReader(source, key)
        manifest = _read_manifest(reader)
        if manifest["engine"] == "sqlite":
            with _private_workdir(settings.DATA_DIR) as workdir:
                copy = _decrypt_to(reader, manifest, workdir)
                _check_counts(manifest, engines.sqlite_check_copy(copy), "inside the backup")
        elif shutil.which("pg_restore"):
            # pg_restore --list reads the whole archive: it must parse, not only authenticate.
            engines.pg_restore(_payload(reader, manifest), clean=False, list_only=True)
        else:
            for _ in _payload(reader, manifest):
                pass
    return manifest


def _payload(reader: DecryptingReader, manifest: dict[str, Any]) -> Iterator[bytes]:
    """The data as it was before compression (each chunk authenticated before it is inflated)."""
    if manifest.get("compression") != "zlib":
        yield from reader.chunks()
        return
    inflater = zlib.decompressobj()
    try:
        for chunk in reader.chunks():
            yield inflater.decompress(chunk)
        yield inflater.flush()
    except zlib.error as error:
        raise BackupError(f"The data inside the backup does not decompress: {error}") from error
    if not inflater.eof:
        raise BackupError("The data inside the backup ends early.")


def _decrypt_to(reader: DecryptingReader, manifest: dict[str, Any], workdir: Path) -> Path:
    copy = workdir / "restore.sqlite3"
    with copy.open("wb") as handle:
        for data in _payload(reader, manifest):
            handle.write(data)
    return copy


def _check_counts(manifest: dict[str, Any], found: engines.Counts, where: str) -> None:
    expected: dict[str, int] = manifest["row_counts"]
    wrong = {t: (n, found.get(t)) for t, n in expected.items() if found.get(t) != n}
    if wrong:
        listed = "; ".join(f"{t}: {n} expected, {got} found" for t, (n, got) in wrong.items())
        raise BackupError(f"Row counts {where} differ from the backup's manifest: {listed}")


@dataclass
class KeyPlan:
    """What restore does about the field encryption keys."""

    write: list[str] = field(default_factory=list)  # the key list to write into DATA_DIR
    secret_key: str | None = None
    warnings: list[str] = field(default_factory=list)


def _keys_from_environment(name: str) -> bool:
    return bool(os.environ.get(name) or os.environ.get(f"{name}_FILE"))


def plan_keys(manifest: dict[str, Any], *, keep_current: bool) -> KeyPlan:
    """Refuse when the restored data would be unreadable here; otherwise say which keys to write.

    `keep_current`: the target held data, so its own keys stay listed after the backup's (nothing
    that was readable here becomes unreadable). An empty target's keys encrypt nothing yet (settings
    generated them moments ago), so they are simply replaced."""
    plan = KeyPlan()
    have = [fingerprint(k) for k in settings.FIELD_ENCRYPTION_KEYS]
    missing = [fp for fp in manifest["field_key_fingerprints"] if fp not in have]
    carried: dict[str, Any] = manifest.get("keys") or {}
    if missing:
        if not carried:
            raise BackupError(
                "This environment lacks the field encryption key(s) with fingerprint "
                f"{', '.join(missing)} (it has {', '.join(have) or 'none'}): the restored names, "
                "notes and answers would be unreadable. Put the key(s) in FIELD_ENCRYPTION_KEYS "
                f"or {settings.DATA_DIR / 'field_encryption_keys'}, or restore a backup made with "
                "--include-keys."
            )
        if _keys_from_environment("FIELD_ENCRYPTION_KEYS"):
            raise BackupError(
                f"The backup carries its keys, but FIELD_ENCRYPTION_KEYS(_FILE) is set here and "
                f"lacks {', '.join(missing)}: add the backup's keys there, or unset it so that "
                "restore writes them into the data directory."
            )
        backup_keys: list[str] = carried["field_encryption_keys"]
        # The backup's newest key stays the one that encrypts.
        plan.write = backup_keys + [
            k
            for k in settings.FIELD_ENCRYPTION_KEYS
            if keep_current and fingerprint(k) not in set(map(fingerprint, backup_keys))
        ]
    if fingerprint(settings.SECRET_KEY) != manifest["secret_key_fingerprint"]:
        if carried and not _keys_from_environment("SECRET_KEY"):
            plan.secret_key = carried["secret_key"]
        else:
            plan.warnings.append(
                "SECRET_KEY differs from the backup's: staff will have to sign in again and "
                "half-filled check-in pages must be reloaded. Nothing stored depends on it."
            )
    return plan


def _write_secret(path: Path, value: str) -> None:
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    partial.replace(path)


def _check_migrations(manifest: dict[str, Any]) -> None:
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    newer = [
        f"{app}.{name}" for app, name in manifest["migrations"].items() if (app, name) not in known
    ]
    if newer:
        raise BackupError(
            f"The backup comes from a newer Alliance ({manifest['alliance_version']}): this one "
            f"does not know the migration(s) {', '.join(newer)}. Restore with that version or newer."
        )


def _unreadable_fields(keys: list[str]) -> dict[str, int]:
    """Decrypt every encrypted value with the keys this installation will use; count failures."""
    fernet = MultiFernet([Fernet(k.encode()) for k in keys])
    failures: dict[str, int] = {}
    for model in apps.get_models():
        columns = encrypted_fields(model)
        if not columns:
            continue
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quoted} FROM {table}")  # noqa: S608
            for row in cursor.fetchall():
                for token in row:
                    if not token:
                        continue
                    try:
                        fernet.decrypt(token.encode("ascii"))
                    except (InvalidToken, UnicodeEncodeError):
                        failures[model._meta.db_table] = failures.get(model._meta.db_table, 0) + 1
    return failures


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    counts: engines.Counts
    warnings: list[str]
    wrote_keys: bool


def restore_backup(path: Path, key: Key, *, force: bool = False) -> RestoreResult:
    """Every check that can refuse runs before anything is written to the target."""
    kind = engine()
    with _open(path) as source:
        reader = DecryptingReader(source, key)
        manifest = _read_manifest(reader)
        if manifest["engine"] != kind:
            raise BackupError(
                f"This backup is of a {manifest['engine']} database but this environment uses "
                f"{kind}. Restore it onto {manifest['engine']}; to move between engines, use "
                "`alliance dumpdata` and `alliance loaddata` (see docs/operations.md)."
            )
        _check_migrations(manifest)
        if kind == "sqlite":
            target = Path(settings.DATABASES["default"]["NAME"])
            non_empty = engines.sqlite_has_tables(target)
        else:
            non_empty = engines.pg_has_tables()
            target = Path(str(settings.DATABASES["default"]["NAME"]))
        if non_empty and not force:
            raise BackupError(
                f"The target database ({target}) already holds tables. Restore onto an empty "
                "data directory or database, or add --force to replace what is there."
            )
        plan = plan_keys(manifest, keep_current=non_empty)
        if kind == "sqlite":
            with _private_workdir(settings.DATA_DIR) as workdir:
                copy = _decrypt_to(reader, manifest, workdir)
                _check_counts(manifest, engines.sqlite_check_copy(copy), "inside the backup")
                _install_keys(plan)
                engines.sqlite_restore(copy, target)
        else:
            # Authenticate the whole file first, then restore in one transaction (which is undone
            # if the file changes under us between the two passes).
            for _ in _payload(reader, manifest):
                pass
            _install_keys(plan)
            with _open(path) as again:
                second = DecryptingReader(again, key)
                engines.pg_restore(_payload(second, manifest), clean=non_empty)
    connection.close()
    counts = engines.pg_counts() if kind == "postgresql" else _django_sqlite_counts()
    _check_counts(manifest, counts, "after the restore")
    keys = plan.write or list(settings.FIELD_ENCRYPTION_KEYS)
    unreadable = _unreadable_fields(keys)
    if unreadable:
        raise BackupError(
            "Restored, but some encrypted values cannot be decrypted with this installation's "
            f"keys: {unreadable}. Add the missing key to FIELD_ENCRYPTION_KEYS."
        )
    log_event(
        "operations.backup.restored",
        data={
            "engine": kind,
            "rows": sum(counts.values()),
            "backup_created_at": manifest["created_at"],
        },
    )
    return RestoreResult(manifest, counts, plan.warnings, bool(plan.write or plan.secret_key))


def _install_keys(plan: KeyPlan) -> None:
    if plan.write:
        _write_secret(settings.DATA_DIR / "field_encryption_keys", "\n".join(plan.write))
    if plan.secret_key:
        _write_secret(settings.DATA_DIR / "secret_key", plan.secret_key)


def _django_sqlite_counts() -> engines.Counts:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts: engines.Counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
        return counts
