from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class Role(models.TextChoices):
    THERAPIST = "therapist", gettext_lazy("Therapist")
    SUPERVISOR = "supervisor", gettext_lazy("Supervisor")
    ADMINISTRATOR = "administrator", gettext_lazy("Administrator")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.ADMINISTRATOR)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class AlertEmails(models.TextChoices):
    """How a member of staff hears of non-urgent alerts by email. Urgent (risk) alerts are always sent
    at once, whatever is chosen here: a risk answer must reach a human."""

    DIGEST = "digest", gettext_lazy("One email a day listing new alerts")
    IMMEDIATE = "immediate", gettext_lazy("An email for each new alert")
    NONE = "none", gettext_lazy("No email for non-urgent alerts")


class User(AbstractUser):
    """A member of staff. Clients never have accounts: they answer through one-time links."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(gettext_lazy("email address"), unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.THERAPIST)
    alert_emails = models.CharField(
        max_length=10, choices=AlertEmails.choices, default=AlertEmails.DIGEST
    )
    # The language of this person's pages (and of emails to them). Empty: the browser's language
    # (Accept-Language), as on the sign-in page. alliance.accounts.language activates it.
    language = models.CharField(
        gettext_lazy("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ("last_name", "first_name")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def is_clinician(self) -> bool:
        """Therapists and supervisors see clinical data; administrators never see free text."""
        return self.role in (Role.THERAPIST, Role.SUPERVISOR)


class Supervision(models.Model):
    """A supervisor supervises a therapist: they see the therapist's caseload and shared reflections."""

    supervisor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisee_links")
    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisor_links")
    since = models.DateField(default=timezone.localdate)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("supervisor", "therapist"), name="unique_supervision"),
        ]

    def __str__(self) -> str:
        return f"{self.supervisor} supervises {self.therapist}"


class AuditEvent(models.Model):
    """An append-only record of who read or changed what, when, in which request.

    Never holds free text: `data` carries ids, field names and scores only (see alliance.accounts.audit).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A snapshot, so that the trail survives the account being deleted or renamed.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    client_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Not indexed: no page or export filters by it, and each index is written for every event (a
    # caseload view records 50 to 80 reads; on PostgreSQL a CharField's index is two, the second for
    # LIKE). To find the events of a request id from the logs, narrow by `at` (indexed) first:
    # the log line carries its time (docs/deployment.md, Logs).
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")


class FormSubmission(models.Model):
    """One accepted submission of a staff form, by the random id the form carried (see
    alliance.core.once). A second POST of the same form (a double click, a resent request after a
    timeout) finds its id here and stores nothing more."""

    submission_id = models.UUIDField(unique=True)
    user = models.ForeignKey(User, null=True, on_delete=models.CASCADE, related_name="+")
    form = models.CharField(max_length=60)
    # Where the first submission went, so a repeat can go there too.
    redirect_to = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.form} submission {self.submission_id}"
