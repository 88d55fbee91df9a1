"""Background jobs of the FHIR API (django-tasks, run by `alliance worker`)."""

from __future__ import annotations

from alliance.fhirapi import bulk
from alliance.fhirapi.models import BulkExport, ExportStatus
from alliance.operations.tasks import retrying, run_later


@retrying()
def run_bulk_export(job_id: str) -> str:
    """Write a $export's files; a day later, delete them. Idempotent: a job that is no longer
    queued (finished, or cancelled by its client) is left alone."""
    job = BulkExport.objects.filter(pk=job_id).first()
    if job is None or job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return "skipped"
    bulk.run(job)
    run_later(purge_bulk_exports, bulk.KEEP_FOR)
    return job.status


@retrying()
def purge_bulk_exports() -> int:
    return bulk.purge_expired()
