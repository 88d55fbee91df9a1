"""Posting QuestionnaireResponses to the API: the one importer (alliance.care.fhir_responses) behind
a scope, whole or not at all, audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent
from alliance.care.models import Response
from alliance.fhirapi.models import ApiClient
from tests.fhirapi.conftest import System, bearer, credential, parses
from tests.fhirapi.data import ApiClinic, make_clinic


@pytest.fixture
def api_clinic(db: None) -> ApiClinic:
    return make_clinic()


@pytest.fixture
def writer(system: System, api_clinic: ApiClinic) -> tuple[ApiClient, dict[str, str]]:
    client = credential(system, read_types=("QuestionnaireResponse",), can_import=True)
    return client, bearer(
        system, client, "system/QuestionnaireResponse.rs system/QuestionnaireResponse.c"
    )


def _response_from_the_ehr(
    clinic: ApiClinic, headers: dict[str, str], new_id: str
) -> dict[str, Any]:
    """A response as the EHR would send it: read from the API, given the EHR's own id and a new day."""
    qr = (
        HttpClient()
        .get(reverse("fhir_read", args=["QuestionnaireResponse", clinic.risk.pk]), headers=headers)
        .json()
    )
    qr["id"] = new_id
    qr["authored"] = "2025-04-01T10:00:00+00:00"
    # The importer knows a client by identifier (a bare reference could be another server's).
    qr["subject"] = {
        "identifier": {"system": "http://127.0.0.1:8000/fhir/sid/client-code", "value": "C-APK3F"}
    }
    qr.pop("meta", None)
    return qr


def _post(
    path: str, body: Any, headers: dict[str, str], content_type: str = "application/fhir+json"
) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return HttpClient().post(path, data, content_type=content_type, headers=headers)


def test_a_posted_response_is_stored_once_and_audited(
    api_clinic: ApiClinic, writer: tuple[ApiClient, dict[str, str]]
) -> None:
    client, headers = writer
    qr = _response_from_the_ehr(api_clinic, headers, "ehr-qr-1")
    before = Response.objects.count()
    first = _post(reverse("fhir_search", args=["QuestionnaireResponse"]), qr, headers)
    assert first.status_code == 201, first.content
    parses(first.json())
    assert first["Location"].rsplit("/", 1)[-1].isdigit()
    again = _post(reverse("fhir_search", args=["QuestionnaireResponse"]), qr, headers)
    assert again.status_code == 200 and "already imported" in again.content.decode()
    assert Response.objects.count() == before + 1
    stored = Response.objects.get(import_id="ehr-qr-1")
    assert stored.total == api_clinic.risk.total and stored.risk
    event = AuditEvent.objects.get(action="fhirapi.import", data__imported=1)
    assert event.actor_label == f"api:{client.client_id}"


def test_a_bundle_with_one_bad_response_stores_nothing(
    api_clinic: ApiClinic, writer: tuple[ApiClient, dict[str, str]]
) -> None:
    _, headers = writer
    good = _response_from_the_ehr(api_clinic, headers, "ehr-qr-2")
    bad = _response_from_the_ehr(api_clinic, headers, "ehr-qr-3")
    bad["item"][0]["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "LA-NOPE"}}]
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": good}, {"resource": bad}],
    }
    before = Response.objects.count()
    answer = _post(reverse("fhir_import"), bundle, headers)
    assert answer.status_code == 422
    body = answer.json()
    parses(body)
    assert body["issue"] and all(i["severity"] == "error" for i in body["issue"])
    assert "ehr-qr-3" in json.dumps(body)
    assert Response.objects.count() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("{not json", "application/fhir+json", 400, "not JSON"),
        (
            '{"resourceType": "Patient"}',
            "application/fhir+json",
            400,
            "expected a QuestionnaireResponse",
        ),
        ("<xml/>", "application/xml", 415, "JSON"),
    ],
)
def test_a_malformed_post_gets_a_clear_outcome(
    api_clinic: ApiClinic,
    writer: tuple[ApiClient, dict[str, str]],
    body: str,
    content_type: str,
    status: int,
    words: str,
) -> None:
    _, headers = writer
    answer = _post(
        reverse("fhir_search", args=["QuestionnaireResponse"]), body, headers, content_type
    )
    assert answer.status_code == status
    assert words in answer.json()["issue"][0]["diagnostics"]


def test_import_needs_the_write_scope(api_clinic: ApiClinic, headers: dict[str, str]) -> None:
    """The default test credential may read everything but import nothing."""
    qr = _response_from_the_ehr(api_clinic, headers, "ehr-qr-4")
    answer = _post(reverse("fhir_search", args=["QuestionnaireResponse"]), qr, headers)
    assert answer.status_code == 403
    assert (
        _post(
            reverse("fhir_import"), {"resourceType": "Bundle", "type": "batch"}, headers
        ).status_code
        == 403
    )
    assert _post(reverse("fhir_search", args=["QuestionnaireResponse"]), qr, {}).status_code == 401
    assert not Response.objects.filter(import_id="ehr-qr-4").exists()


def test_other_types_cannot_be_created(
    api_clinic: ApiClinic, writer: tuple[ApiClient, dict[str, str]]
) -> None:
    _, headers = writer
    answer = _post(reverse("fhir_search", args=["Patient"]), {"resourceType": "Patient"}, headers)
    assert answer.status_code == 405
