"""Bulk $export: kick-off, polling, manifest, NDJSON files of de-identified data, kept a day."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.care.models import Client
from alliance.fhirapi import bulk
from alliance.fhirapi.models import ApiClient, BulkExport
from tests.fhirapi.conftest import System, bearer, credential, parses
from tests.fhirapi.data import TYPED, ApiClinic, make_clinic


@pytest.fixture
def api_clinic(db: None) -> ApiClinic:
    return make_clinic()


def _kick_off(headers: dict[str, str], **params: str) -> Any:
    return HttpClient().get(
        reverse("fhir_export"),
        params,
        headers={**headers, "Accept": "application/fhir+json", "Prefer": "respond-async"},
    )


def _manifest(headers: dict[str, str], **params: str) -> dict[str, Any]:
    kick = _kick_off(headers, **params)
    assert kick.status_code == 202, kick.content
    status = HttpClient().get(
        kick["Content-Location"].removeprefix("http://testserver"), headers=headers
    )
    assert status.status_code == 200  # jobs run inline in tests
    assert status["Cache-Control"] == "no-store"
    return status.json()


def _lines(headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    answer = HttpClient().get(url.removeprefix("http://testserver"), headers=headers)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/fhir+ndjson"
    return [json.loads(line) for line in answer.getvalue().decode().splitlines()]


def test_export_writes_one_valid_ndjson_file_per_type(
    api_clinic: ApiClinic, headers: dict[str, str]
) -> None:
    manifest = _manifest(headers)
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    by_type = {item["type"]: item for item in manifest["output"]}
    assert set(by_type) == {
        "Patient",
        "Practitioner",
        "Questionnaire",
        "QuestionnaireResponse",
        "Observation",
        "Flag",
    }
    everything: dict[str, list[dict[str, Any]]] = {}
    for kind, item in by_type.items():
        resources = _lines(headers, item["url"])
        assert len(resources) == item["count"] > 0
        for resource in resources:
            assert resource["resourceType"] == kind
            parses(resource)
        everything[kind] = resources
    # References between files resolve: every subject is a Patient line, every author a Practitioner.
    patients = {f"Patient/{p['id']}" for p in everything["Patient"]}
    assert {qr["subject"]["reference"] for qr in everything["QuestionnaireResponse"]} <= patients
    assert len(patients) == 2


def test_exported_data_is_de_identified(api_clinic: ApiClinic, headers: dict[str, str]) -> None:
    manifest = _manifest(headers)
    text = "\n".join(
        json.dumps(r) for item in manifest["output"] for r in _lines(headers, item["url"])
    )
    secrets = [TYPED, api_clinic.therapist.email, f"S-{api_clinic.therapist.pk}"]
    for client in Client.objects.all():
        secrets += [client.name, client.email, client.phone, client.code]
    for secret in secrets:
        assert secret not in text, secret
    # Dates are shifted per client: the real submission day does not appear.
    assert "2025-03-03T09:00:00" not in text


def test_type_and_scope_limit_what_is_exported(api_clinic: ApiClinic, system: System) -> None:
    narrow = credential(system, read_types=("Patient",))
    headers = bearer(system, narrow)
    manifest = _manifest(headers)
    assert [item["type"] for item in manifest["output"]] == ["Patient"]
    refused = _kick_off(headers, _type="Observation")
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"_type": "Encounter"}, "does not export"),
        ({"_since": "yesterday"}, "_since"),
        ({"_outputFormat": "text/csv"}, "NDJSON"),
        ({"_elements": "id"}, "unsupported"),
    ],
)
def test_bad_export_parameters_get_400(
    api_clinic: ApiClinic, headers: dict[str, str], params: dict[str, str], words: str
) -> None:
    answer = _kick_off(headers, **params)
    assert answer.status_code == 400
    assert words in answer.json()["issue"][0]["diagnostics"]


def test_since_keeps_only_newer_responses(api_clinic: ApiClinic, headers: dict[str, str]) -> None:
    manifest = _manifest(headers, _type="QuestionnaireResponse", _since="2025-03-12T00:00:00Z")
    (item,) = manifest["output"]
    assert item["count"] == 1


def test_another_credential_cannot_see_the_job(
    api_clinic: ApiClinic, headers: dict[str, str], system: System
) -> None:
    kick = _kick_off(headers)
    status_path = kick["Content-Location"].removeprefix("http://testserver")
    other = bearer(system, credential(system))
    assert HttpClient().get(status_path, headers=other).status_code == 404
    assert HttpClient().get(status_path).status_code == 401


def test_files_are_deleted_after_a_day_and_on_cancel(
    api_clinic: ApiClinic, headers: dict[str, str], api_client: ApiClient, system: System
) -> None:
    kick = _kick_off(headers)
    status_path = kick["Content-Location"].removeprefix("http://testserver")
    job = BulkExport.objects.get()
    folder = bulk.export_dir(job.pk)
    assert any(folder.iterdir())
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert bulk.purge_expired() == 1
    assert not folder.exists() and not BulkExport.objects.exists()
    assert HttpClient().get(status_path, headers=headers).status_code == 404
    # Cancelled by its client: gone at once.
    kick = _kick_off(headers)
    status_path = kick["Content-Location"].removeprefix("http://testserver")
    job = BulkExport.objects.get()
    assert HttpClient().delete(status_path, headers=headers).status_code == 202
    assert not bulk.export_dir(job.pk).exists() and not BulkExport.objects.exists()


def test_export_is_audited(
    api_clinic: ApiClinic, headers: dict[str, str], api_client: ApiClient
) -> None:
    manifest = _manifest(headers)
    _lines(headers, manifest["output"][0]["url"])
    actions = set(
        AuditEvent.objects.filter(actor_label=f"api:{api_client.client_id}").values_list(
            "action", flat=True
        )
    )
    assert {"fhirapi.export.requested", "fhirapi.export.downloaded"} <= actions
