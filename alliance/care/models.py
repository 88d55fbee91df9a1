"""The therapy practice: clients, episodes of care, appointments, responses, reflections, alerts.

Free text (names, contact details, goals, notes, open answers) is encrypted at rest; scores, dates and
codes stay in plain columns so that they can be queried and aggregated.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from alliance.alerts.lifecycle import is_quiet
from alliance.core.fields import EncryptedJSONField, EncryptedTextField


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class Client(models.Model):
    """A person in therapy. The code is what appears in lists, exports and URLs; the name never does."""

    code = models.CharField(max_length=16, unique=True)
    name = EncryptedTextField()
    email = EncryptedTextField(blank=True, default="")
    phone = EncryptedTextField(blank=True, default="")
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # The client agreed to receive check-in links by email. Without it no link is ever emailed: the
    # therapist copies it or shows its QR code instead.
    email_consent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return self.code

    @property
    def audit_client_id(self) -> int:
        return self.pk


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    ENDED = "ended", gettext_lazy("Ended")


class EndReason(models.TextChoices):
    PLANNED = "planned", gettext_lazy("Planned ending")
    DROPOUT = "dropout", gettext_lazy("Client dropped out")
    TRANSFERRED = "transferred", gettext_lazy("Transferred")
    OTHER = "other", gettext_lazy("Other")


def default_outcome_instruments() -> list[str]:
    return ["phq9", "gad7"]


class Episode(models.Model):
    """A course of care: one client with one therapist, from first to last session."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="episodes"
    )
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE
    )
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    # Which outcome measures the client answers before each session (instrument ids).
    outcome_instruments = models.JSONField(default=default_outcome_instruments)
    # Goal-Based Outcomes are asked at session 1 and every `gbo_every` sessions after it (1, 5, 9 ...
    # with the default 4); 0 means never.
    gbo_every = models.PositiveSmallIntegerField(default=4)
    # Written with the client at the ending, for their own summary ("what we learned together").
    learned_together = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-started_on", "-id")
        indexes: ClassVar = [models.Index(fields=("therapist", "status"))]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status="active", ended_on__isnull=True, end_reason="")
                | Q(status="ended", ended_on__isnull=False) & ~Q(end_reason=""),
                name="episode_end_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client.code} episode from {self.started_on:%Y-%m-%d}"

    @property
    def audit_client_id(self) -> int:
        return self.client_id

    @property
    def is_active(self) -> bool:
        return self.status == EpisodeStatus.ACTIVE


class Goal(models.Model):
    """One of up to three goals, in the client's own words (rated by Goal-Based Outcomes)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="goals")
    number = models.PositiveSmallIntegerField()
    description = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("episode", "number")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("episode", "number"), name="unique_goal_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=3), name="goal_number_1_to_3"
            ),
        ]

    def __str__(self) -> str:
        return f"Goal {self.number}"

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id


class GoalRevision(models.Model):
    """An earlier wording of a goal. Editing a goal keeps what it said before, and when it changed, so
    that Goal-Based Outcomes ratings stay readable against the goal as it was then."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="revisions")
    description = EncryptedTextField()
    # From when the old wording applied (the goal's created_at or the previous revision's end).
    valid_from = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("goal", "replaced_at")

    def __str__(self) -> str:
        return f"Earlier wording of goal {self.goal_id}"

    @property
    def audit_client_id(self) -> int:
        return self.goal.episode.client_id


class Attendance(models.TextChoices):
    SCHEDULED = "scheduled", gettext_lazy("Scheduled")
    ATTENDED = "attended", gettext_lazy("Attended")
    CANCELLED = "cancelled", gettext_lazy("Cancelled with notice")
    LATE_CANCEL = "late_cancel", gettext_lazy("Late cancellation")
    NO_SHOW = "no_show", gettext_lazy("No-show")


