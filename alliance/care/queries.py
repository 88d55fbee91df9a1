"""Read models for the therapist's screens, built so that the number of SQL queries never depends on
the size of the caseload (every per-episode figure is a correlated subquery in one SELECT)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
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
        # 0 urgent, 1 red, 2 yellow, 3 information; None without open alerts.
        top_severity=Subquery(
            Alert.objects.filter(episode=OuterRef("pk"), status__in=OPEN_ALERT_STATUSES)
            .annotate(order=SEVERITY_ORDER)
            .order_by("order")
            .values("order")[:1],
            output_field=IntegerField(),
        ),
        first_phq9=_first_total("phq9"),
        last_phq9=_last_total("phq9"),
        first_gad7=_first_total("gad7"),
        last_gad7=_last_total("gad7"),
        last_checkin=_last_total("checkin"),
    )


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of the current week, in the clinic's time zone."""
    today = timezone.localtime(now).date()
    monday = today - timedelta(days=today.weekday())
    return timezone.make_aware(datetime.combine(monday, time.min))


# What "ending soon" means on the caseload (the page says it in the same words): an active episode
# that has begun (at least one attended session) with at most this many sessions still booked ahead,
# so the booked series is running out: time to plan the ending, or to book more.
ENDING_SOON_BOOKED = 1


@dataclass(frozen=True)
class CaseloadFilter:
    status: str = "active"
    # Only clients with at least one open alert.
    with_alerts: bool = False
    # Only clients who have answered nothing through a link since Monday (see week_start).
    no_checkin_this_week: bool = False
    # Only episodes that are ending soon (see ENDING_SOON_BOOKED).
    ending_soon: bool = False

    def apply(self, episodes: QuerySet[Episode], now: datetime | None = None) -> QuerySet[Episode]:
        now = now or timezone.now()
        if self.status in ("active", "ended"):
            episodes = episodes.filter(status=self.status)
        if self.with_alerts:
            episodes = episodes.filter(
                Exists(Alert.objects.filter(episode=OuterRef("pk"), status__in=OPEN_ALERT_STATUSES))
            )
        if self.no_checkin_this_week:
            episodes = episodes.exclude(
                Exists(
                    Response.objects.filter(
                        episode=OuterRef("pk"),
                        respondent=Respondent.CLIENT,
                        submitted_at__gte=week_start(now),
                    )
                )
            )
        if self.ending_soon:
            upcoming = Appointment.objects.filter(
                episode=OuterRef("pk"), attendance=Attendance.SCHEDULED, scheduled_at__gte=now
            )
            episodes = (
                episodes.filter(status="active")
                .filter(
                    Exists(
                        Appointment.objects.filter(
                            episode=OuterRef("pk"), attendance=Attendance.ATTENDED
                        )
                    )
                )
                .alias(booked_ahead=Coalesce(_count(upcoming), Value(0)))
                .filter(booked_ahead__lte=ENDING_SOON_BOOKED)
            )
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
    "top_severity",
    "first_phq9",
    "last_phq9",
    "first_gad7",
    "last_gad7",
    "last_checkin",
)


def caseload(
    episodes: QuerySet[Episode],
    status: str = "active",
    *,
    filters: CaseloadFilter | None = None,
) -> QuerySet[Episode, dict[str, Any]]:
    """The rows of a caseload table as plain dicts (no model instances: at 200 rows that halves the
    time), the most severe open alert first, then by next appointment."""
    now = timezone.now()
    chosen = filters or CaseloadFilter(status)
    rows = with_caseload_figures(chosen.apply(episodes, now), now)
    return rows.order_by(
        F("top_severity").asc(nulls_last=True),
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


# The caseload's "needs attention" list shows people, not alert rows: one row per client (capped; past
# this many the therapist works from the table, which has the same order).
ATTENTION_CLIENTS = 30


@dataclass
class AttentionGroup:
    """One client's open alerts, summarised: per kind how many and how severe (0 = urgent)."""

    client_id: int
    code: str
    episode_id: int
    top: int
    count: int = 0
    newest: datetime | None = None
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind: (count, top severity)


def attention_by_client(alerts: QuerySet[Alert]) -> list[AttentionGroup]:
    """Clients with open alerts, most urgent first (then the most alerts, then the newest), in one
    query whose rows are (episode, kind) pairs: at most seven per client, whatever the history."""
    rows = (
        alerts.filter(open_alert_filter())
        .order_by()
        .values("episode_id", "episode__client_id", "episode__client__code", "kind")
        .annotate(n=Count("pk"), top=Min(SEVERITY_ORDER), newest=Max("created_at"))
    )
    groups: dict[int, AttentionGroup] = {}
    for row in rows:
        group = groups.get(row["episode__client_id"])
        if group is None:
            group = groups[row["episode__client_id"]] = AttentionGroup(
                client_id=row["episode__client_id"],
                code=row["episode__client__code"],
                episode_id=row["episode_id"],
                top=row["top"],
            )
        if row["top"] < group.top:
            group.top, group.episode_id = row["top"], row["episode_id"]
        group.count += row["n"]
        group.newest = max(filter(None, (group.newest, row["newest"])), default=None)
        count, top = group.kinds.get(row["kind"], (0, row["top"]))
        group.kinds[row["kind"]] = (count + row["n"], min(top, row["top"]))
    ordered = sorted(
        groups.values(),
        key=lambda g: (g.top, -g.count, -(g.newest.timestamp() if g.newest else 0), g.code),
    )
    return ordered[:ATTENTION_CLIENTS]
