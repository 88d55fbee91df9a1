"""`alliance backup FILE`: a consistent, encrypted backup of the running installation.

See alliance/operations/backup.py for what is in the file and docs/operations.md for how to run it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.operations import backup
from alliance.operations.backup_crypto import BackupError, BackupKey, Key, NotABackup


def command_error(error: BackupError | OSError) -> CommandError:
    """A message and exit status 2 for bad input, 1 for a refusal or a failure; never a traceback."""
    if isinstance(error, OSError):
        return CommandError(
            f"{error.strerror or error}: {error.filename or ''}".strip(": "), returncode=1
        )
    bad_input = isinstance(error, backup.UsageError | NotABackup)
    return CommandError(str(error), returncode=2 if bad_input else 1)


def report_verified(command: BaseCommand, path: Path, key: Key) -> None:
    """`backup --verify` and `restore --check`: decrypt and check the whole file, restore nothing."""
    manifest = backup.verify_backup(path, key)
    for line in backup.describe(manifest):
        command.stdout.write(line)
    command.stdout.write(command.style.SUCCESS(f"{path}: intact and readable."))


class Command(BaseCommand):
    help = (
        "Write an encrypted, consistent backup of the database to FILE (key: ALLIANCE_BACKUP_KEY "
        "or --passphrase-file). --verify FILE checks a backup without restoring it."
    )
    # A backup must run even when a system check fails (say, email not configured yet).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, help="where to write the backup")
        parser.add_argument(
            "--include-keys",
            action="store_true",
            help="also put SECRET_KEY and FIELD_ENCRYPTION_KEYS inside the encrypted file",
        )
        parser.add_argument(
            "--passphrase-file", type=Path, help="encrypt with this passphrase instead of a key"
        )
        parser.add_argument(
            "--verify", action="store_true", help="decrypt and check FILE; restore nothing"
        )
        parser.add_argument(
            "--generate-key", action="store_true", help="print a new backup key and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate_key"]:
            self.stdout.write(BackupKey.generate().as_text())
            return
        path: Path | None = options["file"]
        if path is None:
            raise CommandError("Name the backup file: alliance backup FILE", returncode=2)
        try:
            key = backup.load_key(options["passphrase_file"])
            if options["verify"]:
                report_verified(self, path, key)
                return
            result = backup.create_backup(path, key, include_keys=options["include_keys"])
        except (BackupError, OSError) as error:
            raise command_error(error) from error
        counts = result.manifest["row_counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path}: {result.size / 1e6:.1f} MB, "
                f"{sum(counts.values())} rows in {len(counts)} tables, {result.seconds:.1f} s."
            )
        )
        if result.manifest["includes_keys"]:
            self.stdout.write(
                "It carries the encryption keys: keep it, and its backup key, as you keep the keys."
            )
