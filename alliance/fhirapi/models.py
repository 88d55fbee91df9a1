"""Per-system API credentials, their short-lived access tokens, and bulk export jobs."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

#: Resource types the API serves, in the order the administrator's form lists them.
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
)


def new_client_id() -> str:
    return f"alliance-{secrets.token_hex(8)}"


def token_digest(token: str) -> str:
    """Tokens are stored as SHA-256 digests: a copy of the database holds no usable token. (A
    random 256-bit token needs no slow hash: there is nothing to guess.)"""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(models.Model):
    """One of the clinic's systems (an EHR, a data warehouse) allowed to use the FHIR API.

    It proves who it is with a JWT signed by a private key it keeps; Alliance holds only the public
    key set (SMART Backend Services). What it may do is its scopes: read (read and search) of the
    chosen resource types, and import of QuestionnaireResponses."""

    name = models.CharField(max_length=80)
    client_id = models.CharField(max_length=64, unique=True, default=new_client_id)
    jwks = models.JSONField(default=dict)
    read_types = models.JSONField(default=list)
    can_import = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.client_id

    def is_usable(self, now: Any | None = None) -> bool:
        moment = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > moment

    @property
    def allowed_scopes(self) -> set[tuple[str, str]]:
        """(resource type, interaction) pairs: r read, s search, c create."""
        allowed = {(kind, op) for kind in self.read_types for op in ("r", "s")}
        if self.can_import:
            allowed |= {("QuestionnaireResponse", "c"), ("Bundle", "c")}
        return allowed


class AccessToken(models.Model):
    """A bearer token issued at /fhir/token, valid for a few minutes."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)  # [[type, interaction], ...]
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=("expires_at",))]

    def __str__(self) -> str:
        return f"token of {self.client_id}"


class UsedAssertion(models.Model):
    """A client assertion's `jti`, kept until the assertion expires: a replayed one is refused."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("client", "jti"), name="unique_assertion_jti")
        ]

    def __str__(self) -> str:
        return self.jti


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


class BulkExport(models.Model):
    """A bulk `$export` asked for by one client: NDJSON files in the data directory, kept a day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="exports")
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=1000)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # [{"type": "Patient", "file": "Patient.ndjson", "count": 12}, ...]
    output = models.JSONField(default=list)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"export {self.pk}"
