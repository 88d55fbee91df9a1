"""SMART Backend Services at /fhir/token: who gets a token, for what, and for how long."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.fhirapi.models import AccessToken, ApiClient
from tests.fhirapi.conftest import System, bearer, credential, token_response


@pytest.mark.parametrize("algorithm", ["ES384", "RS384"])
def test_a_signed_assertion_buys_a_short_lived_token(db: None, algorithm: str) -> None:
    system = System(algorithm)
    client = credential(system, read_types=("Patient", "Observation"))
    answer = token_response(
        HttpClient(), system, client, "system/Patient.rs system/Observation.read"
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    assert body["scope"] == "system/Observation.rs system/Patient.rs"
    assert answer["Cache-Control"] == "no-store"
    stored = AccessToken.objects.get()
    assert stored.digest != body["access_token"]  # only a digest is kept
    assert (stored.expires_at - stored.created_at).total_seconds() == 300
    event = AuditEvent.objects.get(action="fhirapi.token.issued")
    assert event.actor_label == f"api:{client.client_id}"


def test_the_grant_is_cut_to_what_the_credential_allows(db: None, system: System) -> None:
    client = credential(system, read_types=("Patient",))
    answer = token_response(HttpClient(), system, client, "system/*.read")
    assert answer.json()["scope"] == "system/Patient.rs"
    refused = token_response(HttpClient(), system, client, "system/Observation.rs")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"audience": "https://elsewhere.example/token"}, "invalid_client"),
        ({"exp": int(time.time()) - 600}, "invalid_client"),
        ({"exp": int(time.time()) + 3600}, "invalid_client"),  # longer than five minutes
        ({"sub": "someone-else"}, "invalid_client"),
    ],
)
def test_a_bad_assertion_is_refused(db: None, system: System, change: dict, error: str) -> None:
    client = credential(system)
    answer = token_response(HttpClient(), system, client, **change)
    assert answer.status_code == 401
    assert answer.json()["error"] == error
    assert not AccessToken.objects.exists()
    refused = AuditEvent.objects.get(action="fhirapi.token.refused")
    assert refused.data == {"error": error, "client_id": client.client_id}


def test_an_assertion_signed_by_another_key_is_refused(db: None, system: System) -> None:
    client = credential(system)
    impostor = System(kid=system.kid)
    answer = token_response(HttpClient(), impostor, client)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_an_assertion_cannot_be_replayed(db: None, system: System) -> None:
    client = credential(system)
    assertion = system.assertion(client.client_id)
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
        "scope": "system/*.rs",
    }
    assert HttpClient().post(reverse("fhir_token"), data).status_code == 200
    again = HttpClient().post(reverse("fhir_token"), data)
    assert again.status_code == 401 and "used already" in again.json()["error_description"]


def test_a_revoked_or_expired_credential_gets_no_token(db: None, system: System) -> None:
    client = credential(system)
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    assert token_response(HttpClient(), system, client).status_code == 401
    other = credential(system)
    ApiClient.objects.filter(pk=other.pk).update(expires_at=timezone.now())
    assert token_response(HttpClient(), system, other).status_code == 401


def test_a_malformed_token_request_says_what_is_missing(db: None) -> None:
    answer = HttpClient().post(reverse("fhir_token"), {"grant_type": "password"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_request"
    assert (
        "client_assertion" in body["error_description"]
        and "grant_type" in body["error_description"]
    )
    garbage = HttpClient().post(
        reverse("fhir_token"),
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "not.a.jwt",
            "scope": "system/*.rs",
        },
    )
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_client"


def test_a_malformed_scope_is_refused(db: None, system: System) -> None:
    client = credential(system)
    answer = token_response(HttpClient(), system, client, "patient/*.read")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"


def test_revoking_ends_the_tokens_already_issued(db: None, system: System) -> None:
    client = credential(system)
    headers = bearer(system, client)
    url = reverse("fhir_search", args=["Patient"])
    assert HttpClient().get(url, headers=headers).status_code == 200
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    answer = HttpClient().get(url, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_credential_that_expires_ends_its_tokens(db: None, system: System) -> None:
    client = credential(system)
    headers = bearer(system, client)
    url = reverse("fhir_read", args=["Questionnaire", "phq9"])
    assert HttpClient().get(url, headers=headers).status_code == 200
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now())
    answer = HttpClient().get(url, headers=headers)
    assert answer.status_code == 401 and answer.json()["issue"][0]["code"] == "login"


def test_a_token_lasts_five_minutes(db: None, system: System) -> None:
    import time_machine

    client = credential(system)
    headers = bearer(system, client)
    url = reverse("fhir_read", args=["Questionnaire", "phq9"])
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=4, seconds=50)):
        assert HttpClient().get(url, headers=headers).status_code == 200
    with time_machine.travel(start + timedelta(minutes=5, seconds=10)):
        assert HttpClient().get(url, headers=headers).status_code == 401
