"""FHIR R4 out: the pure mapping from stored responses to resources, shared by every way out.

The per-episode Bundle (alliance.care.exports), the Insights Bundle (alliance.insights.export_fhir),
the FHIR API and its bulk ``$export`` (alliance.fhirapi) all build their resources here, so a
receiving system sees one shape whichever door it used.

What an exported response becomes
  - a **QuestionnaireResponse** naming its Questionnaire by canonical ``url|version``;
  - a total-score **Observation** (LOINC-coded where the instrument has a LOINC total code), with
    the band and the cut-off as ``interpretation`` (below);
  - for every risk rule the answers triggered (PHQ-9 item 9 above 0), an **Observation** of that
    item's answer, interpreted ``AA`` (urgent) or ``A`` (review), and a **Flag** (category
    ``safety``) pointing at it through the standard ``flag-detail`` extension, so that an EHR shows
    the answer even if it never reads QuestionnaireResponses.

Codes for bands and cut-offs
  - The cut-off is coded with HL7's ObservationInterpretation: ``H`` (or ``L`` for an instrument whose
    clinical range lies below its cut-off) when the total is in the clinical range, ``N`` when not;
    the instrument's own label travels as ``text`` and as a text ``referenceRange``.
  - Bands: LOINC has no current code for them. LL358-3, sometimes suggested, is the answer list of
    the PHQ-9 *items* (Not at all ... Nearly every day); the PHQ-9 severity answers (LL382-3,
    LA6708-7 ... LA6712-9) belong to 44262-4, a term LOINC has deprecated. So a band is coded in the
    clinic's own CodeSystem (``{base}/CodeSystem/score-band``, code ``<instrument>-<band>``) with
    its label as text, and ``docs/fhir.md`` says so.

Addresses
  Every system and canonical lives under the clinic's own FHIR base (``https://clinic/fhir``), given
  by the caller: canonicals of Alliance's instruments resolve there through the API, never on
  ``alliance.invalid``. An instrument imported with its own canonical (say LOINC's) keeps it.
  :class:`Addressing` chooses between RESTful ``fullUrl``s (``{base}/Patient/C-7KQ3F``, referenced as
  ``Patient/C-7KQ3F``) and ``urn:uuid:`` ones (a collection that stands for no server).

fhir.resources 8.x has no R4 package; R4B is the R4 structure for every resource used here, so R4B
models validate.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alliance.measures.model import Instrument, Item
from alliance.measures.registry import get_instrument
from alliance.measures.schema import ALLIANCE_KEY
from alliance.measures.scoring import is_enabled

# Where canonicals lived before the clinic's own address was used; also the default base for pure
# callers (tests, the command line) that name no clinic.
LEGACY_BASE = "https://alliance.invalid/fhir"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def client_code_system(base: str) -> str:
    """Patient.identifier system: the value is the client code staff see in Alliance."""
    return f"{base}/sid/client-code"


def staff_code_system(base: str) -> str:
    """Practitioner.identifier system: the value is the staff code (``S-<account number>``)."""
    return f"{base}/sid/staff-code"


def pseudonym_system(base: str) -> str:
    """Identifier system of de-identified exports: the value is an export pseudonym."""
    return f"{base}/sid/export-pseudonym"


def score_system(base: str) -> str:
    return f"{base}/CodeSystem/instrument-score"


def band_system(base: str) -> str:
    return f"{base}/CodeSystem/score-band"


def item_system(base: str) -> str:
    return f"{base}/CodeSystem/instrument-item"


def risk_system(base: str) -> str:
    return f"{base}/CodeSystem/risk-rule"


def staff_code(user_id: int) -> str:
    """A therapist's pseudonymous code: their account number, never their name or email."""
    return f"S-{user_id}"


@dataclass(frozen=True)
class Addressing:
    """How resources are named: on the clinic's FHIR base (RESTful) or as ``urn:uuid:``."""

    base: str = LEGACY_BASE
    uuids: bool = False

    def full_url(self, kind: str, resource_id: str) -> str:
        return f"urn:uuid:{resource_id}" if self.uuids else f"{self.base}/{kind}/{resource_id}"

    def reference(self, kind: str, resource_id: str) -> str:
        return f"urn:uuid:{resource_id}" if self.uuids else f"{kind}/{resource_id}"


