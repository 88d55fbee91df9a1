"""The FHIR R4 API's views: thin, each one form in, one mapping call, one audit event, FHIR out.

docs/fhir.md describes the API as a client sees it.
"""

from __future__ import annotations

import json
import logging
import uuid
from importlib import metadata as package_metadata
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from alliance.accounts.audit import is_code, log_event
from alliance.fhirapi import bulk, capability, mapping, resources
from alliance.fhirapi.auth import api_view, audit, audit_params, caller_of, require
from alliance.fhirapi.forms import SEARCH_FORMS, ExportForm, TokenRequestForm
from alliance.fhirapi.models import BulkExport, ExportStatus
from alliance.fhirapi.outcome import ApiError, fhir_response, invalid, not_found
from alliance.fhirapi.tokens import Caller, TokenError, claimed_client, issue
from alliance.measures.fhir_export import validate_bundle, validate_resource

logger = logging.getLogger(__name__)


def _checked(resource: dict[str, Any]) -> dict[str, Any]:
    """What goes out parses with fhir.resources; anything else is a bug, answered as one."""
    try:
        if resource.get("resourceType") == "Bundle":
            validate_bundle(resource)
        else:
            validate_resource(resource)
    except (ValidationError, KeyError, ValueError) as exc:
        logger.error("FHIR API produced an invalid %s: %s", resource.get("resourceType"), exc)
        raise ApiError(500, "exception", "the server produced an invalid resource") from exc
    return resource


def _kind(kind: str) -> str:
    if kind not in resources.READERS:
        raise ApiError(
            404,
            "not-supported",
            f"resource type {kind!r} is not served here (see /fhir/metadata)",
        )
    return kind


def _version() -> str:
    try:
        return package_metadata.version("alliance")
    except package_metadata.PackageNotFoundError:
        return "unknown"


@api_view
@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR expects, and about the server only."""
    return fhir_response(
        _checked(capability.capability_statement(version=_version(), import_available=True))
    )


@api_view
@require_GET
def smart_configuration(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(capability.smart_configuration())
    return response


def _token_error(error: TokenError) -> HttpResponse:
    response = JsonResponse(
        {"error": error.error, "error_description": error.description}, status=error.status
    )
    response["Cache-Control"] = "no-store"
    return response


@api_view
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    form = TokenRequestForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items()
        )
        return _token_error(TokenError("invalid_request", problems))
    audiences = [f"{mapping.fhir_base()}/token", request.build_absolute_uri(reverse("fhir_token"))]
    try:
        issued = issue(form.cleaned_data, audiences=audiences)
    except TokenError as error:
        claimed = claimed_client(form.cleaned_data["client_assertion"]) or ""
        # Refusals are recorded too: a system failing to sign in is worth seeing in the trail.
        log_event(
            "fhirapi.token.refused",
            data={"error": error.error, "client_id": claimed if is_code(claimed) else "?"},
            actor_label=f"api:{claimed}" if is_code(claimed) and claimed else "api:?",
        )
        return _token_error(error)
    audit(
        "fhirapi.token.issued",
        Caller(issued.client, frozenset()),
        data={"scope": issued.scope.split()},
        read=False,
    )
    response = JsonResponse(
        {
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
    )
    response["Pragma"] = "no-cache"
    return response


@api_view
@require_GET
def read(request: HttpRequest, kind: str, resource_id: str) -> HttpResponse:
    caller = caller_of(request)
    _kind(kind)
    require(caller, kind, "r")
    form = SEARCH_FORMS[kind](request.GET)
    if set(request.GET) - {"_format"}:
        raise invalid("a read takes no parameters but _format")
    if not form.is_valid():
        raise invalid(form.problems())
    resource, client_id = resources.READERS[kind](resource_id)
    audit(
        "fhirapi.read",
        caller,
        data={"resource": kind, "id": resource_id, "count": 1},
        client_ids=[client_id],
    )
    return fhir_response(_checked(resource))


def _page_link(request: HttpRequest, offset: int, count: int) -> str:
    query = request.GET.copy()
    query["_offset"] = str(offset)
    query["_count"] = str(count)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


@api_view
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: search-type. POST: create, for QuestionnaireResponse only (an import)."""
    if request.method == "POST":
        if _kind(kind) != "QuestionnaireResponse":
            raise ApiError(405, "not-supported", f"{kind} cannot be created through this API")
        return _import(request, "QuestionnaireResponse")
    caller = caller_of(request)
    _kind(kind)
    require(caller, kind, "s")
    form = SEARCH_FORMS[kind](request.GET)
    if not form.is_valid():
        raise invalid(form.problems())
    page = resources.SEARCHERS[kind](form)
    base = mapping.fhir_base()
    links = [{"relation": "self", "url": _page_link(request, form.offset, form.count)}]
    if form.offset + form.count < page.total:
        links.append(
            {"relation": "next", "url": _page_link(request, form.offset + form.count, form.count)}
        )
    if form.offset > 0:
        previous = max(form.offset - form.count, 0)
        links.append({"relation": "previous", "url": _page_link(request, previous, form.count)})
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": page.total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page.resources
        ],
    }
    audit(
        "fhirapi.search",
        caller,
        data={
            "resource": kind,
            **audit_params({k: request.GET.getlist(k) for k in request.GET}),
            "count": len(page.resources),
            "total": page.total,
        },
        client_ids=sorted(page.client_ids) or [None],
    )
    return fhir_response(_checked(bundle))