class Appointment(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="appointments")
    scheduled_at = models.DateTimeField()
    session_number = models.PositiveSmallIntegerField()
    attendance = models.CharField(
        max_length=12, choices=Attendance.choices, default=Attendance.SCHEDULED
    )
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(default=50)
    # Set when a session is moved: where it was, so the therapist's agenda can say so.
    moved_from = models.DateTimeField(null=True, blank=True)
    # The last check-in of an episode may also ask what the client will take with them.
    is_final = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("episode", "session_number")
        indexes: ClassVar = [
            models.Index(fields=("scheduled_at",)),
            # Serves the caseload's next appointment and sessions-attended count per episode. The id is
            # included (PostgreSQL; SQLite's indexes hold the rowid anyway) so that COUNT(id) is read
            # from the index alone: without it, counting 88 attended sessions for each of 50 rows read
            # the appointment rows themselves, a third of the caseload's time in PostgreSQL.
            models.Index(
                fields=("episode", "attendance", "scheduled_at"),
                include=("id",),
                name="care_appointment_episode_idx",
            ),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("episode", "session_number"), name="unique_session_number"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.session_number} on {self.scheduled_at:%Y-%m-%d}"

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id


class Respondent(models.TextChoices):
    CLIENT = "client", gettext_lazy("Client")
    THERAPIST = "therapist", gettext_lazy("Therapist")


class ResponseSource(models.TextChoices):
    CHECKIN = "checkin", gettext_lazy("Client check-in link")
    THERAPIST = "therapist", gettext_lazy("Entered by the therapist")
    IMPORT = "import", gettext_lazy("Imported")
    DEMO = "demo", gettext_lazy("Demo data")


