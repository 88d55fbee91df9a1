"""`alliance report`: the command's options, their validation, and its database-free route.

    alliance report [--from DATE] [--to DATE] [--therapist ID] [--output FILE]
                    [--export-responses FILE.csv]
    alliance report --responses FILE.csv [--therapist ID] [--output FILE]

With `--responses` the report is computed from a per-response CSV alone: `alliance.cli` sends that
form here without setting Django up (no database, no settings, no secret), like `alliance score`.
Without it the Django management command (`management/commands/report.py`) reads the database and
uses the same options and output code.

Decisions
  - Results go to stdout (or `--output`) as strict JSON; messages to stderr. Exit status 0, or 2
    with one line naming the problem — for a malformed CSV the file, line and column
    (`FILE:LINE: column 'NAME': problem`, from `alliance.analytics.responses_csv`) — never a
    traceback. The database route raises CommandError with the same message and status.
  - `--from`/`--to` are ISO dates, both days included; `--from` after `--to` is refused.
  - With `--responses`, `--from`/`--to` are refused rather than applied to the file's dates: the
    database route selects whole episodes open in the period, and cutting a file at session dates
    would change every person mean in the model. Export the period from the database instead.
  - `--therapist` keeps one therapist's data: on the database an email address or a T- pseudonym,
    in a CSV the value of the `therapist` column.
  - Files written (`--output`, `--export-responses`) are created readable by their owner only
    (mode 0600): de-identified is not public.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date
from typing import IO, Any, NoReturn, Protocol

from alliance.measures.outcomes import iso_date as parse_iso_date

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "alliance report"


class Writer(Protocol):
    """Somewhere to write text: a file, sys.stdout, Django's OutputWrapper."""

    def write(self, text: str, /) -> Any: ...


class ReportInputError(Exception):
    """Bad options or bad input: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    # argparse would print usage and exit; main() must return the status with one line instead.
    def error(self, message: str) -> NoReturn:
        raise ReportInputError(f"{self.prog}: {message}")


def iso_date(text: str) -> date:
    """argparse type: an ISO date like 2025-01-31 (a date-time counts on its date)."""
    try:
        return parse_iso_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-31") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="start", type=iso_date, metavar="DATE", help="first day of the period"
    )
    parser.add_argument(
        "--to", dest="end", type=iso_date, metavar="DATE", help="last day of the period"
    )
    parser.add_argument(
        "--therapist",
        metavar="ID",
        help="one therapist's data: an email or T- pseudonym (database), the therapist column (CSV)",
    )
    parser.add_argument(
        "--responses",
        metavar="FILE.csv",
        help="compute from a per-response CSV instead of the database",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the JSON here, not stdout")
    parser.add_argument(
        "--export-responses",
        metavar="FILE.csv",
        help="also write the per-response CSV (de-identified) of the same data (database only)",
    )
    # Exports (issue 11, point 6; alliance/insights/export_views.py has the same rules).
    parser.add_argument(
        "--format",
        choices=("json", "csv-episodes", "csv-responses", "fhir", "pdf"),
        default="json",
        help="what to write: the JSON report (default) or an export (database only; needs --output)",
    )
    parser.add_argument(
        "--dates",
        choices=("relative", "shifted"),
        default="relative",
        help="de-identified exports: day offsets (default) or dates shifted per client",
    )
    parser.add_argument(
        "--identified",
        action="store_true",
        help="client codes, therapist emails and real dates in the export (audited)",
    )


def check_options(options: dict[str, Any]) -> None:
    start, end = options.get("start"), options.get("end")
    if start is not None and end is not None and start > end:
        raise ReportInputError(f"--from {start} is after --to {end}")
    if options.get("format", "json") != "json" and not options.get("output"):
        raise ReportInputError(f"--format {options['format']} needs --output FILE")
    if options.get("identified") and options.get("format", "json") == "json":
        raise ReportInputError("--identified applies to an export: give --format")
    if options.get("responses"):
        if options.get("format", "json") != "json":
            raise ReportInputError(
                "--format exports read the database; they cannot use --responses"
            )
        refused = [
            flag
            for flag, key in (("--from", "start"), ("--to", "end"))
            if options.get(key) is not None
        ]
        if options.get("export_responses"):
            refused.append("--export-responses")
        if refused:
            raise ReportInputError(
                f"{' and '.join(refused)} cannot be used with --responses: the file is analysed "
                "whole (export the period you want from the database with --export-responses)"
            )


def one_line(message: str) -> str:
    """A message quoting user input stays on one line, and a terminal escape in it is shown, not
    obeyed."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def private_file(path: str, *, newline: str | None = None) -> IO[str]:
    """Open for writing, created with mode 0600; a clear ReportInputError when it cannot be."""
    try:
        # The caller closes it; pathlib.Path.open has no `opener` for the 0600 mode.
        return open(
            path,
            "w",
            encoding="utf-8",
            newline=newline,
            opener=lambda name, flags: os.open(name, flags, 0o600),
        )
    except OSError as exc:
        raise ReportInputError(f"cannot write {path}: {exc.strerror or exc}") from None


def output_stream(stack: ExitStack, output: str | None, stdout: Writer) -> Writer:
    """Where the JSON goes, opened before the report is computed: an unwritable --output is
    refused at once, not after minutes of work."""
    return stack.enter_context(private_file(output)) if output is not None else stdout


def write_json(report: dict[str, Any], stream: Writer) -> None:
    stream.write(json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def report_from_responses(path: str, therapist: str | None = None) -> dict[str, Any]:
    """The report of a per-response CSV (`alliance.insights.report.responses_report`)."""
    from alliance.analytics.responses_csv import read_responses
    from alliance.insights.report import responses_report
    from alliance.measures.outcomes import CsvInputError

    try:
        frame = read_responses(path)
    except CsvInputError as exc:
        raise ReportInputError(str(exc)) from None
    except OSError as exc:
        raise ReportInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if therapist is not None:
        frame = frame[frame["therapist"].astype(str) == therapist]
        if frame.empty:
            raise ReportInputError(f"{path}: no row has therapist {therapist!r}")
    return responses_report(frame, therapist=therapist)


def main(
    argv: Sequence[str], *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    """`alliance report --responses FILE.csv ...` without Django (argv without "report")."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = _Parser(prog=PROG, description="The Insights report as JSON, from a per-response CSV.")
    add_arguments(parser)
    try:
        options = vars(parser.parse_args(list(argv)))
        if not options["responses"]:
            raise ReportInputError(
                f"{PROG}: this route reads --responses FILE.csv; without it the report reads the "
                "database (run `alliance report` with Django settings)"
            )
        check_options(options)
        with ExitStack() as stack:
            stream = output_stream(stack, options["output"], out)
            write_json(report_from_responses(options["responses"], options["therapist"]), stream)
    except ReportInputError as exc:
        err.write(f"error: {one_line(str(exc))}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help exits through argparse
        return int(exc.code or 0)
    return EXIT_OK