# --- bulk $export -----------------------------------------------------------------------------


@api_view
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """Kick-off (FHIR Bulk Data Access): 202 and a status URL to poll."""
    caller = caller_of(request)
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise invalid("; ".join(" ".join(str(e) for e in errs) for errs in form.errors.values()))
    asked = [t.strip() for t in str(form.cleaned_data["_type"] or "").split(",") if t.strip()]
    unknown = [t for t in asked if t not in bulk.EXPORT_TYPES]
    if unknown:
        raise invalid(f"_type names types this server does not export: {', '.join(unknown)}")
    for kind in asked:
        require(caller, bulk.SCOPE_OF.get(kind, kind), "r")
    types = asked or [
        kind for kind in bulk.EXPORT_TYPES if caller.may(bulk.SCOPE_OF.get(kind, kind), "r")
    ]
    if not types:
        raise ApiError(403, "forbidden", "this credential may read none of the exported types")
    bulk.purge_expired()
    job = BulkExport.objects.create(
        client=caller.client,
        types=types,
        since=form.cleaned_data["_since"],
        request_url=request.build_absolute_uri()[:1000],
    )
    audit(
        "fhirapi.export.requested",
        caller,
        data={"job": str(job.pk), "types": types},
        read=False,
    )
    from alliance.fhirapi.tasks import run_bulk_export

    run_bulk_export.enqueue(str(job.pk))
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(
        reverse("fhir_export_status", args=[job.pk])
    )
    return response


def _own_job(request: HttpRequest, job_id: uuid.UUID) -> tuple[Any, BulkExport]:
    caller = caller_of(request)
    bulk.purge_expired()
    job = BulkExport.objects.filter(pk=job_id, client=caller.client).first()
    if job is None:
        # Another credential's job is answered like one that never existed.
        raise not_found("no such export (they are kept for a day)")
    return caller, job


@api_view
@require_http_methods(["GET", "DELETE"])
def export_status(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    caller, job = _own_job(request, job_id)
    if request.method == "DELETE":
        bulk.remove(job)
        audit("fhirapi.export.cancelled", caller, data={"job": str(job_id)}, read=False)
        return HttpResponse(status=202)
    if job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = job.status
        response["Retry-After"] = "10"
        return response
    if job.status == ExportStatus.FAILED:
        raise ApiError(500, "exception", "the export failed; start a new one")
    manifest = {
        "transactionTime": job.created_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": item["type"],
                "url": request.build_absolute_uri(
                    reverse("fhir_export_file", args=[job.pk, item["file"]])
                ),
                "count": item["count"],
            }
            for item in job.output
        ],
        "error": [],
    }
    response = JsonResponse(manifest)
    if job.expires_at:
        response["Expires"] = job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


