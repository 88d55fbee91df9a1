"""A small clinic in the database for the insights tests: users, clients and episodes from
tests/factories.py, appointments and responses (bulk) with scores from the seeded simulation
(`alliance.analytics.simulate`), some alerts, and free text everywhere it can be, so that a test
can show none of it reaches the report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from alliance.accounts.models import User
from alliance.analytics.simulate import simulate
from alliance.care import models as care
from tests import factories

ITEMS = ("bond", "goals", "tasks", "overall")
SECRET_OPEN_ANSWER = "Quokka-marmalade: the therapist looked at the clock"
SECRET_REFLECTION = "Reflection-saffron: I felt sleepy with this client"
SECRET_NOTE = "Alert-note-vermilion: we talked about the missed session"
SECRET_GOAL = "Goal-periwinkle: walk the dog without panic"


@dataclass
class DbClinic:
    therapists: list[User]
    clients: list[care.Client]
    episodes: list[care.Episode]
    names: list[str] = field(default_factory=list)  # every client name and email
    secrets: tuple[str, ...] = (SECRET_OPEN_ANSWER, SECRET_REFLECTION, SECRET_NOTE, SECRET_GOAL)


def build_clinic(
    episodes: int = 36, therapists: int = 4, seed: int = 7, start: date | None = None
) -> DbClinic:
    sim = simulate(
        episodes=episodes, therapists=therapists, seed=seed, items=True, round_scores=True
    )
    first_day = start or (timezone.localdate() - timedelta(days=420))
    users = {
        str(t): factories.UserFactory.create(email=f"therapist{k}.{seed}@clinic.test")
        for k, t in enumerate(sim.episodes["therapist"].cat.categories)
    }
    clinic = DbClinic(therapists=list(users.values()), clients=[], episodes=[])
    stored: dict[str, care.Episode] = {}
    ended = len(sim.episodes) - 4  # the last four stay active
    episode_rows: list[Any] = list(sim.episodes.itertuples(index=False))
    for k, row in enumerate(episode_rows):
        name = f"Zebulon Quartermaine {seed}-{k}"
        email = f"zq{seed}x{k}@example.com"
        client = factories.ClientFactory.create(code=f"C-IN{seed}{k:03d}", name=name, email=email)
        started = first_day + timedelta(days=3 * k)
        last = started + timedelta(days=7 * (int(row.sessions) - 1))
        is_ended = k < ended
        episode = factories.EpisodeFactory.create(
            client=client,
            therapist=users[str(row.therapist)],
            started_on=started,
            ended_on=last if is_ended else None,
            status=care.EpisodeStatus.ENDED if is_ended else care.EpisodeStatus.ACTIVE,
            end_reason=(("dropout" if row.dropout else "planned") if is_ended else ""),
            learned_together=SECRET_GOAL,
        )
        factories.GoalFactory.create(episode=episode, description=SECRET_GOAL)
        clinic.clients.append(client)
        clinic.episodes.append(episode)
        clinic.names += [name, email]
        stored[str(row.episode)] = episode

    sessions: list[Any] = list(sim.responses.itertuples(index=False))
    appointments = []
    for row in sessions:
        episode = stored[str(row.episode)]
        at = datetime.combine(
            episode.started_on + timedelta(days=7 * (int(row.session) - 1)), time(10), tzinfo=UTC
        )
        missed = math.isnan(row.outcome) and math.isnan(row.checkin)
        appointments.append(
            care.Appointment(
                episode=episode,
                session_number=int(row.session),
                scheduled_at=at,
                attendance=care.Attendance.NO_SHOW if missed else care.Attendance.ATTENDED,
            )
        )
    care.Appointment.objects.bulk_create(appointments)

    responses = []
    for row, appointment in zip(sessions, appointments, strict=True):
        episode = appointment.episode
        at = appointment.scheduled_at
        if not math.isnan(row.outcome):
            responses.append(
                _response(episode, appointment, "phq9", row.outcome, at - timedelta(hours=2))
            )
        if not math.isnan(row.checkin):
            answers = {item: int(getattr(row, item)) for item in ITEMS}
            responses.append(
                _response(
                    episode,
                    appointment,
                    "checkin",
                    row.checkin,
                    at + timedelta(hours=1),
                    answers=answers,
                    open_answers={"better": SECRET_OPEN_ANSWER},
                )
            )
        if not math.isnan(row.checkin_therapist):
            rating = min(10.0, max(0.0, float(row.checkin_therapist)))
            responses.append(
                _response(
                    episode,
                    appointment,
                    "checkin-therapist",
                    rating,
                    at + timedelta(hours=2),
                    respondent=care.Respondent.THERAPIST,
                )
            )
    # A PHQ-9 given outside any appointment (no session number).
    responses.append(
        _response(
            clinic.episodes[0],
            None,
            "phq9",
            11.0,
            datetime.combine(clinic.episodes[0].started_on, time(9), tzinfo=UTC),
        )
    )
    care.Response.objects.bulk_create(responses)

    for episode in clinic.episodes[:3]:
        factories.ReflectionFactory.create(episode=episode, text=SECRET_REFLECTION)
    _alerts(clinic)
    return clinic


def _response(
    episode: care.Episode,
    appointment: care.Appointment | None,
    instrument: str,
    total: float,
    at: datetime,
    *,
    answers: dict[str, int] | None = None,
    open_answers: dict[str, str] | None = None,
    respondent: str = care.Respondent.CLIENT,
) -> care.Response:
    return factories.ResponseFactory.build(
        episode=episode,
        appointment=appointment,
        instrument=instrument,
        respondent=respondent,
        answers=answers or {},
        open_answers=open_answers,
        total=float(total),
        submitted_at=at,
    )


def _alerts(clinic: DbClinic) -> None:
    """A repaired rupture (auto note), an unresolved one, an acknowledged risk alert, and one
    closed as not relevant with a note."""
    first, second, third = clinic.episodes[:3]
    day = datetime.combine(first.started_on + timedelta(days=21), time(12), tzinfo=UTC)
    repaired = factories.AlertFactory.create(
        episode=first,
        kind=care.AlertKind.RUPTURE,
        status=care.AlertStatus.REPAIRED,
        created_at=day,
        resolved_at=day + timedelta(days=10),
    )
    care.AlertNote.objects.create(
        alert=repaired,
        author=None,
        action="auto_repaired",
        text="",
        created_at=day + timedelta(days=9),
    )
    factories.AlertFactory.create(
        episode=second,
        kind=care.AlertKind.RUPTURE,
        status=care.AlertStatus.UNRESOLVED,
        created_at=day,
        resolved_at=day + timedelta(days=30),
    )
    factories.AlertFactory.create(
        episode=third,
        kind=care.AlertKind.RISK,
        severity=care.AlertSeverity.URGENT,
        status=care.AlertStatus.ACKNOWLEDGED,
        created_at=day,
        acknowledged_at=day + timedelta(hours=3),
    )
    closed = factories.AlertFactory.create(
        episode=third,
        kind=care.AlertKind.NOT_ON_TRACK,
        status=care.AlertStatus.CLOSED,
        created_at=day,
        acknowledged_at=day + timedelta(hours=5),
        resolved_at=day + timedelta(hours=5),
        close_reason="not_relevant",
    )
    care.AlertNote.objects.create(alert=closed, author=None, action="close", text=SECRET_NOTE)
