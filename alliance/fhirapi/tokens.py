"""SMART Backend Services: a client's signed assertion in, a short-lived bearer token out.

The client posts to /fhir/token (``grant_type=client_credentials``, ``client_assertion_type=
urn:ietf:params:oauth:client-assertion-type:jwt-bearer``, ``client_assertion=<JWT>``, ``scope``).
The JWT is checked with PyJWT against the public keys the administrator registered: signed RS384 or
ES384 (the algorithms SMART requires servers to support), ``iss`` = ``sub`` = the client id, ``aud`` =
this token URL, ``exp`` at most five minutes ahead, and a ``jti`` never seen before (kept until the
assertion expires, so a captured assertion cannot be replayed). The token is 256 random bits, stored
as a digest, valid for five minutes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.fhirapi import scopes
from alliance.fhirapi.models import AccessToken, ApiClient, UsedAssertion, token_digest

ALGORITHMS = ("RS384", "ES384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_LIFETIME = timedelta(minutes=5)
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
LEEWAY = timedelta(seconds=60)  # clocks of two servers disagree a little


class TokenError(Exception):
    """An OAuth error (RFC 6749 section 5.2): `error` code and a description."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Issued:
    token: str
    expires_in: int
    scope: str
    client: ApiClient


def check_jwks(value: Any) -> list[jwt.PyJWK]:
    """The usable public keys of a JWKS; ValueError says what is wrong with it."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise ValueError('a JWKS is a JSON object with a non-empty "keys" list')
    keys = []
    for index, data in enumerate(value["keys"], 1):
        if not isinstance(data, dict):
            raise ValueError(f"key {index} is not a JSON object")
        if "d" in data or "p" in data:
            raise ValueError(
                f"key {index} is a private key: register only the public key, keep the private one"
            )
        if data.get("kty") not in ("RSA", "EC"):
            raise ValueError(f"key {index}: kty must be RSA or EC")
        try:
            key = jwt.PyJWK(
                data, algorithm=data.get("alg") or ("RS384" if data["kty"] == "RSA" else "ES384")
            )
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"key {index} cannot be read ({exc})") from exc
        if key.algorithm_name not in ALGORITHMS:
            raise ValueError(f"key {index}: alg must be RS384 or ES384")
        keys.append(key)
    return keys


def claimed_client(assertion: str) -> str | None:
    """The client id an assertion claims (its unverified ``iss``), for the audit of a refusal."""
    try:
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return str(issuer) if issuer else None


def _client_for(assertion: str) -> tuple[ApiClient, dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenError(
            "invalid_client", f"the client assertion is not a JWT ({exc})", 401
        ) from exc
    issuer = claims.get("iss")
    client = ApiClient.objects.filter(client_id=str(issuer)).first() if issuer else None
    if client is None:
        raise TokenError("invalid_client", "no credential has this client id (iss)", 401)
    if not client.is_usable():
        raise TokenError("invalid_client", "this credential has been revoked or has expired", 401)
    return client, header


def _verify(
    assertion: str, client: ApiClient, header: dict[str, Any], audiences: list[str]
) -> dict[str, Any]:
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise TokenError("invalid_client", "the assertion must be signed with RS384 or ES384", 401)
    try:
        keys = check_jwks(client.jwks)
    except ValueError as exc:
        raise TokenError(
            "invalid_client", f"the registered key set is unusable: {exc}", 401
        ) from exc
    kid = header.get("kid")
    candidates = [
        k for k in keys if (kid is None or k.key_id == kid) and k.algorithm_name == algorithm
    ]
    if not candidates:
        raise TokenError(
            "invalid_client", "no registered key matches the assertion's kid and alg", 401
        )
    last: Exception | None = None
    for key in candidates:
        try:
            return jwt.decode(
                assertion,
                key.key,
                algorithms=[algorithm],
                audience=audiences,
                issuer=client.client_id,
                leeway=LEEWAY,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.InvalidSignatureError as exc:
            last = exc
        except jwt.PyJWTError as exc:
            raise TokenError(
                "invalid_client", f"the client assertion was refused: {exc}", 401
            ) from exc
    raise TokenError("invalid_client", f"the client assertion was refused: {last}", 401)


def issue(form: dict[str, str], *, audiences: list[str], now: datetime | None = None) -> Issued:
    """Check a token request (already through `TokenRequestForm`) and issue a token."""
    moment = now or timezone.now()
    client, header = _client_for(form["client_assertion"])
    claims = _verify(form["client_assertion"], client, header, audiences)
    if claims.get("sub") != client.client_id:
        raise TokenError("invalid_client", "sub must equal iss (the client id)", 401)
    expires = datetime.fromtimestamp(int(claims["exp"]), tz=moment.tzinfo)
    if expires - moment > MAX_ASSERTION_LIFETIME + LEEWAY:
        raise TokenError("invalid_client", "the assertion must expire within five minutes", 401)
    try:
        asked = scopes.parse(form["scope"])
    except scopes.ScopeError as exc:
        raise TokenError("invalid_scope", str(exc)) from exc
    granted = asked & client.allowed_scopes
    if not granted:
        raise TokenError(
            "invalid_scope", "none of the requested scopes is allowed to this credential"
        )
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            UsedAssertion.objects.filter(expires_at__lt=moment - LEEWAY).delete()
            UsedAssertion.objects.create(
                client=client, jti=str(claims["jti"])[:255], expires_at=expires
            )
            AccessToken.objects.filter(expires_at__lt=moment).delete()
            AccessToken.objects.create(
                client=client,
                digest=token_digest(token),
                scopes=sorted([list(pair) for pair in granted]),
                created_at=moment,
                expires_at=moment + TOKEN_LIFETIME,
            )
    except IntegrityError as exc:
        raise TokenError("invalid_client", "this assertion (jti) was used already", 401) from exc
    return Issued(token, int(TOKEN_LIFETIME.total_seconds()), scopes.render(granted), client)


@dataclass(frozen=True)
class Caller:
    """Who is calling the API, and what their token allows."""

    client: ApiClient
    grant: frozenset[tuple[str, str]]

    def may(self, kind: str, interaction: str) -> bool:
        return (kind, interaction) in self.grant


def authenticate(authorization: str, *, now: datetime | None = None) -> Caller | None:
    """The caller of an ``Authorization: Bearer <token>`` header, or None (401)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    moment = now or timezone.now()
    row = (
        AccessToken.objects.select_related("client")
        .filter(digest=token_digest(token.strip()), expires_at__gt=moment)
        .first()
    )
    if row is None or not row.client.is_usable(moment):
        return None
    # A grant is cut to what the credential allows now: an administrator's narrowing applies at once.
    grant = {(str(k), str(op)) for k, op in row.scopes} & row.client.allowed_scopes
    return Caller(row.client, frozenset(grant))