@api_view
@require_GET
def export_file(request: HttpRequest, job_id: uuid.UUID, name: str) -> HttpResponseBase:
    caller, job = _own_job(request, job_id)
    item = next((i for i in job.output if i["file"] == name), None)
    path = bulk.export_dir(job.pk) / name
    if item is None or job.status != ExportStatus.COMPLETE or not path.is_file():
        raise not_found(f"{name} is not a file of this export")
    audit(
        "fhirapi.export.downloaded",
        caller,
        data={"job": str(job.pk), "resource": item["type"], "count": item["count"]},
    )
    return FileResponse(path.open("rb"), content_type="application/fhir+ndjson")


# --- import (POST) ----------------------------------------------------------------------------

MAX_IMPORT_BYTES = 10 * 1024 * 1024
_JSON_TYPES = ("application/fhir+json", "application/json")


def _payload(request: HttpRequest) -> Any:
    if request.content_type not in _JSON_TYPES:
        raise ApiError(415, "not-supported", "send JSON (Content-Type: application/fhir+json)")
    length = int(request.headers.get("Content-Length") or 0)
    if length > MAX_IMPORT_BYTES:
        raise ApiError(413, "too-costly", f"at most {MAX_IMPORT_BYTES // (1024 * 1024)} MB at once")
    try:
        return json.loads(request.read(MAX_IMPORT_BYTES + 1).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise invalid("the body is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise invalid(
            f"the body is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc


def _import(request: HttpRequest, expected: str) -> HttpResponse:
    """Hand the payload to the one importer (alliance.care.fhir_responses), answer with its report
    as an OperationOutcome: every problem with its resource and path, or what was stored."""
    from alliance.care.fhir_responses import import_responses

    caller = caller_of(request)
    require(caller, "QuestionnaireResponse", "c")
    payload = _payload(request)
    if not isinstance(payload, dict) or payload.get("resourceType") != expected:
        raise invalid(f"expected a {expected} resource here")
    if expected == "Bundle" and payload.get("type") not in ("batch", "transaction", "collection"):
        raise invalid("post a Bundle of type batch, transaction or collection")
    label = f"api:{caller.client.client_id}"
    report = import_responses(payload, source=label, client_code=None, actor=label, dry_run=False)
    audit(
        "fhirapi.import",
        caller,
        data={
            "resource": expected,
            "ok": report.ok,
            "imported": report.count("imported"),
            "already_imported": report.count("already_imported"),
            "problems": len(report.problems),
        },
        read=False,
    )
    if not report.ok:
        issues = [
            {
                "severity": "error",
                "code": "invalid",
                "diagnostics": str(problem),
                **({"expression": [problem.path]} if problem.path else {}),
            }
            for problem in report.problems
        ]
        body = {"resourceType": "OperationOutcome", "issue": issues}
        return fhir_response(_checked(body), status=422)
    issues = [
        {
            "severity": "information",
            "code": "informational",
            "diagnostics": (
                f"resource {o.index} ({o.resource_id}): {o.status.replace('_', ' ')}"
                + (f" as QuestionnaireResponse/{o.response_id}" if o.response_id else "")
            ),
        }
        for o in report.outcomes
    ] or [{"severity": "information", "code": "informational", "diagnostics": "nothing to import"}]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    created = report.count("imported") > 0
    response = fhir_response(_checked(body), status=201 if created else 200)
    if expected == "QuestionnaireResponse" and len(report.outcomes) == 1:
        stored = report.outcomes[0].response_id
        if stored:
            response["Location"] = request.build_absolute_uri(
                reverse("fhir_read", args=["QuestionnaireResponse", stored])
            )
    return response


@api_view
@require_POST
def import_bundle(request: HttpRequest) -> HttpResponse:
    """POST /fhir: a Bundle of responses (batch, transaction or collection), imported whole or not at all."""
    return _import(request, "Bundle")
