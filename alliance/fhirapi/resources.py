"""Read and search of each resource type: rows in, resources out (via alliance.fhirapi.mapping).

Ids are those the per-episode export uses: ``Patient/<client code>``, ``Practitioner/S-<n>``,
``Questionnaire/<instrument id>``, ``QuestionnaireResponse/<n>``, ``Observation/<n>-total`` and
``Observation/<n>-risk-<item>``. A response is never changed once stored, so its time is also its
``meta.lastUpdated``. Typed (free-text) answers are left out of everything the API returns.

Each search returns a `Page`: the resources of the page, the total, and the client ids they concern
(for the audit trail, which records which clients' data went to which credential).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from alliance.accounts.models import Role, User
from alliance.care.models import Client, Response
from alliance.fhirapi import mapping
from alliance.fhirapi.forms import DateBound, SearchForm
from alliance.fhirapi.outcome import invalid, not_found
from alliance.measures import all_instruments
from alliance.measures.fhir_export import (
    Addressing,
    canonical,
    id_part,
    questionnaire_resource,
    response_entries,
)
from alliance.measures.model import Instrument


@dataclass
class Page:
    resources: list[dict[str, Any]]
    total: int
    client_ids: set[int] = field(default_factory=set)


def _meta(resource: dict[str, Any], when: datetime) -> dict[str, Any]:
    resource["meta"] = {"lastUpdated": when.isoformat()}
    return resource


def _dates(queryset: QuerySet[Any], column: str, bounds: list[DateBound]) -> QuerySet[Any]:
    for bound in bounds:
        if bound.prefix == "eq":
            queryset = queryset.filter(
                **{f"{column}__gte": bound.start, f"{column}__lt": bound.end}
            )
        elif bound.prefix == "ge":
            queryset = queryset.filter(**{f"{column}__gte": bound.start})
        elif bound.prefix == "gt":
            queryset = queryset.filter(**{f"{column}__gte": bound.end})
        elif bound.prefix == "le":
            queryset = queryset.filter(**{f"{column}__lt": bound.end})
        elif bound.prefix == "lt":
            queryset = queryset.filter(**{f"{column}__lt": bound.start})
    return queryset


def _token(value: str) -> tuple[str | None, str]:
    """``system|code``, ``|code`` or ``code`` -> (system or None for any, code)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


# --- Patient ----------------------------------------------------------------------------------


def read_patient(resource_id: str) -> tuple[dict[str, Any], int]:
    client = Client.objects.filter(code=resource_id).only("pk", "code", "updated_at").first()
    if client is None:
        raise not_found(f"Patient/{resource_id} is not known")
    return _meta(mapping.patient(client.code), client.updated_at), client.pk


def search_patients(form: SearchForm) -> Page:
    data = form.cleaned_data
    clients = Client.objects.only("pk", "code", "updated_at").order_by("code")
    if data.get("_id"):
        clients = clients.filter(code=data["_id"])
    if data.get("identifier"):
        system, value = _token(data["identifier"])
        if system not in (None, "", mapping.client_code_system()):
            clients = clients.none()
        clients = clients.filter(code=value)
    clients = _dates(clients, "updated_at", data.get("_lastUpdated") or [])
    total = clients.count()
    rows = list(clients[form.offset : form.offset + form.count])
    return Page(
        [_meta(mapping.patient(c.code), c.updated_at) for c in rows], total, {c.pk for c in rows}
    )


# --- Practitioner -----------------------------------------------------------------------------

_STAFF_ID = re.compile(r"^S-(\d{1,18})$")


def _clinicians() -> QuerySet[User]:
    return User.objects.filter(role__in=(Role.THERAPIST, Role.SUPERVISOR)).order_by("pk")


def read_practitioner(resource_id: str) -> tuple[dict[str, Any], None]:
    match = _STAFF_ID.match(resource_id)
    if match is None or not _clinicians().filter(pk=int(match[1])).exists():
        raise not_found(f"Practitioner/{resource_id} is not known")
    return mapping.practitioner(int(match[1])), None


def search_practitioners(form: SearchForm) -> Page:
    data = form.cleaned_data
    users = _clinicians()
    wanted = data.get("_id") or ""
    if data.get("identifier"):
        system, wanted = _token(data["identifier"])
        if system not in (None, "", mapping.staff_code_system()):
            users = users.none()
    if wanted:
        match = _STAFF_ID.match(wanted)
        users = users.filter(pk=int(match[1])) if match else users.none()
    if data.get("_lastUpdated"):
        raise invalid("_lastUpdated is not supported on Practitioner")
    total = users.count()
    ids = list(users.values_list("pk", flat=True)[form.offset : form.offset + form.count])
    return Page([mapping.practitioner(pk) for pk in ids], total)