@dataclass(frozen=True)
class StoredResponse:
    """One stored response, as plain data: the Django side maps rows to this."""

    instrument_id: str
    version: str
    answers: Mapping[str, Any]
    result: Mapping[str, Any]  # ScoreResult.as_dict() as stored
    submitted_at: datetime  # timezone-aware
    patient: str  # a FHIR reference, e.g. "Patient/C-7KQ3F"
    response_id: str | None = None
    author: str | None = None  # e.g. "Practitioner/S-7" for therapist-rated forms
    # The QuestionnaireResponse's id, from which its Observations' and Flags' ids derive; None:
    # UUIDv5s of the response's content (a collection that stands for no server).
    resource_id: str | None = None


@dataclass(frozen=True)
class Entry:
    """One resource and its fullUrl."""

    full_url: str
    resource: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"fullUrl": self.full_url, "resource": self.resource}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(parts)))


def id_part(text: str) -> str:
    """A piece of a FHIR id made from a linkId or a key (FHIR ids allow letters, digits, '-', '.')."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:24] or "x"


def canonical(instrument: Instrument, base: str) -> str:
    """The Questionnaire's canonical URL: the instrument's own, or the clinic's address for it."""
    url = instrument.url
    if url and not url.startswith(LEGACY_BASE):
        return url
    return f"{base}/Questionnaire/{instrument.id}"


def questionnaire_id(instrument: Instrument, version: str) -> str:
    """``phq9`` for the current version; ``phq9-v1.0.0`` for an older one a response names."""
    if version == instrument.version:
        return instrument.id
    candidate = f"{instrument.id}-v{version}"
    return candidate if _FHIR_ID.match(candidate) else f"{instrument.id}-v{_uuid(version)[:8]}"


def patient_resource(patient_id: str, value: str, system: str) -> dict[str, Any]:
    """A Patient that is a code and nothing else: no name, contact, birth date or address."""
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": system, "value": value}],
    }


def practitioner_resource(practitioner_id: str, value: str, system: str) -> dict[str, Any]:
    """A Practitioner that is a staff code or pseudonym, never a name or email."""
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id,
        "identifier": [{"system": system, "value": value}],
    }


def questionnaire_resource(instrument: Instrument, version: str, base: str) -> dict[str, Any]:
    """The Questionnaire as the instrument file holds it (without Alliance's scoring block), under
    the canonical and version the responses name. Alliance keeps only the current file, so an older
    version gets the current items with that version number."""
    document = {k: v for k, v in instrument.fhir.items() if k != ALLIANCE_KEY}
    document["resourceType"] = "Questionnaire"
    document["id"] = questionnaire_id(instrument, version)
    document["url"] = canonical(instrument, base)
    document["version"] = version
    document.setdefault("status", "active")
    return document


def _answer(item: Item, value: Any) -> dict[str, Any] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if item.kind == "choice":
        option = item.option_for(value)
        if option is None:
            return None
        if option.answer_type == "integer":
            return {"valueInteger": int(option.code or 0)}
        if option.answer_type == "string":
            return {"valueString": option.code}
        coding = {"system": option.system, "code": option.code, "display": option.label()}
        return {"valueCoding": {k: v for k, v in coding.items() if v is not None}}
    if item.kind == "integer":
        return {"valueInteger": int(float(value))}
    return {"valueString": str(value)}


def questionnaire_response(
    instrument: Instrument,
    stored: StoredResponse,
    resource_id: str,
    *,
    base: str = LEGACY_BASE,
    text_answers: bool = True,
) -> dict[str, Any]:
    """`text_answers=False` leaves free-text answers out (de-identified exports)."""
    items = []
    for item in instrument.items:
        if not is_enabled(instrument, item, stored.answers):
            continue
        if item.kind == "text" and not text_answers:
            continue
        answer = _answer(item, stored.answers.get(item.link_id))
        if answer is None:
            continue
        entry: dict[str, Any] = {"linkId": item.link_id, "answer": [answer]}
        if not item.context_keys:
            entry["text"] = item.text()
        items.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id,
        "questionnaire": f"{canonical(instrument, base)}|{stored.version}",
        "status": "completed",
        "subject": {"reference": stored.patient},
        "authored": stored.submitted_at.isoformat(),
        "item": items,
    }
    if stored.author:
        resource["author"] = {"reference": stored.author}
    return resource


