from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from alliance.care.models import Appointment, Episode
from alliance.core.fields import EncryptedTextField


class CheckinLink(models.Model):
    """One client's access to the forms of one appointment. The token itself is never stored."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="checkin_links"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    # Emailed to the client (never the address: it is read from the client's record when sending).
    sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Check-in link {self.pk} for appointment {self.appointment_id}"

    @property
    def audit_client_id(self) -> int:
        return self.appointment.episode.client_id

    def is_expired(self, at: datetime | None = None) -> bool:
        return (at or timezone.now()) >= self.expires_at

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ConcernStatus(models.TextChoices):
    NEW = "new", gettext_lazy("New")
    IN_HAND = "in_hand", gettext_lazy("Being looked into")
    CLOSED = "closed", gettext_lazy("Closed")


class Concern(models.Model):
    """A client's concern about their therapy or therapist, addressed to the clinic.

    It goes to the therapist's supervisors and the administrators, never to the therapist: a client must
    be able to say they feel unsafe without saying it to the person concerned.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="concerns")
    link = models.ForeignKey(
        CheckinLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedTextField()
    feels_unsafe = models.BooleanField(default=False)
    wants_contact = models.BooleanField(default=False)
    contact = EncryptedTextField(blank=True, default="")
    status = models.CharField(
        max_length=10, choices=ConcernStatus.choices, default=ConcernStatus.NEW
    )
    created_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar = [models.Index(fields=("status", "created_at"))]

    def __str__(self) -> str:
        return f"Concern {self.pk}"

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id
