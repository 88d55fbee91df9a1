"""`alliance restore FILE`: bring a backup back onto the empty database of this environment.

The target is the database ALLIANCE_DATA_DIR / DATABASE_URL name; a non-empty one needs --force.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alliance.operations import backup
from alliance.operations.backup_crypto import BackupError
from alliance.operations.management.commands.backup import command_error, report_verified


class Command(BaseCommand):
    help = "Restore a backup made by `alliance backup` onto this (empty) installation."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that already holds tables"
        )
        parser.add_argument(
            "--check", action="store_true", help="decrypt and check the file; restore nothing"
        )
        parser.add_argument(
            "--passphrase-file", type=Path, help="the passphrase the backup was made with"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            key = backup.load_key(options["passphrase_file"])
            if options["check"]:
                report_verified(self, path, key)
                return
            result = backup.restore_backup(path, key, force=options["force"])
        except (BackupError, OSError) as error:
            raise command_error(error) from error
        for line in backup.describe(result.manifest):
            self.stdout.write(line)
        for table, count in sorted(result.counts.items()):
            if table in result.manifest["row_counts"]:
                self.stdout.write(f"  {table}: {count}")
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        if result.wrote_keys:
            self.stdout.write("The backup's keys were written into the data directory (mode 0600).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {sum(result.manifest['row_counts'].values())} rows; every table's count "
                "matches the backup. Start Alliance (`alliance serve` applies any newer migrations)."
            )
        )
