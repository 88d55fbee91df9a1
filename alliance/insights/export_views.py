"""Insights downloads under /insights/export/ (issue 11, point 6).

GET with no `format` shows the form; GET with one validates it and answers the file (a download
changes nothing but the audit trail, so GET is safe and a second click just downloads again).

Who exports what
  - administrators: the whole clinic, de-identified by default; identified (client codes, therapist
    emails, real dates) only when they tick it — audited as `insights.export.identified`;
  - supervisors: their supervisees' (and their own) episodes, de-identified;
  - therapists: their own episodes, de-identified.
Every export is audited as `insights.export` (format, period, dates, identified, counts; codes
only). A bad form answers 400 with its messages, never a 500.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care.access import supervisee_ids
from alliance.insights.export_data import episodes_in, identities, scoped_data
from alliance.insights.export_forms import ExportForm
from alliance.insights.exports import DateShifts, write_episodes_csv, write_responses_csv
from alliance.insights.pseudonyms import Pseudonyms

SUFFIX = {
    "csv-episodes": "episodes.csv",
    "csv-responses": "responses.csv",
    "fhir": "fhir.json",
    "pdf": "report.pdf",
}
TYPES = {
    "csv-episodes": "text/csv; charset=utf-8",
    "csv-responses": "text/csv; charset=utf-8",
    "fhir": "application/fhir+json",
    "pdf": "application/pdf",
}


def therapists_for(user: User) -> list[int] | None:
    """None: the whole clinic (administrators); else the therapists whose data the user may take."""
    if user.is_administrator:
        return None
    if user.is_supervisor:
        return [user.pk, *supervisee_ids(user)]
    return [user.pk]


def build_export(
    fmt: str,
    *,
    start: Any,
    end: Any,
    therapists: list[int] | None,
    dates: str,
    identified: bool,
    scope: str,
) -> tuple[bytes, dict[str, int]]:
    """The file's bytes and the counts the audit event records."""
    names = Pseudonyms()
    shifts = DateShifts()
    episodes = episodes_in(start, end, therapists)
    who = identities(episodes, names) if identified else None
    mode: Any = "real" if identified else dates
    if fmt == "fhir":
        from alliance.insights.export_fhir import clinic_bundle

        bundle = clinic_bundle(episodes, names=names, shifts=shifts, identified=identified)
        return json.dumps(bundle, indent=1).encode(), {"entries": len(bundle["entry"])}
    data = scoped_data(start, end, therapists, names)
    if fmt == "pdf":
        from alliance.insights.export_pdf import report_pdf
        from alliance.insights.report import clinic_report

        report = clinic_report(data, start=start, end=end, as_of=timezone.localdate())
        return report_pdf(report, scope=scope, identified=identified), {
            "episodes": len(data.episodes)
        }
    out = io.StringIO()
    if fmt == "csv-episodes":
        rows = write_episodes_csv(data, out, dates=mode, shifts=shifts, identities=who)
    else:
        rows = write_responses_csv(
            data, out, dates=False if mode == "relative" else mode, shifts=shifts, identities=who
        )
    return out.getvalue().encode(), {"rows": rows}


@login_required
@require_GET
def insights_export(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ExportForm(
        request.GET if "format" in request.GET else None, may_identify=user.is_administrator
    )
    if not form.is_bound:
        return render(request, "insights_export/export.html", {"form": form})
    if not form.is_valid():
        return render(request, "insights_export/export.html", {"form": form}, status=400)
    options = form.cleaned_data
    fmt, start, end = options["format"], options["start"], options["end"]
    identified = bool(options["identified"])
    therapists = therapists_for(user)
    scope = (
        _("The whole clinic")
        if therapists is None
        else (_("Your supervisees") if user.is_supervisor else _("Your own clients"))
    )
    content, counts = build_export(
        fmt,
        start=start,
        end=end,
        therapists=therapists,
        dates=options["dates"],
        identified=identified,
        scope=scope,
    )
    audit = {
        "format": fmt,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "dates": "real" if identified else options["dates"],
        "identified": identified,
        "scope": "clinic" if therapists is None else "own" if user.is_therapist else "supervisees",
        **counts,
    }
    if identified:
        log_event("insights.export.identified", data=audit)
    log_event("insights.export", data=audit)
    stamp = timezone.localdate().isoformat()
    kind = "identified" if identified else "deidentified"
    response = HttpResponse(content, content_type=TYPES[fmt])
    response["Content-Disposition"] = (
        content_disposition_header(True, f"alliance-insights-{stamp}-{kind}-{SUFFIX[fmt]}")
        or "attachment"
    )
    response["Cache-Control"] = "no-store"
    return response