def _quantity(value: float) -> dict[str, Any]:
    number: int | float = int(value) if float(value).is_integer() else float(value)
    return {"value": number, "unit": "{score}", "system": UCUM, "code": "{score}"}


def _interpretation(code: str, display: str) -> dict[str, Any]:
    return {"system": INTERPRETATION, "code": code, "display": display}


def _survey() -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]


def _cutoff_interpretation(
    instrument: Instrument, result: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(interpretation, referenceRange) for the cut-off, or (None, None) without one."""
    cutoff = instrument.rules.cutoff
    clinical = result.get("clinical")
    if cutoff is None or not isinstance(clinical, bool):
        return None, None
    above = cutoff.clinical == "at_or_above"
    label = cutoff.labels.get("en") if cutoff.labels else None
    side = "or more" if above else "or less"
    range_text = label or f"Clinical range: {cutoff.value:g} {side}"
    if clinical:
        coding = _interpretation("H", "High") if above else _interpretation("L", "Low")
        text = f"In the clinical range ({cutoff.value:g} {side})"
    else:
        coding = _interpretation("N", "Normal")
        text = f"Below the clinical cut-off ({cutoff.value:g} {side} is clinical)"
        if not above:
            text = f"Above the clinical cut-off ({cutoff.value:g} {side} is clinical)"
    return {"coding": [coding], "text": text}, {"text": range_text}


def score_observation(
    instrument: Instrument,
    stored: StoredResponse,
    resource_id: str,
    qr_reference: str,
    *,
    base: str = LEGACY_BASE,
) -> dict[str, Any] | None:
    """The total as an Observation, or None when the response has no score."""
    result = stored.result
    total = result.get("total")
    if not result.get("scorable") or total is None:
        return None
    code = instrument.rules.total_code
    coding = (
        {"system": code.system, "code": code.code, "display": code.display or ""}
        if code
        else {"system": score_system(base), "code": f"{instrument.id}-total"}
    )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "category": _survey(),
        "code": {
            "coding": [{k: v for k, v in coding.items() if v}],
            "text": f"{instrument.title()} total",
        },
        "subject": {"reference": stored.patient},
        "effectiveDateTime": stored.submitted_at.isoformat(),
        "valueQuantity": _quantity(float(total)),
        "derivedFrom": [{"reference": qr_reference}],
    }
    interpretations: list[dict[str, Any]] = []
    band = result.get("band")
    if isinstance(band, Mapping) and band.get("label"):
        band_code: dict[str, Any] = {
            "system": band_system(base),
            "code": f"{instrument.id}-{band.get('key') or id_part(str(band['label']))}",
            "display": str(band["label"]),
        }
        interpretations.append({"coding": [band_code], "text": str(band["label"])})
    cutoff, reference_range = _cutoff_interpretation(instrument, result)
    if cutoff is not None:
        interpretations.append(cutoff)
        observation["referenceRange"] = [reference_range]
    if interpretations:
        observation["interpretation"] = interpretations
    notes = []
    if result.get("prorated") and result.get("proration"):
        notes.append({"text": f"Prorated: {result['proration']}"})
    if notes:
        observation["note"] = notes
    components = []
    for sub_id, value in (result.get("subscales") or {}).items():
        if value is None:
            continue
        components.append(
            {
                "code": {
                    "coding": [{"system": score_system(base), "code": f"{instrument.id}-{sub_id}"}]
                },
                "valueQuantity": _quantity(float(value)),
            }
        )
    if components:
        observation["component"] = components
    return observation


def _risk_flags(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    flags = result.get("risk_flags")
    if not isinstance(flags, list):
        return []
    return [f for f in flags if isinstance(f, Mapping) and f.get("item") is not None]


def risk_resources(
    instrument: Instrument,
    stored: StoredResponse,
    ids: Callable[[str, str], str],
    qr_reference: str,
    addressing: Addressing,
) -> list[tuple[str, dict[str, Any]]]:
    """For each risk rule the response triggered: an Observation of the item's answer and a Flag.

    `ids(kind, link_id)` names them. Returned as (resource type, resource) pairs."""
    out: list[tuple[str, dict[str, Any]]] = []
    base = addressing.base
    for flag in _risk_flags(stored.result):
        link_id = str(flag["item"])
        item = instrument.item(link_id) if instrument.has_item(link_id) else None
        message = str(flag.get("message") or f"{instrument.title()} item {link_id}: risk answer")
        urgent = flag.get("level") == "urgent"
        label = (
            f"{instrument.title()} item {(item.prefix or link_id).rstrip('.') if item else link_id}"
        )
        codings = [
            {
                k: v
                for k, v in {"system": c.system, "code": c.code, "display": c.display}.items()
                if v
            }
            for c in (item.codes if item else ())
            if c.system and c.code
        ] or [{"system": item_system(base), "code": f"{instrument.id}-{link_id}"}]
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": ids("Observation", link_id),
            "status": "final",
            "category": _survey(),
            "code": {"coding": codings, "text": label},
            "subject": {"reference": stored.patient},
            "effectiveDateTime": stored.submitted_at.isoformat(),
            "interpretation": [
                {
                    "coding": [
                        _interpretation("AA", "Critical abnormal")
                        if urgent
                        else _interpretation("A", "Abnormal")
                    ],
                    "text": message,
                }
            ],
            "derivedFrom": [{"reference": qr_reference}],
        }
        answer = _answer(item, flag.get("answer")) if item else None
        if answer and "valueCoding" in answer:
            observation["valueCodeableConcept"] = {
                "coding": [answer["valueCoding"]],
                "text": str(answer["valueCoding"].get("display") or flag.get("answer")),
            }
        elif isinstance(flag.get("answer"), int | float):
            observation["valueQuantity"] = _quantity(float(flag["answer"]))
        observation_id = observation["id"]
        out.append(("Observation", observation))
        out.append(
            (
                "Flag",
                {
                    "resourceType": "Flag",
                    "id": ids("Flag", link_id),
                    "extension": [
                        {
                            "url": FLAG_DETAIL,
                            "valueReference": {
                                "reference": addressing.reference("Observation", observation_id)
                            },
                        }
                    ],
                    "status": "active",
                    "category": [
                        {
                            "coding": [
                                {"system": FLAG_CATEGORY, "code": "safety", "display": "Safety"}
                            ]
                        }
                    ],
                    "code": {
                        "coding": [
                            {
                                "system": risk_system(base),
                                "code": f"{instrument.id}-item-{link_id}",
                                "display": f"{label}: risk answer",
                            }
                        ],
                        "text": message,
                    },
                    "subject": {"reference": stored.patient},
                    "period": {"start": stored.submitted_at.isoformat()},
                },
            )
        )
    return out


def response_entries(
    instrument: Instrument,
    stored: StoredResponse,
    addressing: Addressing,
    *,
    text_answers: bool = True,
) -> list[Entry]:
    """Everything one stored response becomes: its QuestionnaireResponse, its total's Observation
    and, for a risk answer, the item's Observation and a Flag."""
    if stored.submitted_at.tzinfo is None:
        raise ValueError("StoredResponse.submitted_at must be timezone-aware")
    key = (
        stored.patient,
        stored.instrument_id,
        stored.version,
        stored.submitted_at.isoformat(),
        stored.response_id or "",
    )
    rid = stored.resource_id
    named = rid is not None and not addressing.uuids

    def name(kind: str, part: str) -> str:
        """The id of one of the response's resources: derived from its resource_id on a server,
        a UUIDv5 of its content in a collection."""
        return f"{rid}{part}" if named else _uuid(*key, kind, part)

    qr_id = str(rid) if named else _uuid(*key, "QuestionnaireResponse")
    qr_ref = addressing.reference("QuestionnaireResponse", qr_id)
    base = addressing.base
    entries = [
        Entry(
            addressing.full_url("QuestionnaireResponse", qr_id),
            questionnaire_response(instrument, stored, qr_id, base=base, text_answers=text_answers),
        )
    ]
    obs_id = f"{rid}-total" if named else _uuid(*key, "Observation")
    observation = score_observation(instrument, stored, obs_id, qr_ref, base=base)
    if observation is not None:
        entries.append(Entry(addressing.full_url("Observation", obs_id), observation))

    def risk_ids(kind: str, link_id: str) -> str:
        return name(kind, f"-{'risk' if kind == 'Observation' else 'flag'}-{id_part(link_id)}")

    for kind, resource in risk_resources(instrument, stored, risk_ids, qr_ref, addressing):
        entries.append(Entry(addressing.full_url(kind, resource["id"]), resource))
    return entries


def export_bundle(
    responses: Sequence[StoredResponse],
    *,
    bundle_id: str | None = None,
    timestamp: datetime | None = None,
    lookup: Callable[[str], Instrument] = get_instrument,
    validate: bool = True,
    addressing: Addressing | None = None,
    parties: Iterable[Entry] = (),
    questionnaires: bool = False,
    text_answers: bool = True,
) -> dict[str, Any]:
    """A FHIR R4 Bundle (collection) of what the responses become (`response_entries`).

    `parties`: the Patient and Practitioner entries the responses reference, put first.
    `questionnaires`: add one Questionnaire per instrument and version answered, so that every
    ``questionnaire`` canonical resolves inside the Bundle. Resource ids derive from the responses
    (their `resource_id`, or a UUIDv5 of their content), so the same data exports to the same Bundle.
    """
    where = addressing or Addressing(uuids=True)
    entries: list[Entry] = list(parties)
    answered: dict[tuple[str, str], Instrument] = {}
    response_part: list[Entry] = []
    for stored in responses:
        instrument = lookup(stored.instrument_id)
        answered.setdefault((stored.instrument_id, stored.version), instrument)
        response_part.extend(response_entries(instrument, stored, where, text_answers=text_answers))
    if questionnaires:
        for (_, version), instrument in sorted(answered.items()):
            document = questionnaire_resource(instrument, version, where.base)
            name = _uuid(document["url"], version) if where.uuids else document["id"]
            entries.append(Entry(where.full_url("Questionnaire", name), document))
    entries.extend(response_part)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": bundle_id or _uuid("bundle", *(e.full_url for e in entries)),
        "type": "collection",
        "entry": [e.as_dict() for e in entries],
    }
    if timestamp is not None:
        bundle["timestamp"] = timestamp.isoformat()
    if validate:
        validate_bundle(bundle)
    return bundle


