"""The per-episode Bundle stands alone and tells a receiving EHR what matters (issue 13, point 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from alliance.measures.fhir_export import unresolved_references, validate_resource
from tests.fhirapi.data import TYPED, ApiClinic, make_clinic

SITE = "https://alliance.clinic.example"


@pytest.fixture
def api_clinic(db: None) -> ApiClinic:
    return make_clinic()


def _bundle(clinic: ApiClinic) -> dict[str, Any]:
    http = HttpClient()
    http.force_login(clinic.therapist)
    with override_settings(SITE_URL=SITE):
        page = http.get(reverse("episode_fhir", args=[clinic.episode.pk]))
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    return json.loads(page.content)


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_parses_and_every_reference_resolves_inside_it(api_clinic: ApiClinic) -> None:
    bundle = _bundle(api_clinic)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        validate_resource(entry["resource"])
    assert unresolved_references(bundle) == []
    assert bundle["timestamp"]
    # Nothing points outside the clinic's own address, and nothing at alliance.invalid.
    assert "alliance.invalid" not in json.dumps(bundle)
    assert all(e["fullUrl"].startswith(f"{SITE}/fhir/") for e in bundle["entry"])


def test_the_resolver_notices_a_dangling_reference(api_clinic: ApiClinic) -> None:
    """The check above would pass on anything if the resolver never failed."""
    bundle = _bundle(api_clinic)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    assert "https://alliance.clinic.example/fhir/Patient/C-APK3F" in unresolved_references(bundle)
    bundle = _bundle(api_clinic)
    bundle["entry"] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] != "Questionnaire"
    ]
    assert any("Questionnaire/phq9|" in ref for ref in unresolved_references(bundle))


def test_patient_and_practitioner_are_pseudonymous(api_clinic: ApiClinic) -> None:
    bundle = _bundle(api_clinic)
    (patient,) = _of(bundle, "Patient")
    assert patient == {
        "resourceType": "Patient",
        "id": "C-APK3F",
        "identifier": [{"system": f"{SITE}/fhir/sid/client-code", "value": "C-APK3F"}],
    }
    (practitioner,) = _of(bundle, "Practitioner")
    assert practitioner["identifier"] == [
        {"system": f"{SITE}/fhir/sid/staff-code", "value": f"S-{api_clinic.therapist.pk}"}
    ]
    text = json.dumps(bundle)
    for secret in (
        "Marguerite Quillfeather",
        "mq@example.com",
        "+447700900123",
        "Olive",
        "olive.owner",
    ):
        assert secret not in text


def test_questionnaires_are_included_under_the_canonical_the_responses_name(
    api_clinic: ApiClinic,
) -> None:
    bundle = _bundle(api_clinic)
    questionnaires = {(q["url"], q["version"]) for q in _of(bundle, "Questionnaire")}
    assert (f"{SITE}/fhir/Questionnaire/phq9", "1.0.0") in questionnaires
    # The response stored under an older version names that version, and it is there too.
    assert (f"{SITE}/fhir/Questionnaire/phq9", "0.9.0") in questionnaires
    for questionnaire in _of(bundle, "Questionnaire"):
        assert "alliance" not in questionnaire  # the scoring block stays home


def test_a_risk_answer_is_an_observation_and_a_safety_flag(api_clinic: ApiClinic) -> None:
    bundle = _bundle(api_clinic)
    risk_id = f"{api_clinic.risk.pk}-risk-9"
    observation = next(o for o in _of(bundle, "Observation") if o["id"] == risk_id)
    assert observation["code"]["coding"][0] == {"system": "http://loinc.org", "code": "44260-8"}
    assert observation["valueCodeableConcept"]["coding"][0]["code"] == "LA6570-1"  # 2
    assert observation["interpretation"][0]["coding"][0]["code"] == "AA"
    (flag,) = _of(bundle, "Flag")
    assert flag["status"] == "active"
    assert flag["category"][0]["coding"][0]["code"] == "safety"
    assert flag["extension"][0]["valueReference"]["reference"] == f"Observation/{risk_id}"
    assert flag["subject"]["reference"] == "Patient/C-APK3F"
    # The calmer response (item 9 = 0) raises neither.
    assert not [
        o for o in _of(bundle, "Observation") if o["id"].startswith(f"{api_clinic.calm.pk}-risk")
    ]


def test_bands_and_cutoffs_are_coded(api_clinic: ApiClinic) -> None:
    bundle = _bundle(api_clinic)
    total = next(o for o in _of(bundle, "Observation") if o["id"] == f"{api_clinic.risk.pk}-total")
    assert total["valueQuantity"]["value"] == 16
    band, cutoff = total["interpretation"]
    assert band["coding"][0] == {
        "system": f"{SITE}/fhir/CodeSystem/score-band",
        "code": "phq9-moderately_severe",
        "display": "Moderately severe",
    }
    assert cutoff["coding"][0]["code"] == "H"  # 16 is in the clinical range (10 or more)
    assert total["referenceRange"][0]["text"].startswith("Clinical range")
    calm = next(o for o in _of(bundle, "Observation") if o["id"] == f"{api_clinic.calm.pk}-total")
    assert calm["interpretation"][1]["coding"][0]["code"] == "N"


def test_the_therapists_own_export_keeps_the_clients_words(api_clinic: ApiClinic) -> None:
    """The episode export is the record for the clinic's EHR; the API and $export leave them out."""
    assert TYPED in json.dumps(_bundle(api_clinic))
