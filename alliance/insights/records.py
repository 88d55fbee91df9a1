"""The clinic's rows as the pure analytics' records (`alliance.analytics.records.ClinicData`).

`clinic_data(start=..., end=..., therapist=...)` reads episodes, appointments, responses and alerts
with a handful of `.values_list()` queries streamed with `.iterator()` — no query per row and no
model instance — and builds the frozen records directly, so a clinic of 100,000 episodes and a
million responses costs its records' memory and nothing more.

Decisions
  - **Ids are export pseudonyms** (`alliance.insights.pseudonyms`: T-/C-/E- and 16 hex digits),
    never a client code, a name or a database id: the records go straight into exports and the
    command's JSON.
  - **Nothing free** enters: the queries name only dates, codes, scores and the numeric answers of
    the client check-in (bond, goals, tasks, overall). Names, contacts, goals, open answers,
    reflections, notes and alert texts are never selected (they are encrypted at rest, and
    decrypting them would be slow as well as wrong).
  - **Period**: the episodes open at some time in it (not ended before `start`; started — or
    referred — by `end`), with *all* their appointments, responses and alerts. The outcomes report
    and alert quality apply their own period rules on top (episodes ended in the period, alerts
    raised in it); the relationship model, the psychometrics and the rupture comparisons use the
    whole course of each of those episodes, because cutting a client's series at the period edge
    would change their person mean and their first and last scores.
  - **Therapist**: only that therapist's episodes (for a therapist's own view).
  - **Referral date**: the day the episode was added (its `created_at`, in the clinic's time zone),
    or its start date if that is earlier — an episode recorded after the fact (the demo, an
    import) was referred no later than it started.
  - **Times** are converted to the clinic's time zone (settings.TIME_ZONE), so that "the day of a
    score" is the clinic's day, as the outcomes report expects.
  - **Session number** of a response is its appointment's; a response not linked to an appointment
    has none.
  - **Repaired at**: the time of the alert's automatic "repaired" note (the rules mark a rupture
    repaired; a later close keeps it counted), else `resolved_at` for an alert still in status
    repaired.
  - **Acted on**: the earlier of `acknowledged_at` and the first note a person wrote on the alert
    (every therapist action leaves one, except a plain acknowledgement); "repair discussed" and
    "snoozed" from those notes' actions, never their text.
  - **Consistency**: the queries run one after another, so a row added meanwhile to an episode the
    first query did not see is left out (never a crash, never a record without its episode).
  - Items: only the client check-in's four numeric answers are read (`answers`, JSON, on those rows
    only); the other instruments need only their totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Q
from django.utils import timezone

from alliance.analytics.records import (
    AlertRecord,
    AppointmentRecord,
    ClinicData,
    EpisodeRecord,
    ResponseRecord,
)
from alliance.care.models import Alert, AlertNote, Appointment, Episode, Response
from alliance.insights.pseudonyms import Pseudonyms

CHUNK = 5_000
CHECKIN = "checkin"
CHECKIN_ITEMS = ("bond", "goals", "tasks", "overall")
REPAIRED_NOTE = "auto_repaired"  # alliance.care.alert_writer's note when the rules mark a repair
DISCUSSED_NOTE = "discuss_repair"  # alliance.care.alert_views' note of a repair conversation
SNOOZED_NOTE = "snooze"  # and of a snooze


@dataclass(frozen=True)
class Scope:
    """Which episodes a report reads (see the module docstring)."""

    start: date | None = None
    end: date | None = None
    therapist: int | None = None  # a user's primary key
    tz: tzinfo = UTC  # the clinic's time zone: where "the end day" ends

    def episodes(self, prefix: str = "") -> Q:
        """The scope as a Q on `prefix` + the episode's fields (e.g. "episode__" from a response)."""
        q = Q()
        if self.therapist is not None:
            q &= Q(**{f"{prefix}therapist_id": self.therapist})
        if self.start is not None:
            q &= Q(**{f"{prefix}ended_on__isnull": True}) | Q(
                **{f"{prefix}ended_on__gte": self.start}
            )
        if self.end is not None:
            next_day = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)
            q &= Q(**{f"{prefix}started_on__lte": self.end}) | Q(
                **{f"{prefix}created_at__lt": next_day}
            )
        return q


def clinic_data(
    *,
    start: date | None = None,
    end: date | None = None,
    therapist: int | None = None,
    pseudonyms: Pseudonyms | None = None,
) -> ClinicData:
    """The records of the episodes open in the period (all time by default), optionally of one
    therapist (a user's primary key), with pseudonymous ids."""
    if start is not None and end is not None and start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    names = pseudonyms or Pseudonyms()
    tz = _zone()
    scope = Scope(start, end, therapist, tz)

    episodes: list[EpisodeRecord] = []
    episode_name: dict[int, str] = {}
    for pk, client, user, created, started, ended, reason, language in _rows(
        Episode.objects.filter(scope.episodes()).order_by("pk"),
        "pk",
        "client_id",
        "therapist_id",
        "created_at",
        "started_on",
        "ended_on",
        "end_reason",
        "client__preferred_language",
    ):
        name = names.episode(pk)
        episode_name[pk] = name
        episodes.append(
            EpisodeRecord(
                episode=name,
                client=names.client(client),
                therapist=names.therapist(user),
                referred_on=min(created.astimezone(tz).date(), started),
                started_on=started,
                ended_on=ended,
                end_reason=reason,
                language=language,
            )
        )

    appointments = tuple(
        AppointmentRecord(episode_name[episode], number, when.astimezone(tz), attendance)
        for episode, number, when, attendance in _rows(
            Appointment.objects.filter(scope.episodes("episode__")).order_by(
                "episode_id", "session_number"
            ),
            "episode_id",
            "session_number",
            "scheduled_at",
            "attendance",
        )
        if episode in episode_name
    )

    responses = _responses(episode_name, scope, tz)
    alerts = _alerts(episode_name, names, scope, tz)
    return ClinicData(
        episodes=tuple(episodes),
        appointments=appointments,
        responses=responses,
        alerts=alerts,
    )


