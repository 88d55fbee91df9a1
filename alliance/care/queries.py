"""Read models for the therapist's screens, built so that the number of SQL queries never depends on
the size of the caseload (every per-episode figure is a correlated subquery in one SELECT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance.care.models import (
    Alert,
    AlertStatus,
    Appointment,
    Attendance,
    Episode,
    Respondent,
    Response,
)

OPEN_ALERT_STATUSES = (
    AlertStatus.OPEN,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.REPAIR_DISCUSSED,
    AlertStatus.UNRESOLVED,
)


def _last_total(instrument: str, respondent: str = Respondent.CLIENT) -> Subquery:
    return Subquery(
        Response.objects.filter(
            episode=OuterRef("pk"), instrument=instrument, respondent=respondent, scorable=True
        )
        .order_by("-submitted_at")
        .values("total")[:1],
        output_field=FloatField(),
    )


def _first_total(instrument: str) -> Subquery:
    return Subquery(
        Response.objects.filter(
            episode=OuterRef("pk"),
            instrument=instrument,
            respondent=Respondent.CLIENT,
            scorable=True,
        )
        .order_by("submitted_at")
        .values("total")[:1],
        output_field=FloatField(),
    )


def _count(queryset: QuerySet[Alert] | QuerySet[Appointment]) -> Subquery:
    return Subquery(
        queryset.order_by().values("episode").annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def with_caseload_figures(
    episodes: QuerySet[Episode], now: datetime | None = None
) -> QuerySet[Episode]:
    now = now or timezone.now()
    return episodes.annotate(
        next_appointment_at=Subquery(
            Appointment.objects.filter(
                episode=OuterRef("pk"), attendance=Attendance.SCHEDULED, scheduled_at__gte=now
            )
            .order_by("scheduled_at")
            .values("scheduled_at")[:1]
        ),
        sessions_attended=Coalesce(
            _count(
                Appointment.objects.filter(episode=OuterRef("pk"), attendance=Attendance.ATTENDED)
            ),
            Value(0),
        ),
        open_alerts=Coalesce(
            _count(Alert.objects.filter(episode=OuterRef("pk"), status__in=OPEN_ALERT_STATUSES)),
            Value(0),
        ),
        urgent_alerts=Coalesce(
            _count(
                Alert.objects.filter(
                    episode=OuterRef("pk"),
                    status__in=OPEN_ALERT_STATUSES,
                    severity__in=("urgent", "red"),
                )
            ),
            Value(0),
        ),
        first_phq9=_first_total("phq9"),
        last_phq9=_last_total("phq9"),
        first_gad7=_first_total("gad7"),
        last_gad7=_last_total("gad7"),
        last_checkin=_last_total("checkin"),
    )


@dataclass(frozen=True)
class CaseloadFilter:
    status: str = "active"

    def apply(self, episodes: QuerySet[Episode]) -> QuerySet[Episode]:
        if self.status in ("active", "ended"):
            episodes = episodes.filter(status=self.status)
        return episodes


CASELOAD_COLUMNS = (
    "pk",
    "therapist_id",
    "client_id",
    "client__code",
    "client__name",
    "started_on",
    "status",
    "end_reason",
    "next_appointment_at",
    "sessions_attended",
    "open_alerts",
    "urgent_alerts",
    "first_phq9",
    "last_phq9",
    "first_gad7",
    "last_gad7",
    "last_checkin",
)


def caseload(
    episodes: QuerySet[Episode], status: str = "active"
) -> QuerySet[Episode, dict[str, Any]]:
    """The rows of a caseload table as plain dicts (no model instances: at 200 rows that halves the
    time), urgent first, then by next appointment."""
    rows = with_caseload_figures(CaseloadFilter(status).apply(episodes))
    return rows.order_by(
        F("urgent_alerts").desc(),
        F("open_alerts").desc(),
        F("next_appointment_at").asc(nulls_last=True),
        "client__code",
    ).values(*CASELOAD_COLUMNS)


def open_alert_filter(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": OPEN_ALERT_STATUSES})


SEVERITY_ORDER = Case(
    When(severity="urgent", then=Value(0)),
    When(severity="red", then=Value(1)),
    When(severity="yellow", then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def by_severity(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    return alerts.annotate(severity_order=SEVERITY_ORDER).order_by("severity_order", "-created_at")


# The caseload's "needs attention" list is capped: past this many, the therapist works from the table.
ATTENTION_LIMIT = 30


def needs_attention(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """Open alerts, most severe first, with what the list shows."""
    shown = alerts.filter(open_alert_filter()).select_related("episode__client")
    shown = shown.only(
        "severity",
        "title",
        "explanation",
        "created_at",
        "episode__client__code",
        "episode__client__name",
    )
    return by_severity(shown)[:ATTENTION_LIMIT]
