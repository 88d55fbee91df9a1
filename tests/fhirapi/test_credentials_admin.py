"""The administrator's credential pages: create, scope, revoke; forms, submit-once, audit."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent, Role
from alliance.fhirapi.models import AccessToken, ApiClient
from tests import factories
from tests.conftest import with_totp
from tests.fhirapi.conftest import System, bearer


@pytest.fixture
def admin_http(db: None) -> HttpClient:
    admin = with_totp(
        factories.UserFactory.create(email="admin@clinic.test", role=Role.ADMINISTRATOR)
    )
    http = HttpClient()
    http.force_login(admin)
    return http


def _form(system: System, **changes: Any) -> dict[str, Any]:
    return {
        "submission_id": str(uuid.uuid4()),
        "name": "Clinic EHR",
        "read_types": ["Patient", "Observation"],
        "jwks": json.dumps(system.jwks),
        **changes,
    }


def test_an_administrator_creates_a_scoped_credential_once(
    admin_http: HttpClient, system: System
) -> None:
    data = _form(system)
    first = admin_http.post(reverse("api_credential_create"), data)
    again = admin_http.post(reverse("api_credential_create"), data)  # a double click
    assert first.status_code == again.status_code == 302
    credential = ApiClient.objects.get()
    assert credential.read_types == ["Patient", "Observation"] and not credential.can_import
    event = AuditEvent.objects.get(action="fhirapi.credential.created")
    assert event.actor_label == "admin@clinic.test"
    assert event.data["read"] == ["Observation", "Patient"]
    page = admin_http.get(reverse("api_credential_list")).content.decode()
    assert credential.client_id in page
    # The credential works at once, and only for what it was given.
    headers = bearer(system, credential)
    assert HttpClient().get("/fhir/Patient", headers=headers).status_code == 200
    assert HttpClient().get("/fhir/Questionnaire", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jwks": "{not json"}, "not JSON"),
        ({"jwks": json.dumps({"keys": []})}, "non-empty"),
        ({"read_types": []}, "at least one permission"),
        ({"read_types": ["Encounter"]}, "Select a valid choice"),
        ({"name": ""}, "required"),
        ({"expires_at": "2001-01-01 00:00"}, "in the future"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    admin_http: HttpClient, system: System, changes: dict[str, Any], message: str
) -> None:
    page = admin_http.post(reverse("api_credential_create"), _form(system, **changes))
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not ApiClient.objects.exists()


def test_a_private_key_is_refused(admin_http: HttpClient, system: System) -> None:
    import jwt

    private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(system.private_key))
    page = admin_http.post(
        reverse("api_credential_create"), _form(system, jwks=json.dumps({"keys": [private]}))
    )
    assert "private key" in page.content.decode()
    assert not ApiClient.objects.exists()


def test_revoking_is_audited_and_ends_its_tokens(admin_http: HttpClient, system: System) -> None:
    admin_http.post(reverse("api_credential_create"), _form(system))
    credential = ApiClient.objects.get()
    headers = bearer(system, credential)
    answer = admin_http.post(
        reverse("api_credential_revoke", args=[credential.pk]),
        {"submission_id": str(uuid.uuid4())},
    )
    assert answer.status_code == 302
    credential.refresh_from_db()
    assert credential.revoked_at is not None and not AccessToken.objects.exists()
    assert AuditEvent.objects.filter(action="fhirapi.credential.revoked").count() == 1
    assert HttpClient().get("/fhir/Patient", headers=headers).status_code == 401


def test_changing_the_scopes_is_audited(admin_http: HttpClient, system: System) -> None:
    admin_http.post(reverse("api_credential_create"), _form(system))
    credential = ApiClient.objects.get()
    admin_http.post(
        reverse("api_credential_edit", args=[credential.pk]),
        _form(system, read_types=["Patient"], can_import="on"),
    )
    credential.refresh_from_db()
    assert credential.read_types == ["Patient"] and credential.can_import
    event = AuditEvent.objects.get(action="fhirapi.credential.changed")
    assert event.data["import"] is True and "read_types" in event.data["fields"]
