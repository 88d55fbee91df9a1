"""Reads for the reflection journal and the supervision pages. The rule itself (when strong reactions
recur) is alliance.alerts.reactions; this module only gathers the reflections it reads, with a number
of queries that never depends on how many there are."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance.accounts.models import User
from alliance.alerts import reactions
from alliance.care import access, queries, reaction_words
from alliance.care.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Appointment,
    Attendance,
    Client,
    ClinicSettings,
    Episode,
    EpisodeStatus,
    Reflection,
    Respondent,
    Response,
)

# When a reflection happened: its session's date, else when it was written.
WHEN = Coalesce(F("appointment__scheduled_at"), F("created_at"))


def happened_between(low: datetime, high: datetime | None = None) -> Q:
    """Reflections whose WHEN falls in [low, high)."""
    session = Q(appointment__scheduled_at__gte=low)
    written = Q(appointment__isnull=True, created_at__gte=low)
    if high is not None:
        session &= Q(appointment__scheduled_at__lt=high)
        written &= Q(created_at__lt=high)
    return session | written


def prompt_rule() -> reactions.PromptRule:
    """The clinic's rule; settings that make no sense (count above window) fall back to defaults.

    One read that never writes (ClinicSettings.load would create the row on first use), so a page
    runs the same number of queries on a fresh database as on a used one."""
    values = (
        ClinicSettings.objects.filter(pk=1)
        .values_list(
            "supervision_prompt_intensity",
            "supervision_prompt_count",
            "supervision_prompt_window",
        )
        .first()
    )
    try:
        return reactions.PromptRule(*values) if values else reactions.PromptRule()
    except reactions.ReactionError:
        return reactions.PromptRule()


def prompts_from(
    history: Iterable[tuple[int, Mapping[str, int]]], rule: reactions.PromptRule
) -> dict[int, list[reactions.RecurringReaction]]:
    """By client id, from (client id, reactions) pairs of ONE therapist in date order."""
    by_client: dict[int, list[Mapping[str, int]]] = defaultdict(list)
    for client_id, mapping in history:
        by_client[client_id].append(mapping or {})
    found = {cid: reactions.supervision_prompts(items, rule) for cid, items in by_client.items()}
    return {cid: prompts for cid, prompts in found.items() if prompts}


def own_history(
    reflections: Iterable[Reflection], therapist_id: int
) -> list[tuple[int, Mapping[str, int]]]:
    """(client id, reactions) of one therapist's reflections, in date order, from loaded rows."""
    own = [r for r in reflections if r.therapist_id == therapist_id]
    own.sort(key=lambda r: (r.appointment.scheduled_at if r.appointment else r.created_at, r.pk))
    return [(r.episode.client_id, r.reactions) for r in own]


@dataclass(frozen=True, slots=True)
class ClientPrompt:
    code: str
    prompts: list[reactions.RecurringReaction]


def caseload_prompts(therapist: User, rule: reactions.PromptRule) -> list[ClientPrompt]:
    """The prompts firing for a therapist's active clients (one query)."""
    rows = (
        Reflection.objects.filter(
            therapist=therapist,
            episode__therapist=therapist,
            episode__status=EpisodeStatus.ACTIVE,
        )
        .annotate(when=WHEN)
        .order_by("when", "pk")
        .values_list("episode__client_id", "episode__client__code", "reactions")
    )
    codes: dict[int, str] = {}
    history = []
    for client_id, code, mapping in rows:
        codes[client_id] = code
        history.append((client_id, mapping))
    found = prompts_from(history, rule)
    return sorted((ClientPrompt(codes[cid], p) for cid, p in found.items()), key=lambda c: c.code)


@dataclass(frozen=True, slots=True)
class ClientCounts:
    code: str
    reflections: int
    # (label, times recorded, times strongly) in checklist order, only reactions recorded.
    counts: list[tuple[str, int, int]]


def reaction_counts(rows: Iterable[Reflection]) -> list[tuple[str, int, int]]:
    times: Counter[str] = Counter()
    strong: Counter[str] = Counter()
    for reflection in rows:
        for code, intensity in (reflection.reactions or {}).items():
            times[code] += 1
            strong[code] += intensity >= reactions.MAX_INTENSITY
    return [
        (reaction_words.label(r.code), times[r.code], strong[r.code])
        for r in reactions.REACTIONS
        if times[r.code]
    ]


def counts_by_client(rows: Sequence[Reflection]) -> list[ClientCounts]:
    grouped: dict[str, list[Reflection]] = defaultdict(list)
    for reflection in rows:
        grouped[reflection.episode.client.code].append(reflection)
    return [
        ClientCounts(code, len(items), reaction_counts(items))
        for code, items in sorted(grouped.items())
    ]