# --- Questionnaire ----------------------------------------------------------------------------


def _instrument_for_id(resource_id: str) -> tuple[Instrument, str] | None:
    for instrument in all_instruments():
        if resource_id == instrument.id:
            return instrument, instrument.version
        prefix = f"{instrument.id}-v"
        if resource_id.startswith(prefix):
            return instrument, resource_id.removeprefix(prefix)
    return None


def read_questionnaire(resource_id: str) -> tuple[dict[str, Any], None]:
    found = _instrument_for_id(resource_id)
    if found is None:
        raise not_found(f"Questionnaire/{resource_id} is not known")
    instrument, version = found
    return questionnaire_resource(instrument, version, mapping.fhir_base()), None


def search_questionnaires(form: SearchForm) -> Page:
    data = form.cleaned_data
    base = mapping.fhir_base()
    found = []
    for instrument in sorted(all_instruments(), key=lambda i: i.id):
        if data.get("_id") and data["_id"] != instrument.id:
            continue
        if data.get("url"):
            url, _, version = str(data["url"]).partition("|")
            if url != canonical(instrument, base) or (version and version != instrument.version):
                continue
        if data.get("code"):
            system, code = _token(data["code"])
            if not any(c.code == code and system in (None, "", c.system) for c in instrument.codes):
                continue
        found.append(instrument)
    if data.get("_lastUpdated"):
        raise invalid("_lastUpdated is not supported on Questionnaire")
    page = found[form.offset : form.offset + form.count]
    return Page([questionnaire_resource(i, i.version, base) for i in page], len(found))


# --- QuestionnaireResponse and Observation ------------------------------------------------------


def _responses(
    data: dict[str, Any], column_dates: list[tuple[str, list[DateBound]]]
) -> QuerySet[Response]:
    responses = Response.objects.select_related("episode__client").order_by("submitted_at", "pk")
    if data.get("patient"):
        responses = responses.filter(episode__client__code=data["patient"])
    for column, bounds in column_dates:
        responses = _dates(responses, column, bounds)
    return responses


def _entries(response: Response, addressing: Addressing) -> list[dict[str, Any]]:
    instrument = mapping.instrument_or_none(response.instrument)
    if instrument is None:
        return []
    stored = mapping.stored_response(response, response.episode.client.code, text_answers=False)
    return [
        _meta(entry.resource, response.submitted_at)
        for entry in response_entries(instrument, stored, addressing, text_answers=False)
    ]


_RESPONSE_ID = re.compile(r"^(\d{1,18})$")


def read_questionnaire_response(resource_id: str) -> tuple[dict[str, Any], int]:
    match = _RESPONSE_ID.match(resource_id)
    response = (
        Response.objects.select_related("episode__client").filter(pk=int(match[1])).first()
        if match
        else None
    )
    entries = _entries(response, mapping.addressing()) if response else []
    if response is None or not entries:
        raise not_found(f"QuestionnaireResponse/{resource_id} is not known")
    return entries[0], response.episode.client_id


def search_questionnaire_responses(form: SearchForm) -> Page:
    data = form.cleaned_data
    dates = data.get("authored") or []
    responses = _responses(data, [("submitted_at", dates + (data.get("_lastUpdated") or []))])
    if data.get("_id"):
        match = _RESPONSE_ID.match(data["_id"])
        responses = responses.filter(pk=int(match[1])) if match else responses.none()
    if data.get("questionnaire"):
        url, _, version = str(data["questionnaire"]).partition("|")
        base = mapping.fhir_base()
        ids = [i.id for i in all_instruments() if canonical(i, base) == url]
        responses = responses.filter(instrument__in=ids)
        if version:
            responses = responses.filter(instrument_version=version)
    total = responses.count()
    rows = list(responses[form.offset : form.offset + form.count])
    where = mapping.addressing()
    resources = [entries[0] for r in rows if (entries := _entries(r, where))]
    return Page(resources, total, {r.episode.client_id for r in rows})


_OBSERVATION_ID = re.compile(r"^(\d{1,18})-(total|risk-.+)$")


