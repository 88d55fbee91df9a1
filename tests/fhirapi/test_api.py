"""The FHIR API: metadata, read and search of each type, errors, access, audit (issue 13, point 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent
from alliance.care.models import Client
from alliance.fhirapi.models import ApiClient
from tests.fhirapi.conftest import System, bearer, credential, parses
from tests.fhirapi.data import TYPED, ApiClinic, make_clinic


@pytest.fixture
def api_clinic(db: None) -> ApiClinic:
    return make_clinic()


def _get(path: str, headers: dict[str, str], **params: Any) -> Any:
    answer = HttpClient().get(path, params, headers=headers)
    assert answer["Cache-Control"] == "no-store", path
    return answer


def _search(kind: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = _get(reverse("fhir_search", args=[kind]), headers, **params)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    parses(body)
    return body


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_metadata_needs_no_credential_and_is_a_capability_statement(db: None) -> None:
    answer = HttpClient().get(reverse("fhir_metadata"))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/fhir+json"
    body = answer.json()
    parses(body)
    assert body["fhirVersion"] == "4.0.1"
    kinds = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"Patient", "Questionnaire", "QuestionnaireResponse", "Observation"} <= kinds
    smart = HttpClient().get(reverse("fhir_smart_configuration")).json()
    assert smart["token_endpoint"].endswith("/fhir/token")
    assert "private_key_jwt" in smart["token_endpoint_auth_methods_supported"]


def test_read_of_every_type_parses(api_clinic: ApiClinic, headers: dict[str, str]) -> None:
    reads = [
        ("Patient", "C-APK3F"),
        ("Practitioner", f"S-{api_clinic.therapist.pk}"),
        ("Questionnaire", "phq9"),
        ("Questionnaire", "phq9-v0.9.0"),
        ("QuestionnaireResponse", str(api_clinic.risk.pk)),
        ("Observation", f"{api_clinic.risk.pk}-total"),
        ("Observation", f"{api_clinic.risk.pk}-risk-9"),
    ]
    for kind, resource_id in reads:
        answer = _get(reverse("fhir_read", args=[kind, resource_id]), headers)
        assert answer.status_code == 200, (kind, resource_id, answer.content)
        body = answer.json()
        parses(body)
        assert (body["resourceType"], body["id"]) == (kind, resource_id)


def test_a_canonical_in_a_response_resolves_on_the_api(
    api_clinic: ApiClinic, headers: dict[str, str]
) -> None:
    qr = _get(reverse("fhir_read", args=["QuestionnaireResponse", api_clinic.risk.pk]), headers)
    url, _, version = qr.json()["questionnaire"].partition("|")
    path = url.removeprefix("http://127.0.0.1:8000")  # the test settings' ALLIANCE_SITE_URL
    questionnaire = _get(path, headers).json()
    assert (questionnaire["url"], questionnaire["version"]) == (url, version)
    found = _search("Questionnaire", headers, url=f"{url}|{version}")
    assert _ids(found) == ["phq9"]


def test_search_by_patient_date_questionnaire_and_code(
    api_clinic: ApiClinic, headers: dict[str, str]
) -> None:
    mine = _search("QuestionnaireResponse", headers, patient="Patient/C-APK3F")
    assert mine["total"] == 4
    assert set(_ids(_search("QuestionnaireResponse", headers, subject="C-XTW7Q"))) == {
        str(r)
        for r in Client.objects.get(code="C-XTW7Q")
        .episodes.get()
        .responses.values_list("pk", flat=True)
    }
    later = _search("QuestionnaireResponse", headers, patient="C-APK3F", authored="ge2025-03-10")
    assert _ids(later) == [str(api_clinic.calm.pk)]
    window = HttpClient().get(
        reverse("fhir_search", args=["Observation"]),
        [("patient", "C-APK3F"), ("date", "ge2025-03-03"), ("date", "le2025-03-03")],
        headers=headers,
    )
    assert window.status_code == 200
    assert str(api_clinic.calm.pk) + "-total" not in _ids(window.json())
    phq = _search(
        "QuestionnaireResponse",
        headers,
        questionnaire="http://127.0.0.1:8000/fhir/Questionnaire/phq9",
    )
    assert set(_ids(phq)) == {str(api_clinic.risk.pk), str(api_clinic.calm.pk)}
    totals = _search("Observation", headers, code="http://loinc.org|44261-6")
    assert set(_ids(totals)) == {f"{api_clinic.risk.pk}-total", f"{api_clinic.calm.pk}-total"}
    risk = _search("Observation", headers, code="44260-8")
    assert _ids(risk) == [f"{api_clinic.risk.pk}-risk-9"]
    updated = _search("Observation", headers, _lastUpdated="gt2025-03-10")
    assert _ids(updated) == [f"{api_clinic.calm.pk}-total"]
    patient = _search("Patient", headers, identifier="C-APK3F")
    assert _ids(patient) == ["C-APK3F"]


def test_paging_follows_next_links_to_every_result(
    api_clinic: ApiClinic, headers: dict[str, str]
) -> None:
    seen: list[str] = []
    page = _search("Observation", headers, _count=2)
    total = page["total"]
    while True:
        seen += _ids(page)
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = _get(following[0].removeprefix("http://testserver"), headers).json()
        parses(page)
    assert len(seen) == len(set(seen)) == total >= 5
    assert any(link["relation"] == "previous" for link in page["link"])


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("Observation", {"date": "2025-13-45"}, 400, "not a valid date"),
        ("Observation", {"date": "ap2025"}, 400, "not supported"),
        ("Observation", {"date": "2025-03-03T10:00:00"}, 400, "time zone"),
        ("Observation", {"colour": "blue"}, 400, "unknown search parameter"),
        ("Observation", {"_count": "0"}, 400, "_count"),
        ("Observation", {"_count": "many"}, 400, "_count"),
        ("Observation", {"_count": "1000"}, 400, "_count"),
        ("Observation", {"patient": "Observation/1"}, 400, "not a reference to a Patient"),
        ("Observation", {"patient": "C-1", "subject": "C-2"}, 400, "different patients"),
        ("Observation", {"_format": "xml"}, 400, "only JSON"),
        ("Practitioner", {"_lastUpdated": "ge2025"}, 400, "not supported"),
        ("Encounter", {}, 404, "not served here"),
        ("Patient/C-NOPE9", {}, 404, "not known"),
        ("QuestionnaireResponse/abc", {}, 404, "not known"),
        ("Observation/99999999-total", {}, 404, "not known"),
        ("Questionnaire/nope", {}, 404, "not known"),
        ("Patient/C-APK3F", {"_count": "2"}, 400, "takes no parameters"),
    ],
)
def test_bad_requests_get_a_clear_operation_outcome(
    api_clinic: ApiClinic, headers: dict[str, str], path: str, params: dict, status: int, words: str
) -> None:
    answer = _get(f"/fhir/{path}", headers, **params)
    assert answer.status_code == status
    body = answer.json()
    parses(body)
    assert body["resourceType"] == "OperationOutcome"
    assert words in body["issue"][0]["diagnostics"]


def test_no_credential_a_staff_session_or_a_bad_token_gets_401(api_clinic: ApiClinic) -> None:
    url = reverse("fhir_search", args=["Patient"])
    assert HttpClient().get(url).status_code == 401
    staff = HttpClient()
    staff.force_login(api_clinic.therapist)
    answer = staff.get(url)
    assert answer.status_code == 401 and "Marguerite" not in answer.content.decode()
    assert HttpClient().get(url, headers={"Authorization": "Bearer forged"}).status_code == 401
    assert HttpClient().get(url, headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_type_outside_the_scope_is_403(api_clinic: ApiClinic, system: System) -> None:
    narrow = credential(system, read_types=("Patient",))
    headers = bearer(system, narrow)
    assert _get(reverse("fhir_search", args=["Patient"]), headers).status_code == 200
    for path in (
        reverse("fhir_search", args=["Observation"]),
        reverse("fhir_read", args=["QuestionnaireResponse", api_clinic.risk.pk]),
    ):
        answer = _get(path, headers)
        assert answer.status_code == 403
        assert answer.json()["issue"][0]["code"] == "forbidden"


def test_narrowing_a_credential_applies_to_tokens_already_issued(
    api_clinic: ApiClinic, system: System, api_client: ApiClient, headers: dict[str, str]
) -> None:
    url = reverse("fhir_search", args=["Observation"])
    assert _get(url, headers).status_code == 200
    ApiClient.objects.filter(pk=api_client.pk).update(read_types=["Patient"])
    assert _get(url, headers).status_code == 403


def _every_answer(clinic: ApiClinic, headers: dict[str, str]) -> list[bytes]:
    bodies = []
    for kind in (
        "Patient",
        "Practitioner",
        "Questionnaire",
        "QuestionnaireResponse",
        "Observation",
    ):
        bundle = _search(kind, headers)
        bodies.append(json.dumps(bundle).encode())
        for entry in bundle["entry"]:
            answer = _get(reverse("fhir_read", args=[kind, entry["resource"]["id"]]), headers)
            assert answer.status_code == 200
            parses(answer.json())
            bodies.append(answer.content)
    return bodies


def test_nothing_the_api_returns_names_or_reaches_a_client(
    api_clinic: ApiClinic, headers: dict[str, str]
) -> None:
    secrets = [TYPED, api_clinic.therapist.email, api_clinic.therapist.first_name]
    for client in Client.objects.all():
        secrets += [client.name, client.email, client.phone, *client.name.split()]
    bodies = _every_answer(api_clinic, headers)
    assert len(bodies) > 10
    for body in bodies:
        for secret in secrets:
            assert secret.encode() not in body, secret


def test_every_call_is_audited_without_the_data(
    api_clinic: ApiClinic, api_client: ApiClient, headers: dict[str, str]
) -> None:
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    _search("Observation", headers, patient="C-APK3F", code="http://loinc.org|44261-6")
    _get(reverse("fhir_read", args=["Patient", "C-APK3F"]), headers)
    events = list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))
    search, read = events
    assert search.action == "fhirapi.search" and read.action == "fhirapi.read"
    assert search.actor_label == f"api:{api_client.client_id}" and search.actor is None
    assert search.client_id == api_clinic.client.pk and read.client_id == api_clinic.client.pk
    assert search.data["credential"] == api_client.client_id
    assert search.data["resource"] == "Observation" and search.data["count"] == 2
    assert search.data["params"] == {"patient": ["C-APK3F"]}
    assert search.data["withheld"] == ["code"]  # "|" is not a code's character: named, not kept
    # Nothing else: no score, no code value, no resource.
    assert set(search.data) == {"credential", "resource", "params", "withheld", "count", "total"}
    assert "44261-6" not in json.dumps(search.data)


def test_a_search_across_clients_records_one_event_per_client(
    api_clinic: ApiClinic, headers: dict[str, str]
) -> None:
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    _search("QuestionnaireResponse", headers)
    clients = set(
        AuditEvent.objects.exclude(pk__in=before)
        .filter(action="fhirapi.search")
        .values_list("client_id", flat=True)
    )
    assert clients == {api_clinic.client.pk, api_clinic.other.pk}


@pytest.mark.parametrize("kind", ["Patient", "QuestionnaireResponse", "Observation"])
def test_a_search_runs_as_many_queries_for_many_results_as_for_few(
    api_clinic: ApiClinic, headers: dict[str, str], kind: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories
    from tests.fhirapi.data import make_more_responses

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _search(kind, headers)
        return len(captured.captured_queries)

    few = queries()
    for n in range(6):
        factories.ClientFactory.create(code=f"C-MR{n}A{n}")
    make_more_responses(api_clinic, 6)
    assert queries() == few