def reflection_list(reflections: QuerySet[Reflection]) -> QuerySet[Reflection]:
    """Reflections with what a list shows (client code, session), newest first. Every list is of
    one therapist's reflections, so the author is not joined."""
    return (
        reflections.select_related("appointment", "episode__client")
        .only(
            "text",
            "reactions",
            "shared_with_supervisor",
            "created_at",
            "appointment",
            "episode",
            "episode__client",
            "therapist",
            "appointment__session_number",
            "appointment__scheduled_at",
            "episode__client__code",
            "episode__client_id",
        )
        .annotate(when=WHEN)
        .order_by("-when", "-pk")
    )


@dataclass
class SessionReactions:
    number: int
    when: datetime
    attended: bool
    attendance: str
    checkin: float | None
    therapist_rating: float | None
    reactions: list[str] = field(default_factory=list)
    strong: list[str] = field(default_factory=list)
    reflection_id: int | None = None
    shared: bool = False


def _total(instrument: str, respondent: str) -> Subquery:
    return Subquery(
        Response.objects.filter(
            appointment=OuterRef("pk"), instrument=instrument, respondent=respondent
        ).values("total")[:1]
    )


def client_sessions(user: User, client: Client) -> list[SessionReactions]:
    """Per session of the client's visible episodes, the client's check-in, the therapist's rating and
    the reactions of the reflection the user may read (two queries)."""
    appointments = (
        Appointment.objects.filter(
            episode__in=access.episodes_visible_to(user).filter(client=client),
        )
        .exclude(attendance=Attendance.SCHEDULED, scheduled_at__gt=timezone.now())
        .annotate(
            checkin=_total("checkin", Respondent.CLIENT),
            rating=_total("checkin-therapist", Respondent.THERAPIST),
        )
        .order_by("scheduled_at", "pk")
        .values("pk", "session_number", "scheduled_at", "attendance", "checkin", "rating")
    )
    by_appointment = {
        r.appointment_id: r
        for r in access.reflections_visible_to(user)
        .filter(episode__client=client, appointment__isnull=False)
        .only("appointment_id", "reactions", "shared_with_supervisor")
    }
    labels = dict(Attendance.choices)
    rows = []
    for a in appointments:
        reflection = by_appointment.get(a["pk"])
        mapping = reflection.reactions if reflection else {}
        rows.append(
            SessionReactions(
                number=a["session_number"],
                when=a["scheduled_at"],
                attended=a["attendance"] == Attendance.ATTENDED,
                attendance=labels.get(a["attendance"], a["attendance"]),
                checkin=a["checkin"],
                therapist_rating=a["rating"],
                reactions=reaction_words.describe(mapping),
                strong=[
                    reaction_words.label(c)
                    for c, v in mapping.items()
                    if c in reactions.BY_CODE and v >= reactions.MAX_INTENSITY
                ],
                reflection_id=reflection.pk if reflection else None,
                shared=bool(reflection and reflection.shared_with_supervisor),
            )
        )
    return rows


# ---------------------------------------------------------------- supervision


def supervises(supervisor: User, therapist_id: int) -> bool:
    return access.supervisee_ids(supervisor).filter(therapist_id=therapist_id).exists()


def caseload_summary(therapist: User, today: date | None = None) -> dict[str, Any]:
    """Active clients and this month's sessions by attendance (two queries)."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    # Bounds on the stored datetime rather than scheduled_at__date: a cast per row cannot use the
    # index and, with two years of sessions, was a third of the supervisor's page.
    low, high = period_bounds(month_start, today)
    active = (
        Episode.objects.filter(therapist=therapist, status=EpisodeStatus.ACTIVE)
        .values("client")
        .distinct()
        .count()
    )
    by_attendance = dict(
        Appointment.objects.filter(
            episode__therapist=therapist, scheduled_at__gte=low, scheduled_at__lt=high
        )
        .exclude(attendance=Attendance.SCHEDULED)
        .values_list("attendance")
        .annotate(n=Count("pk"))
        .order_by()
    )
    held = sum(by_attendance.values())
    attended = by_attendance.get(Attendance.ATTENDED, 0)
    return {
        "active_clients": active,
        "month_start": month_start,
        "attended": attended,
        "cancelled": by_attendance.get(Attendance.CANCELLED, 0),
        "late_cancel": by_attendance.get(Attendance.LATE_CANCEL, 0),
        "no_show": by_attendance.get(Attendance.NO_SHOW, 0),
        "booked": held,
        "attendance_rate": round(100 * attended / held) if held else None,
    }


def clients_with_open_alerts(alerts: QuerySet[Alert]) -> list[dict[str, Any]]:
    """One row per client: how many open alerts, the most severe first, the kinds (one query)."""
    rows = (
        alerts.filter(queries.open_alert_filter())
        .values("episode__client__code", "episode__client_id")
        .annotate(
            open=Count("pk"),
            urgent=Count("pk", filter=Q(severity="urgent")),
            red=Count("pk", filter=Q(severity="red")),
            oldest=Min("created_at"),
        )
        .order_by("-urgent", "-red", "-open", "episode__client__code")
    )
    kinds = dict(AlertKind.choices)
    by_code_kinds: dict[str, set[str]] = defaultdict(set)
    for code, kind in (
        alerts.filter(queries.open_alert_filter())
        .values_list("episode__client__code", "kind")
        .distinct()
        .order_by()
    ):
        by_code_kinds[code].add(str(kinds.get(kind, kind)))
    return [
        {
            **row,
            "code": row["episode__client__code"],
            "kinds": sorted(by_code_kinds[row["episode__client__code"]]),
        }
        for row in rows
    ]


@dataclass
class ClientRisk:
    """A client's unacknowledged risk alerts, as one row."""

    code: str
    client_id: int
    alert_pk: int  # the oldest, which the row links to
    oldest: datetime
    severity: str  # the most severe
    count: int = 0
    titles: list[str] = field(default_factory=list)  # distinct, oldest first