def validate_bundle(bundle: Mapping[str, Any]) -> None:
    """Raise pydantic's ValidationError if the bundle is not valid FHIR R4(B)."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(dict(bundle))


def validate_resource(resource: Mapping[str, Any]) -> None:
    """Raise pydantic's ValidationError (or KeyError/ValueError) unless the resource parses."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(str(resource["resourceType"])).model_validate(dict(resource))


def unresolved_references(bundle: Mapping[str, Any]) -> list[str]:
    """References and ``questionnaire`` canonicals in a Bundle that no entry answers; empty when
    the Bundle stands alone. A relative reference (``Patient/x``) resolves against the base of the
    fullUrl of the entry that holds it, as FHIR's Bundle rules say."""
    entries = list(bundle.get("entry") or [])
    urls = {str(e.get("fullUrl")) for e in entries}
    canonicals = {
        f"{e['resource'].get('url')}|{e['resource'].get('version')}"
        for e in entries
        if e["resource"].get("resourceType") == "Questionnaire"
    } | {
        str(e["resource"].get("url"))
        for e in entries
        if e["resource"].get("resourceType") == "Questionnaire"
    }
    missing: list[str] = []

    def walk(value: Any, base: str) -> Iterable[str]:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "reference" and isinstance(item, str):
                    yield item if ":" in item.split("/")[0] else f"{base}/{item}"
                else:
                    yield from walk(item, base)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item, base)

    for entry in entries:
        full_url = str(entry.get("fullUrl") or "")
        match = re.match(r"^(.*)/[A-Za-z]+/[A-Za-z0-9\-.]+$", full_url)
        base = match.group(1) if match else ""
        resource = entry["resource"]
        missing.extend(ref for ref in walk(resource, base) if ref not in urls)
        if resource.get("resourceType") == "QuestionnaireResponse":
            wanted = str(resource.get("questionnaire"))
            if wanted not in canonicals:
                missing.append(wanted)
    return missing