def read_observation(resource_id: str) -> tuple[dict[str, Any], int]:
    match = _OBSERVATION_ID.match(resource_id)
    response = (
        Response.objects.select_related("episode__client").filter(pk=int(match[1])).first()
        if match
        else None
    )
    if response is not None:
        for resource in _entries(response, mapping.addressing()):
            if resource["resourceType"] == "Observation" and resource["id"] == resource_id:
                return resource, response.episode.client_id
    raise not_found(f"Observation/{resource_id} is not known")


def _observation_kinds(code: str) -> Callable[[str, str], bool]:
    """Which (instrument, part) observations a ``code`` parameter names: part ``total`` or the
    risk item's linkId."""
    system, value = _token(code)
    base = mapping.fhir_base()
    wanted: set[tuple[str, str]] = set()
    for instrument in all_instruments():
        total = instrument.rules.total_code
        own = (mapping.score_system(), f"{instrument.id}-total")
        if (total and total.code == value and system in (None, "", total.system)) or (
            own[1] == value and system in (None, "", own[0])
        ):
            wanted.add((instrument.id, "total"))
        for rule in instrument.risk_rules:
            item = instrument.item(rule.item) if instrument.has_item(rule.item) else None
            codes = [(c.system, c.code) for c in (item.codes if item else ())]
            codes.append((f"{base}/CodeSystem/instrument-item", f"{instrument.id}-{rule.item}"))
            if any(c == value and system in (None, "", s) for s, c in codes):
                wanted.add((instrument.id, rule.item))
    return lambda instrument_id, part: (instrument_id, part) in wanted


def search_observations(form: SearchForm) -> Page:
    """Observations are derived from responses (a total per scored response, one per risk answer),
    so the matching ones are listed from the responses' plain columns first, then only the page's
    responses are mapped."""
    data = form.cleaned_data
    dates = (data.get("date") or []) + (data.get("_lastUpdated") or [])
    responses = _responses(data, [("submitted_at", dates)])
    if data.get("_id"):
        match = _OBSERVATION_ID.match(data["_id"])
        responses = responses.filter(pk=int(match[1])) if match else responses.none()
    wanted = _observation_kinds(data["code"]) if data.get("code") else None
    # Only risk rows' stored results are read (for which items fired): the scores of every response
    # would be most of the table.
    fired: dict[int, list[str]] = {
        pk: [
            str(f.get("item")) for f in (score or {}).get("risk_flags") or [] if isinstance(f, dict)
        ]
        for pk, score in responses.filter(risk=True)
        .values_list("pk", "score")
        .iterator(chunk_size=2000)
        if isinstance(score, dict)
    }
    listed: list[tuple[int, str]] = []
    for pk, instrument_id, scorable, total in responses.values_list(
        "pk", "instrument", "scorable", "total"
    ).iterator(chunk_size=2000):
        parts = ["total"] if scorable and total is not None else []
        parts += fired.get(pk, [])
        for part in parts:
            if wanted is None or wanted(instrument_id, part):
                listed.append((pk, part))
    if data.get("_id"):
        listed = [(pk, part) for pk, part in listed if _observation_id(pk, part) == data["_id"]]
    page = listed[form.offset : form.offset + form.count]
    by_pk = {
        r.pk: r
        for r in Response.objects.select_related("episode__client").filter(
            pk__in={pk for pk, _ in page}
        )
    }
    where = mapping.addressing()
    mapped: dict[str, dict[str, Any]] = {}
    for pk in dict.fromkeys(pk for pk, _ in page):
        for resource in _entries(by_pk[pk], where):
            mapped[resource["id"]] = resource
    resources = [mapped[i] for pk, part in page if (i := _observation_id(pk, part)) in mapped]
    return Page(resources, len(listed), {by_pk[pk].episode.client_id for pk, _ in page})


def _observation_id(pk: int, part: str) -> str:
    return f"{pk}-total" if part == "total" else f"{pk}-risk-{id_part(part)}"


READERS: dict[str, Callable[[str], tuple[dict[str, Any], int | None]]] = {
    "Patient": read_patient,
    "Practitioner": read_practitioner,
    "Questionnaire": read_questionnaire,
    "QuestionnaireResponse": read_questionnaire_response,
    "Observation": read_observation,
}
SEARCHERS: dict[str, Callable[[SearchForm], Page]] = {
    "Patient": search_patients,
    "Practitioner": search_practitioners,
    "Questionnaire": search_questionnaires,
    "QuestionnaireResponse": search_questionnaire_responses,
    "Observation": search_observations,
}