def unacknowledged_risk(alerts: QuerySet[Alert]) -> list[ClientRisk]:
    """One row per client, the longest waiting first (one query). A supervisor reads who is waiting
    and since when; a client answering the risk item every week would otherwise fill the page."""
    rows = (
        alerts.filter(
            queries.open_alert_filter(), kind=AlertKind.RISK, acknowledged_at__isnull=True
        )
        .order_by("created_at", "pk")
        .values_list(
            "episode__client_id", "episode__client__code", "pk", "created_at", "severity", "title"
        )
    )
    order = {severity: n for n, severity in enumerate(("urgent", "red", "yellow"))}
    by_client: dict[int, ClientRisk] = {}
    for client_id, code, pk, created_at, severity, title in rows:
        row = by_client.get(client_id)
        if row is None:
            row = by_client[client_id] = ClientRisk(code, client_id, pk, created_at, severity)
        elif order.get(severity, 3) < order.get(row.severity, 3):
            row.severity = severity
        row.count += 1
        if title not in row.titles:
            row.titles.append(title)
    return list(by_client.values())


def alert_activity(alerts: QuerySet[Alert], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """By kind: alerts raised, acknowledged and repaired within [start, end) (one query)."""
    rows = (
        alerts.filter(
            Q(created_at__gte=start, created_at__lt=end)
            | Q(acknowledged_at__gte=start, acknowledged_at__lt=end)
            | Q(resolved_at__gte=start, resolved_at__lt=end)
        )
        .values("kind")
        .annotate(
            raised=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
            acknowledged=Count("pk", filter=Q(acknowledged_at__gte=start, acknowledged_at__lt=end)),
            repaired=Count(
                "pk",
                filter=Q(status=AlertStatus.REPAIRED, resolved_at__gte=start, resolved_at__lt=end),
            ),
        )
        .order_by("kind")
    )
    kinds = dict(AlertKind.choices)
    return [{**row, "label": kinds.get(row["kind"], row["kind"])} for row in rows]


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Aware datetimes covering whole days start..end (end inclusive)."""
    zone = timezone.get_current_timezone()
    low = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    high = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return low, high


# ---------------------------------------------------------------- the client page


def annotate_client_page(
    user: User, episodes: Sequence[Episode]
) -> list[reactions.RecurringReaction]:
    """For the client page, from what it already prefetched (appointments, visible_reflections):
    marks each reflection with its reactions in words (`reaction_words`), each of the user's own
    episodes with the latest session that took place and has no reflection yet (`reflection_due`),
    and returns the supervision prompts firing for the user's own reflections on this client. Reads
    the clinic's rule only when there is something to apply it to (one query)."""
    now = timezone.now()
    own: list[Reflection] = []
    for episode in episodes:
        reflections: list[Reflection] = getattr(episode, "visible_reflections", [])
        written = {r.appointment_id for r in reflections if r.appointment_id}
        for reflection in reflections:
            reflection.reaction_words = reaction_words.describe(reflection.reactions or {})  # type: ignore[attr-defined]
            if reflection.therapist_id == user.pk:
                own.append(reflection)
        due = None
        if access.is_own_episode(user, episode):
            for appointment in episode.appointments.all():
                if (
                    appointment.attendance == Attendance.ATTENDED
                    and appointment.scheduled_at <= now
                    and appointment.pk not in written
                ):
                    due = (
                        appointment
                        if due is None or appointment.scheduled_at > due.scheduled_at
                        else due
                    )
        episode.reflection_due = due  # type: ignore[attr-defined]
    if not own:
        return []
    own.sort(key=lambda r: (r.appointment.scheduled_at if r.appointment else r.created_at, r.pk))
    return reactions.supervision_prompts([r.reactions or {} for r in own], prompt_rule())
