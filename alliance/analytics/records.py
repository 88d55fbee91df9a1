"""The plain records every analysis takes. Ids are strings: pseudonyms in exports, primary keys
(as text) inside the app; nothing here needs to know which.

Vocabulary as in docs/CONTRACTS.md: an episode is one course of care of one client with one
therapist; a response is one completed instrument; an appointment's attendance is one of
`ATTENDANCE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

ATTENDANCE = ("scheduled", "attended", "cancelled", "late_cancel", "no_show")
END_REASONS = ("planned", "dropout", "transferred", "other")
ALERT_KINDS = (
    "risk",
    "rupture",
    "early_weak_alliance",
    "perspective_gap",
    "not_on_track",
    "deterioration",
    "disengagement",
)


@dataclass(frozen=True)
class EpisodeRecord:
    episode: str
    client: str
    therapist: str
    referred_on: date  # the day the client was added (intake form): the referral
    started_on: date
    ended_on: date | None = None
    end_reason: str = ""  # "" while active, else one of END_REASONS
    language: str = "en"


@dataclass(frozen=True)
class AppointmentRecord:
    episode: str
    session_number: int
    scheduled_at: datetime
    attendance: str  # one of ATTENDANCE


@dataclass(frozen=True)
class ResponseRecord:
    episode: str
    instrument: str  # "phq9", "gad7", "gbo", "checkin", "checkin-therapist", ...
    submitted_at: datetime
    total: float | None
    session_number: int | None = None  # the appointment's session number, when linked to one
    respondent: str = "client"
    # Numeric item answers by linkId (checkin: bond, goals, tasks, overall). Free text never
    # enters analytics.
    items: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    episode: str
    therapist: str
    kind: str  # one of ALERT_KINDS
    severity: str
    status: str  # open, acknowledged, repair_discussed, repaired, unresolved, closed
    created_at: datetime
    session_number: int | None = None
    acknowledged_at: datetime | None = None
    repaired_at: datetime | None = None  # when the alert reached "repaired"
    resolved_at: datetime | None = None
    close_reason: str = ""  # "not_relevant" is the "not useful" answer
    # What the therapist did (alliance.analytics.alert_quality, "acted on"): the time of their first
    # action of any kind (None: never acted on), and whether they ever recorded a repair
    # conversation or snoozed it.
    first_action_at: datetime | None = None
    repair_discussed: bool = False
    snoozed: bool = False


@dataclass(frozen=True)
class ClinicData:
    """Everything one report reads, already filtered to what the reader may see."""

    episodes: tuple[EpisodeRecord, ...] = ()
    appointments: tuple[AppointmentRecord, ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()
