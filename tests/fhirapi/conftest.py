"""Fixtures for the FHIR API: a system with a key pair, its credential, and tokens got the SMART way."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client as HttpClient
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from alliance.fhirapi.models import RESOURCE_TYPES, ApiClient

TOKEN_URL = "http://testserver/fhir/token"


@dataclass
class System:
    """One of the clinic's systems: its private key stays here, its public key is registered."""

    algorithm: str = "ES384"
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    private_key: Any = None

    def __post_init__(self) -> None:
        if self.algorithm == "ES384":
            self.private_key = ec.generate_private_key(ec.SECP384R1())
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def jwks(self) -> dict[str, Any]:
        algo = (
            jwt.algorithms.ECAlgorithm if self.algorithm == "ES384" else jwt.algorithms.RSAAlgorithm
        )
        key = json.loads(algo.to_jwk(self.private_key.public_key()))
        key.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return {"keys": [key]}

    def assertion(self, client_id: str, *, audience: str = TOKEN_URL, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "exp": now + 240,
            "jti": uuid.uuid4().hex,
            **overrides,
        }
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": self.kid}
        )


def credential(
    system: System, *, read_types: tuple[str, ...] = RESOURCE_TYPES, can_import: bool = False
) -> ApiClient:
    return ApiClient.objects.create(
        name="Clinic EHR", jwks=system.jwks, read_types=list(read_types), can_import=can_import
    )


def token_response(
    http: HttpClient, system: System, client: ApiClient, scope: str = "system/*.rs", **claims: Any
) -> Any:
    return http.post(
        reverse("fhir_token"),
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": system.assertion(client.client_id, **claims),
            "scope": scope,
        },
    )


def bearer(system: System, client: ApiClient, scope: str = "system/*.rs") -> dict[str, str]:
    """Headers carrying a fresh access token."""
    answer = token_response(HttpClient(), system, client, scope)
    assert answer.status_code == 200, answer.content
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def parses(body: dict[str, Any]) -> None:
    """Raises unless the answer is a valid FHIR R4(B) resource."""
    get_fhir_model_class(body["resourceType"]).model_validate(body)


@pytest.fixture
def system() -> System:
    return System()


@pytest.fixture
def api_client(db: None, system: System) -> ApiClient:
    return credential(system)


@pytest.fixture
def headers(system: System, api_client: ApiClient) -> dict[str, str]:
    return bearer(system, api_client)