class Response(models.Model):
    """One completed instrument. Scores are computed by alliance.measures when the response is saved
    and stored with the instrument version used, so that a later change to an instrument never
    rewrites history."""

    # Neither key has an index of its own: the episode's is the first column of
    # care_response_episode_idx and the appointment's of one_response_per_appointment (partial, but
    # `appointment_id = x` implies its condition, on SQLite and PostgreSQL alike). Two indexes fewer
    # to update on every check-in submission, inside the transaction other submissions wait for
    # (issue 10, point 6).
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        db_index=False,
    )
    instrument = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=20)
    respondent = models.CharField(max_length=10, choices=Respondent.choices)
    # Numeric and choice answers, keyed by item linkId. Free-text answers go to `open_answers`.
    answers = models.JSONField(default=dict)
    open_answers = EncryptedJSONField(null=True, blank=True)
    # Whether a free-text answer says something to act on (not just "Nothing, thanks"; see
    # alliance.care.comments), so that the alert rules know without decrypting the text.
    has_comment = models.BooleanField(default=False)
    scorable = models.BooleanField(default=True)
    # No index of its own (nor has submitted_by): nothing looks responses up by either alone (the
    # episode's index holds the total for the caseload), and each was one more page to write on
    # every check-in submission, while the transaction held SQLite's one writer (issue 10, point 6).
    # A therapist's account is never deleted, only deactivated; deleting one (the admin site) sets
    # its responses' submitted_by to NULL with a scan of the table.
    total = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    above_cutoff = models.BooleanField(null=True)
    risk = models.BooleanField(default=False)
    # The full scoring result (subscales, missing-item handling, risk flags) as alliance.measures
    # returned it.
    score = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source = models.CharField(max_length=10, choices=ResponseSource.choices)
    # An imported FHIR QuestionnaireResponse (alliance.care.fhir_responses): where it came from (the
    # file name or the sending system) and its resource id, which imports it once, whatever file
    # or system brings it again.
    import_source = models.CharField(max_length=200, blank=True, default="")
    import_id = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ("episode", "submitted_at")
        indexes: ClassVar = [
            # The caseload's first and latest scores per episode and instrument read the index alone
            # on PostgreSQL (respondent, scorable and total included; SQLite ignores `include`):
            # otherwise each of the five figures of each of a page's 50 rows read a row of the table.
            models.Index(
                fields=("episode", "instrument", "submitted_at"),
                include=("respondent", "scorable", "total"),
                name="care_response_episode_idx",
            )
        ]
        constraints: ClassVar = [
            # One response per appointment, instrument and respondent: a retried submission can
            # never store a second one.
            models.UniqueConstraint(
                fields=("appointment", "instrument", "respondent"),
                condition=Q(appointment__isnull=False),
                name="one_response_per_appointment",
            ),
            # An imported resource is stored once, even when two imports of it race.
            models.UniqueConstraint(
                fields=("import_id",),
                condition=~Q(import_id=""),
                name="one_response_per_imported_resource",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total}"

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id


class Reflection(models.Model):
    """The therapist's private note on a session: their own reactions, questions for supervision.

    `reactions` maps a reaction code (alliance.alerts.reactions.REACTIONS) to an intensity 1-3; it is
    structured, like a score, so it stays queryable across clients. The free text is encrypted.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="reflections")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="reflections"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reflections"
    )
    text = EncryptedTextField(blank=True, default="")
    reactions = models.JSONField(default=dict, blank=True)
    shared_with_supervisor = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            # One reflection per session (the form edits it); free-standing ones have no appointment.
            models.UniqueConstraint(
                fields=("appointment",),
                condition=Q(appointment__isnull=False),
                name="one_reflection_per_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"Reflection {self.pk}"

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id


class AlertKind(models.TextChoices):
    RISK = "risk", gettext_lazy("Risk")
    RUPTURE = "rupture", gettext_lazy("Rupture")
    EARLY_WEAK_ALLIANCE = "early_weak_alliance", gettext_lazy("Early weak alliance")
    PERSPECTIVE_GAP = "perspective_gap", gettext_lazy("Perspective gap")
    NOT_ON_TRACK = "not_on_track", gettext_lazy("Not on track")
    DETERIORATION = "deterioration", gettext_lazy("Reliable deterioration")
    DISENGAGEMENT = "disengagement", gettext_lazy("Disengagement")


class AlertSeverity(models.TextChoices):
    URGENT = "urgent", gettext_lazy("Urgent")
    RED = "red", gettext_lazy("Red")
    YELLOW = "yellow", gettext_lazy("Yellow")
    INFO = "info", gettext_lazy("Information")


class AlertStatus(models.TextChoices):
    OPEN = "open", gettext_lazy("Open")
    ACKNOWLEDGED = "acknowledged", gettext_lazy("Acknowledged")
    REPAIR_DISCUSSED = "repair_discussed", gettext_lazy("Repair discussed")
    REPAIRED = "repaired", gettext_lazy("Repaired")
    UNRESOLVED = "unresolved", gettext_lazy("Unresolved")
    CLOSED = "closed", gettext_lazy("Closed")


class Alert(models.Model):
    """Something the therapist would otherwise miss, with the numbers that raised it.

    `key` identifies "the same alert" across recomputations (see alliance.alerts), so recomputing never
    duplicates an alert or loses its notes.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="alerts")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # Generated from numbers by alliance.alerts; never contains client free text.
    title = models.CharField(max_length=200)
    explanation = models.TextField()
    suggestion = models.TextField(blank=True)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Risk escalation, in two stages: the supervisors first, then the administrators
    # (alliance.care.escalation).
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to_administrators_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=40, blank=True)
    # Snooze (issue 12, point 4; alliance.alerts.lifecycle): quiet until this moment, when it is back
    # on the caseload, or earlier if it gets worse (the recompute clears it). Never for risk. The
    # reason is the therapist's words, encrypted like every note; each snooze is also a note.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snoozed_at = models.DateTimeField(null=True, blank=True)
    snoozed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snooze_reason = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar = [
            # Covers the caseload's per-episode figures of open alerts: how many, the most severe, and
            # (for the "needs attention" list) the newest, without reading the alert rows.
            models.Index(fields=("episode", "status", "severity", "created_at")),
            # Covers the caseload's order (queries.own_caseload_order): open alerts that are awake, per
            # episode and kind, read in index order without a sort or a look at the rows.
            # The id is included for PostgreSQL (count, newest), whose indexes do not hold it; without it
            # PostgreSQL read every row of the alert table (wide: texts, evidence) on each caseload view.
            models.Index(
                fields=("episode", "kind", "status", "severity", "snoozed_until"),
                include=("id",),
                name="care_alert_attention_idx2",
            ),
            # The scheduler's every-minute sweep for new open alerts to email (care.alert_mail).
            models.Index(fields=("status", "created_at")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id

    @property
    def is_open(self) -> bool:
        return self.status not in (AlertStatus.CLOSED, AlertStatus.REPAIRED)

    @property
    def is_snoozed(self) -> bool:
        """Quiet now: see alliance.alerts.lifecycle.is_quiet."""
        return is_quiet(self, timezone.now())


class AlertNote(models.Model):
    """A therapist's note on an alert (the repair conversation, the reason for closing)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=24)
    text = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"{self.action} note on alert {self.alert_id}"

    @property
    def audit_client_id(self) -> int:
        return self.alert.episode.client_id


class NormsCache(models.Model):
    """The clinic's fitted norms (expected recovery curves, early-alliance quartile) as JSON.

    Fitting takes seconds, so it is done when stale (see alliance.care.alert_sync.NORMS_MAX_AGE) or on
    `alliance alerts recompute --refit`, not on every new response. A single row (pk=1).
    """

    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)
    episodes = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Norms from {self.episodes} episodes, {self.computed_at:%Y-%m-%d %H:%M}"


class ClinicSettings(models.Model):
    """Clinic-wide settings an administrator can change. A single row (pk=1)."""

    crisis_resources_en = models.TextField(default="", blank=True)
    crisis_resources_es = models.TextField(default="", blank=True)
    # Overrides of alliance.alerts.AlertSettings, by field name; absent keys keep the defaults.
    alert_settings = models.JSONField(default=dict, blank=True)
    checkin_link_hours = models.PositiveIntegerField(default=72)
    # Whether a client sees their own progress view after a check-in, through their link.
    share_progress_with_clients = models.BooleanField(default=False)
    # The clinic's wording for the email that carries a check-in link. Never clinical content and never
    # the client's name in the subject; "{link}" is replaced by the link, "{clinic}" by the clinic name.
    checkin_email_subject = models.CharField(max_length=120, blank=True, default="")
    checkin_email_body_en = models.TextField(blank=True, default="")
    checkin_email_body_es = models.TextField(blank=True, default="")
    # Suggest supervision when a reaction of at least this intensity (1-3) recurs this many times in a
    # therapist's last `supervision_prompt_window` reflections on one client (alliance.alerts.reactions).
    supervision_prompt_intensity = models.PositiveSmallIntegerField(default=3)
    supervision_prompt_count = models.PositiveSmallIntegerField(default=2)
    supervision_prompt_window = models.PositiveSmallIntegerField(default=4)
    # Reminders to clients (only with their consent to email; never clinical content or a name): the
    # first this many hours before each appointment, with the check-in link; a second one this many
    # hours before when the before-session measure has not come in. 0 turns either off.
    reminder_hours_before = models.PositiveSmallIntegerField(default=24)
    measure_nudge_hours_before = models.PositiveSmallIntegerField(default=3)
    # Local hour (0-23) at which therapists who chose a daily digest get their non-urgent alerts.
    alert_digest_hour = models.PositiveSmallIntegerField(default=7)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "clinic settings"

    def __str__(self) -> str:
        return "Clinic settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> ClinicSettings:
        obj, _ = cls.objects.get_or_create(
            pk=1, defaults={"checkin_link_hours": settings.CHECKIN_LINK_HOURS}
        )
        return obj


class SupervisionNote(models.Model):
    """The supervisor's private note of one supervision meeting with a supervisee. Only its author reads
    it: it is the supervisor's record, not the therapist's."""

    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision_notes"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    met_on = models.DateField(default=timezone.localdate)
    text = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-met_on", "-id")

    def __str__(self) -> str:
        return f"Supervision note {self.pk}"

    @property
    def audit_client_id(self) -> None:
        return None


class CalendarFeed(models.Model):
    """A therapist's personal iCalendar feed. Only a digest of its secret token is stored; renewing the
    feed replaces the token, so an old URL stops working at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id}"


class SafetyPlan(models.Model):
    """A safety plan written with the client in session, in Alliance's own words (docs/safety-plan.md).

    One per episode, kept encrypted. Offered to the therapist after a risk alert and shown to the client
    on their crisis page through their check-in link.
    """

    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="safety_plan")
    warning_signs = EncryptedTextField(blank=True, default="")
    what_helps = EncryptedTextField(blank=True, default="")
    people_and_places = EncryptedTextField(blank=True, default="")
    professionals = EncryptedTextField(blank=True, default="")
    safer_surroundings = EncryptedTextField(blank=True, default="")
    reasons_for_living = EncryptedTextField(blank=True, default="")
    # Whether the client sees the plan on their crisis page (the default: it is theirs).
    show_to_client = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Safety plan for episode {self.episode_id}"

    @property
    def audit_client_id(self) -> int:
        return self.episode.client_id