def _zone() -> tzinfo:
    return timezone.get_current_timezone()


def _rows(queryset: Any, *fields: str) -> Iterator[tuple[Any, ...]]:
    """Tuples streamed from the database in chunks (a server-side cursor on PostgreSQL)."""
    return iter(queryset.values_list(*fields).iterator(chunk_size=CHUNK))


def _responses(
    episode_name: dict[int, str], scope: Scope, tz: tzinfo
) -> tuple[ResponseRecord, ...]:
    base = Response.objects.filter(scope.episodes("episode__"))
    fields = ("episode_id", "instrument", "submitted_at", "total", "appointment__session_number")
    # Oldest first, ties by id: the analytics keep the last response of a session, and the order
    # of equal times must not depend on how the database felt that day.
    order = ("submitted_at", "pk")
    records: list[ResponseRecord] = [
        ResponseRecord(episode_name[e], instrument, at.astimezone(tz), total, number, respondent)
        for e, instrument, at, total, number, respondent in _rows(
            base.exclude(instrument=CHECKIN, respondent="client").order_by(*order),
            *fields,
            "respondent",
        )
        if e in episode_name
    ]
    checkins = [
        ResponseRecord(
            episode_name[e],
            CHECKIN,
            at.astimezone(tz),
            total,
            number,
            "client",
            items=_items(answers),
        )
        for e, _instrument, at, total, number, answers in _rows(
            base.filter(instrument=CHECKIN, respondent="client").order_by(*order),
            *fields,
            "answers",
        )
        if e in episode_name
    ]
    if checkins:
        records.extend(checkins)
        # One list in time order, as the rows came from one query (stable: ties keep their order).
        records.sort(key=lambda r: r.submitted_at)
    return tuple(records)


def _items(answers: Any) -> dict[str, float]:
    """The check-in's numeric answers (a bool is not a number here, nor is text)."""
    if not isinstance(answers, dict):
        return {}
    return {
        item: float(value)
        for item in CHECKIN_ITEMS
        if isinstance(value := answers.get(item), int | float) and not isinstance(value, bool)
    }


def _alerts(
    episode_name: dict[int, str], names: Pseudonyms, scope: Scope, tz: tzinfo
) -> tuple[AlertRecord, ...]:
    repaired: dict[int, datetime] = {}
    # What therapists did (the notes they wrote: actions only, never the text).
    first_action: dict[int, datetime] = {}
    discussed: set[int] = set()
    snoozed: set[int] = set()
    for alert, action, at, by_person in _rows(
        AlertNote.objects.filter(scope.episodes("alert__episode__")).filter(
            Q(action=REPAIRED_NOTE) | Q(author__isnull=False)
        ),
        "alert_id",
        "action",
        "created_at",
        "author_id",
    ):
        if action == REPAIRED_NOTE and by_person is None:
            if alert not in repaired or at < repaired[alert]:
                repaired[alert] = at
            continue
        if alert not in first_action or at < first_action[alert]:
            first_action[alert] = at
        if action == DISCUSSED_NOTE:
            discussed.add(alert)
        elif action == SNOOZED_NOTE:
            snoozed.add(alert)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz) if moment is not None else None

    records = []
    for (
        pk,
        episode,
        therapist,
        kind,
        severity,
        status,
        created,
        number,
        acknowledged,
        resolved,
        reason,
    ) in _rows(
        Alert.objects.filter(scope.episodes("episode__")).order_by("created_at", "pk"),
        "pk",
        "episode_id",
        "episode__therapist_id",
        "kind",
        "severity",
        "status",
        "created_at",
        "session_number",
        "acknowledged_at",
        "resolved_at",
        "close_reason",
    ):
        if episode not in episode_name:
            continue
        repaired_at = repaired.get(pk) or (resolved if status == "repaired" else None)
        # Every action sets acknowledged_at (alliance.care.alert_views); a note may be earlier
        # only for rows written before that rule.
        acted = [m for m in (acknowledged, first_action.get(pk)) if m is not None]
        records.append(
            AlertRecord(
                episode=episode_name[episode],
                therapist=names.therapist(therapist),
                kind=kind,
                severity=severity,
                status=status,
                created_at=created.astimezone(tz),
                session_number=number,
                acknowledged_at=local(acknowledged),
                repaired_at=local(repaired_at),
                resolved_at=local(resolved),
                close_reason=reason,
                first_action_at=local(min(acted, default=None)),
                repair_discussed=pk in discussed,
                snoozed=pk in snoozed,
            )
        )
    return tuple(records)
