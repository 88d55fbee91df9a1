"""The clinic's questionnaire data as one FHIR R4 Bundle (type collection), issue 11 point 6.

`clinic_bundle(episodes, names=..., shifts=..., identified=...)` maps every stored response of the
episodes through `alliance.measures.fhir.export_bundle` (the same QuestionnaireResponse and
Observation builders as the per-episode export) and adds what its references point to, so that the
Bundle stands alone:

  - one **Patient** per client: `identifier` the export pseudonym (system
    `https://alliance.invalid/fhir/export-pseudonym`) — or, identified, the client code (system
    `.../client-code`); no name, no contact, no birth date;
  - one **Practitioner** per therapist who rated a session (the therapist's own check-in), with the
    therapist's pseudonym (identified: their email) as identifier;
  - one **Questionnaire** per instrument and version answered, from the instrument file (its
    Alliance scoring block left out), with `url` and `version` equal to the canonical the
    responses name.

Decisions
  - **References are `urn:uuid:`** fullUrls (UUIDv5 of the pseudonym), the usual form inside a
    collection Bundle; every `subject`, `author` and `derivedFrom` resolves to an entry.
  - **No free text**: text items (the check-in's "What could have been better today?") and the
    stored open answers are left out; only choice and integer answers travel.
  - **Dates**: FHIR needs dateTimes, so a de-identified Bundle always carries dates shifted per
    client (`exports.DateShifts`, the same shift as the CSVs); an identified one the real times.
  - **Response ids** in the resource UUIDs are opaque tokens (`DateShifts.token`), not database ids.
  - Alliance keeps the current file of each instrument; a response stored under an older version
    gets a Questionnaire with the current items and that version number.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from alliance.care.models import Episode, Respondent, Response
from alliance.insights.exports import DateShifts
from alliance.insights.pseudonyms import Pseudonyms
from alliance.measures import UnknownInstrument, get_instrument
from alliance.measures.fhir import CANONICAL_BASE, StoredResponse, export_bundle, validate_bundle
from alliance.measures.schema import ALLIANCE_KEY

PSEUDONYM_SYSTEM = f"{CANONICAL_BASE}/export-pseudonym"
CLIENT_CODE_SYSTEM = f"{CANONICAL_BASE}/client-code"
STAFF_EMAIL_SYSTEM = f"{CANONICAL_BASE}/staff-email"


def urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{CANONICAL_BASE}/{name}')}"


def questionnaire(instrument_id: str, version: str) -> dict[str, Any]:
    instrument = get_instrument(instrument_id)
    document = json.loads(Path(instrument.source).read_text(encoding="utf-8"))
    document.pop(ALLIANCE_KEY, None)
    document["resourceType"] = "Questionnaire"
    document["url"] = instrument.url or f"{CANONICAL_BASE}/Questionnaire/{instrument.id}"
    document["version"] = version
    document.setdefault("status", "active")
    return document


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


def clinic_bundle(
    episodes: QuerySet[Episode],
    *,
    names: Pseudonyms,
    shifts: DateShifts,
    identified: bool = False,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    patients: dict[str, str] = {}  # fullUrl -> identifier value
    practitioners: dict[str, str] = {}
    versions: set[tuple[str, str]] = set()
    stored: list[StoredResponse] = []
    rows: Iterable[tuple[Any, ...]] = (
        Response.objects.filter(episode__in=episodes)
        .order_by("episode_id", "submitted_at", "pk")
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
            "submitted_by__email",
        )
        .iterator(chunk_size=2000)
    )
    for pk, client, code, instrument, version, answers, score, at, respondent, by, email in rows:
        try:
            get_instrument(instrument)
        except UnknownInstrument:
            continue  # an instrument file removed since: nothing to map its answers with
        pseudonym = names.client(client)
        patient = urn(f"Patient/{pseudonym}")
        patients[patient] = code if identified else pseudonym
        author = None
        if respondent == Respondent.THERAPIST and by is not None:
            rater = names.therapist(by)
            author = urn(f"Practitioner/{rater}")
            practitioners[author] = email if identified else rater
        when = at if identified else at + timedelta(days=shifts.days(pseudonym))
        versions.add((instrument, version))
        stored.append(
            StoredResponse(
                instrument_id=instrument,
                version=version,
                answers=_scored_answers(instrument, answers),
                result=score if isinstance(score, dict) else {},
                submitted_at=when,
                patient=patient,
                response_id=str(pk) if identified else shifts.token(f"response:{pk}"),
                author=author,
            )
        )
    bundle = export_bundle(stored, timestamp=timestamp, validate=False)
    extra: list[dict[str, Any]] = []
    for full_url, value in sorted(patients.items()):
        system = CLIENT_CODE_SYSTEM if identified else PSEUDONYM_SYSTEM
        extra.append(_party("Patient", full_url, system, value))
    for full_url, value in sorted(practitioners.items()):
        system = STAFF_EMAIL_SYSTEM if identified else PSEUDONYM_SYSTEM
        extra.append(_party("Practitioner", full_url, system, value))
    for instrument, version in sorted(versions):
        document = questionnaire(instrument, version)
        extra.append(
            {"fullUrl": urn(f"Questionnaire/{instrument}|{version}"), "resource": document}
        )
    bundle["entry"] = extra + bundle["entry"]
    validate_bundle(bundle)
    return bundle


def _party(kind: str, full_url: str, system: str, value: str) -> dict[str, Any]:
    return {
        "fullUrl": full_url,
        "resource": {
            "resourceType": kind,
            "id": full_url.removeprefix("urn:uuid:"),
            "identifier": [{"system": system, "value": value}],
        },
    }
