"""The clinic's questionnaire data as FHIR R4: one Bundle for Insights (issue 11 point 6), and the
resources of the FHIR API's bulk ``$export`` (alliance.fhirapi.bulk).

`clinic_entries(episodes, names=..., shifts=..., identified=..., addressing=...)` maps every stored
response of the episodes through `alliance.measures.fhir_export` (the same builders as the
per-episode export and the API) and adds what their references point to:

  - one **Patient** per client: de-identified, id and identifier the export pseudonym (system
    `{base}/sid/export-pseudonym`); identified (administrators only), the client code (system
    `{base}/sid/client-code`, as the episode export and the API). No name, contact or birth date;
  - one **Practitioner** per therapist who rated a session (the therapist's own check-in): the
    therapist's pseudonym, or identified their staff code (`{base}/sid/staff-code`, as the episode
    export) — never their name or email;
  - one **Questionnaire** per instrument and version answered, with `url` and `version` equal to
    the canonical the responses name, on the clinic's own address;
  - for a risk answer (PHQ-9 item 9 above 0), the item's Observation and a safety Flag.

`clinic_bundle` wraps them in a collection Bundle with `urn:uuid:` fullUrls (UUIDv5 of the
pseudonym), the usual form inside a collection that stands for no server; every `subject`, `author`
and `derivedFrom` resolves to an entry. The bulk export names them on the clinic's base instead.

Decisions
  - **No free text**: text items (the check-in's "What could have been better today?") and the
    stored open answers are left out; only choice and integer answers travel.
  - **Dates**: FHIR needs dateTimes, so a de-identified export always carries dates shifted per
    client (`exports.DateShifts`, the same shift as the CSVs); an identified one the real times.
  - **Response ids** in the resource ids are opaque tokens (`DateShifts.token`), not database ids.
  - Alliance keeps the current file of each instrument; a response stored under an older version
    gets a Questionnaire with the current items and that version number.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from alliance.care.models import Episode, Respondent, Response
from alliance.fhirapi.mapping import fhir_base
from alliance.insights.exports import DateShifts
from alliance.insights.pseudonyms import Pseudonyms
from alliance.measures import UnknownInstrument, get_instrument
from alliance.measures.fhir_export import (
    Addressing,
    Entry,
    StoredResponse,
    client_code_system,
    export_bundle,
    patient_resource,
    practitioner_resource,
    pseudonym_system,
    staff_code,
    staff_code_system,
    validate_bundle,
)


def _scored_answers(instrument_id: str, answers: Any) -> dict[str, Any]:
    """Only choice and integer answers: a text item may hold anything the client typed."""
    if not isinstance(answers, dict):
        return {}
    try:
        items = get_instrument(instrument_id).items
    except UnknownInstrument:
        return {}
    kept = {item.link_id for item in items if item.kind in ("choice", "integer")}
    return {k: v for k, v in answers.items() if k in kept}


def _name(addressing: Addressing, kind: str, value: str) -> str:
    """A party's id: its pseudonym or code on the clinic's base, a UUIDv5 of it in a collection."""
    if not addressing.uuids:
        return value
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{addressing.base}/{kind}/{value}"))


def clinic_entries(
    episodes: QuerySet[Episode],
    *,
    names: Pseudonyms,
    shifts: DateShifts,
    identified: bool = False,
    addressing: Addressing,
    since: datetime | None = None,
) -> list[Entry]:
    """Patients, Practitioners and Questionnaires first, then what each response becomes."""
    base = addressing.base
    patients: dict[str, str] = {}  # id -> identifier value
    practitioners: dict[str, str] = {}
    stored: list[StoredResponse] = []
    responses = Response.objects.filter(episode__in=episodes)
    if since is not None:
        responses = responses.filter(submitted_at__gte=since)
    rows: Iterable[tuple[Any, ...]] = (
        responses.order_by("episode_id", "submitted_at", "pk")
        .values_list(
            "pk",
            "episode__client_id",
            "episode__client__code",
            "instrument",
            "instrument_version",
            "answers",
            "score",
            "submitted_at",
            "respondent",
            "submitted_by_id",
        )
        .iterator(chunk_size=2000)
    )
    for pk, client, code, instrument, version, answers, score, at, respondent, by in rows:
        try:
            get_instrument(instrument)
        except UnknownInstrument:
            continue  # an instrument file removed since: nothing to map its answers with
        pseudonym = names.client(client)
        patient_id = _name(addressing, "Patient", code if identified else pseudonym)
        patients[patient_id] = code if identified else pseudonym
        author = None
        if respondent == Respondent.THERAPIST and by is not None:
            rater = staff_code(by) if identified else names.therapist(by)
            practitioner_id = _name(addressing, "Practitioner", rater)
            practitioners[practitioner_id] = rater
            author = addressing.reference("Practitioner", practitioner_id)
        when = at if identified else at + timedelta(days=shifts.days(pseudonym))
        token = str(pk) if identified else shifts.token(f"response:{pk}")
        stored.append(
            StoredResponse(
                instrument_id=instrument,
                version=version,
                answers=_scored_answers(instrument, answers),
                result=score if isinstance(score, dict) else {},
                submitted_at=when,
                patient=addressing.reference("Patient", patient_id),
                response_id=token,
                author=author,
                resource_id=None if addressing.uuids else token,
            )
        )
    bundle = export_bundle(
        stored, addressing=addressing, questionnaires=True, text_answers=False, validate=False
    )
    parties: list[Entry] = []
    patient_system = client_code_system(base) if identified else pseudonym_system(base)
    for patient_id, value in sorted(patients.items()):
        parties.append(
            Entry(
                addressing.full_url("Patient", patient_id),
                patient_resource(patient_id, value, patient_system),
            )
        )
    staff_system = staff_code_system(base) if identified else pseudonym_system(base)
    for practitioner_id, value in sorted(practitioners.items()):
        parties.append(
            Entry(
                addressing.full_url("Practitioner", practitioner_id),
                practitioner_resource(practitioner_id, value, staff_system),
            )
        )
    return parties + [Entry(e["fullUrl"], e["resource"]) for e in bundle["entry"]]


def clinic_bundle(
    episodes: QuerySet[Episode],
    *,
    names: Pseudonyms,
    shifts: DateShifts,
    identified: bool = False,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    entries = clinic_entries(
        episodes,
        names=names,
        shifts=shifts,
        identified=identified,
        addressing=Addressing(base=fhir_base(), uuids=True),
    )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(
            uuid.uuid5(uuid.NAMESPACE_URL, "|".join(["bundle", *(e.full_url for e in entries)]))
        ),
        "type": "collection",
        "entry": [e.as_dict() for e in entries],
    }
    if timestamp is not None:
        bundle["timestamp"] = timestamp.isoformat()
    validate_bundle(bundle)
    return bundle
