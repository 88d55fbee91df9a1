"""`alliance responses import FILE [--client CODE] [--dry-run] [--json]`: import FHIR
QuestionnaireResponses (one resource, a Bundle of them, or FHIR NDJSON, one resource a line).

The whole file is checked before anything is stored; any problem rejects all of it, listed per
resource (exit code 2). A response already imported (by its resource id, from any file) is
reported, not stored again. See docs/fhir.md#import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.care.fhir_import_forms import ResponsesImportForm, form_errors
from alliance.care.fhir_responses import ImportReport, import_responses

MAX_BYTES = 50 * 1024 * 1024
EXIT_BAD_INPUT = 2


def read_payload(path: Path) -> dict[str, Any] | list[Any]:
    """The file's JSON: one object, or (NDJSON) a list of one object per non-empty line."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path}: larger than {MAX_BYTES // 2**20} MB", returncode=2)
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"{path}: cannot read: {exc.strerror or exc}", returncode=2) from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text", returncode=2) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise CommandError(
                f"{path}: not valid JSON (line {whole.lineno}, column {whole.colno}): {whole.msg}",
                returncode=2,
            ) from None
        parsed = []
        for number, line in lines:
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CommandError(
                    f"{path}: line {number} is not JSON (column {exc.colno}): {exc.msg}; "
                    "a file is either one JSON resource or NDJSON, one resource a line",
                    returncode=2,
                ) from None
        return parsed
    if not isinstance(data, dict | list):
        raise CommandError(f"{path}: expected a FHIR resource (a JSON object)", returncode=2)
    return data


def describe(report: ImportReport) -> list[str]:
    """The report in words, one line each."""
    if not report.ok:
        lines = [f"Nothing imported from {report.source}: {len(report.problems)} problem(s)."]
        lines += [f"  {problem}" for problem in report.problems]
        return lines
    verb = "Would import" if report.dry_run else "Imported"
    count = report.count("would_import" if report.dry_run else "imported")
    lines = [
        f"{verb} {count} response(s) from {report.source}; "
        f"{report.count('already_imported')} already imported."
    ]
    for outcome in report.outcomes:
        where = f"session {outcome.session_number}" if outcome.session_number else "no session"
        total = "no total" if outcome.total is None else f"total {outcome.total:g}"
        risk = "; RISK: the urgent risk alert is raised" if outcome.risk else ""
        lines.append(
            f"  resource {outcome.index} ({outcome.resource_id}): {outcome.status}, "
            f"{outcome.instrument} for {outcome.client_code}, episode {outcome.episode_id}, "
            f"{where}, {total}{risk}"
        )
        lines += [f"    {note}" for note in outcome.notes]
    lines += [f"  {note}" for note in report.notes]
    return lines


class Command(BaseCommand):
    help = "Import FHIR QuestionnaireResponses (a resource, a Bundle or NDJSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["import"])
        parser.add_argument("file", help="a QuestionnaireResponse, a Bundle of them, or NDJSON")
        parser.add_argument(
            "--client", help="the client code, for a file about one client (checked against it)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, store nothing"
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        form = ResponsesImportForm(
            {
                "file": options["file"],
                "client": options.get("client") or "",
                "dry_run": options["dry_run"],
            }
        )
        if not form.is_valid():
            raise CommandError("; ".join(form_errors(form)), returncode=EXIT_BAD_INPUT)
        path = Path(form.cleaned_data["file"])
        payload = read_payload(path)
        report = import_responses(
            payload,
            source=path.name,
            client_code=form.cleaned_data["client"],
            actor=None,
            dry_run=form.cleaned_data["dry_run"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for line in describe(report):
                self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                f"{path.name}: rejected, nothing stored ({len(report.problems)} problem(s))",
                returncode=EXIT_BAD_INPUT,
            )
