"""What the running installation keeps about itself: emails on their way out and which background
processes are alive. Neither holds clinical content in the clear (addresses, subjects and bodies are
encrypted like every other free text)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from alliance.core.fields import EncryptedTextField


class EmailKind(models.TextChoices):
    CHECKIN_LINK = "checkin_link", gettext_lazy("Check-in link")
    REMINDER = "reminder", gettext_lazy("Appointment reminder")
    MEASURE_NUDGE = "measure_nudge", gettext_lazy("Second reminder: before-session measure")
    ALERT_URGENT = "alert_urgent", gettext_lazy("Urgent alert")
    ALERT_IMMEDIATE = "alert_immediate", gettext_lazy("Alert")
    ALERT_DIGEST = "alert_digest", gettext_lazy("Daily alert digest")
    ESCALATION_SUPERVISOR = "escalation_supervisor", gettext_lazy("Risk escalation to supervisor")
    ESCALATION_ADMINISTRATOR = (
        "escalation_administrator",
        gettext_lazy("Risk escalation to administrators"),
    )
    CONCERN = "concern", gettext_lazy("Client concern")


class EmailStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Waiting to be sent")
    SENDING = "sending", gettext_lazy("Being sent")
    SENT = "sent", gettext_lazy("Sent")
    FAILED = "failed", gettext_lazy("Gave up after retries")
    UNCERTAIN = "uncertain", gettext_lazy("Sender stopped mid-send; not resent")
    CANCELLED = "cancelled", gettext_lazy("No longer needed")


class OutboundEmail(models.Model):
    """One email Alliance means to send, exactly once.

    `key` names the message (for example ``reminder:<appointment>:<scheduled time>``), so asking twice
    for the same message stores it once. A sender claims a row with a conditional UPDATE
    (pending -> sending), so two workers on two servers never both send it. See
    alliance.operations.outbox for the retry and recovery rules.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=EmailKind.choices)
    recipients = EncryptedTextField()  # one address per line
    subject = EncryptedTextField()
    body = EncryptedTextField()
    status = models.CharField(
        max_length=12, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=120, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The exception class and a short message; never an address or a body.
    last_error = models.CharField(max_length=300, blank=True)
    # What the message is about, so that a reminder for a cancelled appointment is not sent and the
    # audit trail can name the client. Plain ids, not foreign keys: the outbox outlives its subjects.
    client_id = models.BigIntegerField(null=True, blank=True)
    appointment_id = models.BigIntegerField(null=True, blank=True)
    alert_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at",)
        indexes: ClassVar = [models.Index(fields=("status", "not_before"))]

    def __str__(self) -> str:
        return f"{self.kind} email {self.key} ({self.status})"


class ProcessRole(models.TextChoices):
    WORKER = "worker", gettext_lazy("Job worker")
    SCHEDULER = "scheduler", gettext_lazy("Scheduler")


class Heartbeat(models.Model):
    """A background process says it is alive. `alliance check`, /health and the administrator's clinic
    page read these to say loudly when no worker or scheduler has run recently."""

    name = models.CharField(max_length=200, unique=True)  # role:host:pid
    role = models.CharField(max_length=12, choices=ProcessRole.choices)
    host = models.CharField(max_length=120)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.name
