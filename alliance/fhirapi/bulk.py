"""Bulk ``$export``: the clinic's questionnaire data, de-identified, as NDJSON files.

The resources are those of the Insights FHIR export, de-identified (alliance.insights.export_fhir):
Patients and Practitioners are export pseudonyms, dates are shifted per client, no typed answer
travels, response ids are opaque tokens. They are named on the clinic's FHIR base, so that
``Patient/C-…`` in one file resolves to a line of ``Patient.ndjson``. Safety Flags travel with the
Observations they point at (a credential that may read Observations gets both).

Files live in ``DATA_DIR/fhir-exports/<job id>/`` (mode 0700) and are deleted a day after the job
finished: by a job run a day later, and by `purge_expired` on every kick-off and status request.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from alliance.care.models import Episode
from alliance.fhirapi import mapping
from alliance.fhirapi.models import BulkExport, ExportStatus
from alliance.insights.export_fhir import clinic_entries
from alliance.insights.exports import DateShifts
from alliance.insights.pseudonyms import Pseudonyms
from alliance.measures.fhir_export import validate_resource

logger = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=1)
#: Types a job may hold, and the scope each needs (a Flag goes with its Observation).
EXPORT_TYPES = (
    "Patient",
    "Practitioner",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
    "Flag",
)
SCOPE_OF = {"Flag": "Observation"}


def export_dir(job_id: object) -> Path:
    return Path(settings.DATA_DIR) / "fhir-exports" / str(job_id)


def run(job: BulkExport) -> None:
    """Write the job's files and mark it complete (or failed, with the files removed)."""
    job.status = ExportStatus.RUNNING
    job.save(update_fields=["status"])
    folder = export_dir(job.pk)
    try:
        entries = clinic_entries(
            Episode.objects.all(),
            names=Pseudonyms(),
            shifts=DateShifts(),
            identified=False,
            addressing=mapping.addressing(),
            since=job.since,
        )
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        counts: dict[str, int] = {}
        handles = {}
        try:
            for entry in entries:
                kind = str(entry.resource["resourceType"])
                if kind not in job.types:
                    continue
                validate_resource(entry.resource)
                if kind not in handles:
                    handles[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
                handles[kind].write(json.dumps(entry.resource, separators=(",", ":")) + "\n")
                counts[kind] = counts.get(kind, 0) + 1
        finally:
            for handle in handles.values():
                handle.close()
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        job.status = ExportStatus.FAILED
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + KEEP_FOR
        job.save(update_fields=["status", "finished_at", "expires_at"])
        logger.exception("FHIR bulk export %s failed", job.pk)
        return
    job.output = [
        {"type": kind, "file": f"{kind}.ndjson", "count": counts[kind]}
        for kind in EXPORT_TYPES
        if kind in counts
    ]
    job.status = ExportStatus.COMPLETE
    job.finished_at = timezone.now()
    job.expires_at = job.finished_at + KEEP_FOR
    job.save(update_fields=["output", "status", "finished_at", "expires_at"])


def remove(job: BulkExport) -> None:
    shutil.rmtree(export_dir(job.pk), ignore_errors=True)
    job.delete()


def purge_expired() -> int:
    """Delete every job (and its files) past its day; how many."""
    expired = list(BulkExport.objects.filter(expires_at__lte=timezone.now()))
    for job in expired:
        remove(job)
    return len(expired)
