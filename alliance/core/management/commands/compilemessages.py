"""`alliance compilemessages`: compile every translation catalog with Babel (no msgfmt needed).

It replaces Django's command of the same name (an app's command wins over Django's own), so the
habit `compilemessages` after editing a .po works on a machine with only python3. docs/translating.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.core.catalogs import catalog_files, compile_file, language_of, read_catalog


class Command(BaseCommand):
    help = (
        "Compile every .po catalog in LOCALE_PATHS to .mo with Babel. --check only reports stale or "
        "missing .mo files and exits with status 1 if there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; fail if a .mo is out of date."
        )
        parser.add_argument(
            "-l",
            "--locale",
            action="append",
            default=[],
            help="Only this language (repeatable). Default: every language.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        languages: list[str] = options["locale"]
        files = [
            po
            for po in catalog_files(Path(p) for p in settings.LOCALE_PATHS)
            if not languages or language_of(po) in languages
        ]
        if not files:
            raise CommandError("No .po catalogs found in LOCALE_PATHS.")
        stale: list[Path] = []
        for po in files:
            try:
                result = compile_file(po, write=not options["check"])
            except Exception as error:  # Babel raises several kinds; say which file and why.
                raise CommandError(f"{po}: {error}") from error
            fuzzy = sum(1 for m in read_catalog(po) if m.id and m.fuzzy)
            note = f" ({fuzzy} fuzzy entries left out)" if fuzzy else ""
            if result.changed:
                stale.append(result.mo)
                verb = "out of date" if options["check"] else "compiled"
                self.stdout.write(f"{verb}: {result.mo}{note}")
            elif options["verbosity"] > 1:
                self.stdout.write(f"up to date: {result.mo}{note}")
        if options["check"] and stale:
            raise CommandError(
                f"{len(stale)} .mo file(s) out of date: run `alliance compilemessages`."
            )
        if not stale:
            self.stdout.write(f"All {len(files)} catalogs up to date.")
