"""`alliance report`: the Insights report as JSON, from the database (or, with --responses, from a
per-response CSV). Options, messages and exit status: alliance/insights/command.py."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.insights import command
from alliance.insights.exports import write_responses_csv
from alliance.insights.pseudonyms import Pseudonyms
from alliance.insights.records import clinic_data
from alliance.insights.report import clinic_report


class Command(BaseCommand):
    help = (
        "Print the Insights report (outcomes, the relationship model, therapist variation, the "
        "check-in's psychometrics, alert quality, ruptures) as JSON, with export pseudonyms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        command.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            command.check_options(options)
            if options.get("format", "json") != "json":
                self._export(options)
                return
            with ExitStack() as stack:
                stream = command.output_stream(stack, options["output"], self.stdout)
                if options["responses"]:
                    report = command.report_from_responses(
                        options["responses"], options["therapist"]
                    )
                else:
                    report = self._from_database(options, stack)
                command.write_json(report, stream)
        except command.ReportInputError as exc:
            raise CommandError(command.one_line(str(exc)), returncode=command.EXIT_USAGE) from None

    def _from_database(self, options: dict[str, Any], stack: ExitStack) -> dict[str, Any]:
        export = options["export_responses"]
        csv_file = stack.enter_context(command.private_file(export, newline="")) if export else None
        names = Pseudonyms()
        user, label = _therapist(options["therapist"], names)
        start, end = options["start"], options["end"]
        data = clinic_data(start=start, end=end, therapist=user, pseudonyms=names)
        report = clinic_report(
            data, start=start, end=end, as_of=timezone.localdate(), therapist=label
        )
        exported = write_responses_csv(data, csv_file) if csv_file is not None else None
        # Who took the clinic's figures out, and which: codes only (no file names, no free text).
        log_event(
            "insights.report",
            data={
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                "therapist": label,
                "episodes": len(data.episodes),
                "exported_rows": exported,
            },
        )
        return report

    def _export(self, options: dict[str, Any]) -> None:
        """`--format csv-episodes|csv-responses|fhir|pdf --output FILE`: an export with the
        views' rules. Whoever runs the command has the server; `--identified` is still explicit
        and audited like an administrator's request on the page."""
        from alliance.insights.export_views import build_export

        user, label = _therapist(options["therapist"], Pseudonyms())
        fmt, start, end = options["format"], options["start"], options["end"]
        identified = bool(options["identified"])
        content, counts = build_export(
            fmt,
            start=start,
            end=end,
            therapists=None if user is None else [user],
            dates=options["dates"],
            identified=identified,
            scope="The whole clinic" if label is None else f"Therapist {label}",
        )
        with command.private_file(options["output"], newline="") as handle:
            handle.buffer.write(content)  # type: ignore[attr-defined]
        audit = {
            "format": fmt,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "dates": "real" if identified else options["dates"],
            "identified": identified,
            "therapist": label,
            **counts,
        }
        if identified:
            log_event("insights.export.identified", data=audit)
        log_event("insights.export", data=audit)


def _therapist(given: str | None, names: Pseudonyms) -> tuple[int | None, str | None]:
    """A user's primary key and pseudonym from an email address or a T- pseudonym."""
    if given is None:
        return None, None
    if given.startswith("T-"):
        for pk in User.objects.values_list("pk", flat=True).iterator():
            if names.therapist(pk) == given:
                return pk, given
    else:
        found = User.objects.filter(email__iexact=given).values_list("pk", flat=True).first()
        if found is not None:
            return found, names.therapist(found)
    raise command.ReportInputError(f"--therapist {given!r}: no user with that email or pseudonym")
