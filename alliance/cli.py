"""The `alliance` command.

`score`, `change`, `outcomes` and `instruments` work on plain data without a database, so they skip
Django entirely (fast, and usable by researchers on exported files). So does `report --responses
FILE.csv` (the Insights report from a per-response export); `report` without it reads the database.
(`instruments import` with scoring-rule options loads Django's settings, not the database, to check
them with a form.) Everything else is a Django management command: `alliance demo`, `alliance serve`, `alliance worker`,
`alliance migrate`, ...
"""

from __future__ import annotations

import os
import sys

PURE_COMMANDS = frozenset({"score", "change", "outcomes", "instruments"})
# `instruments import` options that are scoring rules: checked by a Django form first.
SCORING_OPTIONS = frozenset({"--band", "--cutoff", "--reliable-change", "--risk-item"})
# Pure only with this option: `alliance report --responses FILE.csv`.
REPORT, REPORT_FILE_OPTION = "report", "--responses"


def _report_from_file(args: list[str]) -> bool:
    return args[:1] == [REPORT] and any(
        a == REPORT_FILE_OPTION or a.startswith(REPORT_FILE_OPTION + "=") for a in args[1:]
    )


def _scoring_options_refused(args: list[str]) -> bool:
    """`instruments import` takes scoring rules as options (--band, --cutoff...): like every input,
    they go through a Django form (alliance.care.fhir_import_forms) before the pure command runs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()
    from alliance.care.fhir_import_forms import instrument_option_errors

    errors = instrument_option_errors(args)
    for line in errors:
        sys.stderr.write(f"{line}\n")
    return bool(errors)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if (
        args[:2] == ["instruments", "import"]
        and any(a.split("=", 1)[0] in SCORING_OPTIONS for a in args)
        and _scoring_options_refused(args)
    ):
        return 2
    if args and args[0] in PURE_COMMANDS:
        from alliance.measures.cli import main as measures_main

        return measures_main(args)
    if _report_from_file(args):
        from alliance.insights.command import main as report_main

        return report_main(args[1:])
    if args and args[0] == "demo":
        # The demo serves plain HTTP on 127.0.0.1, so HTTPS-only cookies would make sign-in impossible.
        os.environ.setdefault("ALLIANCE_HTTPS", "0")
        os.environ.setdefault("ALLIANCE_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["alliance", *args])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
