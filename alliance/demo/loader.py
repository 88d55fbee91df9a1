"""Store a simulated clinic (alliance.demo.simulate) in the database.

Every response is scored through alliance.care.responses.build_response, so the demo's stored scores are
exactly what real check-ins would store. Rows are written with bulk_create in batches, which bypasses the
per-row audit signals; one `demo.loaded` event records the load instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import TypeVar

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from alliance.accounts.audit import log_event
from alliance.accounts.models import Supervision, User
from alliance.care.models import (
    Alert,
    AlertNote,
    Appointment,
    Client,
    Episode,
    Goal,
    Reflection,
    Response,
    ResponseSource,
)
from alliance.care.responses import build_response
from alliance.demo.simulate import SimAppointment, SimClinic, SimStaff

# Demo-only credentials, printed by `alliance demo` and documented in the README as such.
DEMO_PASSWORD = "alliance-demo"  # noqa: S105
# Base32 TOTP secret for the demo administrator (administrators must use MFA). `alliance demo_code`
# prints the current code; in a real clinic each administrator enrols their own authenticator.
DEMO_ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPALLIANCE"  # noqa: S105
BATCH = 2000

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class LoadSummary:
    users: int
    clients: int
    episodes: int
    appointments: int
    responses: int
    reflections: int
    seconds: float


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _bulk(model: type[M], rows: Iterable[M]) -> int:
    """Insert in batches; returns how many rows were written."""
    written = 0
    for batch in _batches(rows):
        model.objects.bulk_create(batch)  # type: ignore[attr-defined]
        written += len(batch)
    return written


def _user(staff: SimStaff, password_hash: str) -> User:
    return User(
        email=staff.email,
        first_name=staff.first_name,
        last_name=staff.last_name,
        role=staff.role,
        password=password_hash,
    )


def load_clinic(clinic: SimClinic, password: str = DEMO_PASSWORD) -> LoadSummary:
    started = time.perf_counter()
    with transaction.atomic():
        password_hash = make_password(password)  # hashed once: argon2 is deliberately slow
        staff = [clinic.administrator, *clinic.supervisors, *clinic.therapists]
        users = {s.key: _user(s, password_hash) for s in staff}
        User.objects.bulk_create(users.values())
        users = {s.key: User.objects.get(email=s.email) for s in staff}
        TOTP.activate(users[clinic.administrator.key], DEMO_ADMIN_TOTP_SECRET)
        Supervision.objects.bulk_create(
            Supervision(supervisor=users[sup], therapist=users[ther])
            for sup, ther in clinic.supervision
        )

        clients = {
            c.key: Client(
                code=c.code,
                name=f"{c.first_name} {c.last_name}",
                email=c.email,
                phone=c.phone,
                preferred_language=c.language,
            )
            for c in clinic.clients
        }
        _bulk(Client, clients.values())

        episodes = {
            e.key: Episode(
                client=clients[e.client_key],
                therapist=users[e.therapist_key],
                started_on=e.start,
                ended_on=e.end,
                status=e.status,
                end_reason=e.end_reason or "",
                outcome_instruments=list(e.outcome_instruments),
            )
            for e in clinic.episodes
        }
        _bulk(Episode, episodes.values())

        goals = [
            Goal(episode=episodes[e.key], number=n, description=text)
            for e in clinic.episodes
            for n, text in enumerate(e.goals, start=1)
        ]
        _bulk(Goal, goals)

        appointments: list[tuple[Appointment, SimAppointment]] = []
        for e in clinic.episodes:
            for a in e.appointments:
                appointments.append(
                    (
                        Appointment(
                            episode=episodes[e.key],
                            scheduled_at=a.scheduled_at,
                            session_number=a.number,
                            attendance=a.attendance,
                            attendance_recorded_at=a.scheduled_at
                            if a.attendance != "scheduled"
                            else None,
                        ),
                        a,
                    )
                )
        _bulk(Appointment, (row for row, _ in appointments))

        sim_by_appointment = [(row, sim, row.episode) for row, sim in appointments]
        response_rows = (
            build_response(
                episode=episode,
                appointment=row,
                instrument_id=r.instrument,
                answers=r.answers,
                respondent=r.respondent,
                source=ResponseSource.DEMO,
                submitted_at=r.submitted_at,
                submitted_by=episode.therapist if r.respondent == "therapist" else None,
            )
            for row, sim, episode in sim_by_appointment
            for r in sim.responses
        )
        responses = _bulk(Response, response_rows)
        reflection_rows = (
            Reflection(
                episode=episode,
                appointment=row,
                therapist=episode.therapist,
                text=sim.reflection,
                reactions=sim.reflection_reactions,
                shared_with_supervisor=sim.reflection_shared,
                created_at=sim.scheduled_at,
            )
            for row, sim, episode in sim_by_appointment
            if sim.reflection
        )
        reflections = _bulk(Reflection, reflection_rows)

        summary = LoadSummary(
            users=len(users),
            clients=len(clients),
            episodes=len(episodes),
            appointments=len(appointments),
            responses=responses,
            reflections=reflections,
            seconds=round(time.perf_counter() - started, 2),
        )
        log_event(
            "demo.loaded",
            data={
                "seed": clinic.seed,
                "clients": summary.clients,
                "episodes": summary.episodes,
                "appointments": summary.appointments,
            },
        )
    return summary


def demo_admin_has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


# How far back the demo's alerts are left for the therapists to handle; older ones were "handled at
# the time" (a year of history with every alert still open would not look like a working clinic).
OPEN_HISTORY = timedelta(days=21)


def settle_demo_history(now: datetime | None = None) -> int:
    """Close the alerts a working clinic would already have dealt with: those on ended episodes, and
    those raised more than three weeks ago. Ruptures keep their repaired/unresolved status. Each
    closed alert gets a note saying it was closed by the demo generator."""
    now = now or timezone.now()
    cutoff = now - OPEN_HISTORY
    open_statuses = ("open", "acknowledged", "repair_discussed", "unresolved")
    stale = Alert.objects.filter(status__in=open_statuses).filter(
        Q(episode__status="ended") | Q(appointment__scheduled_at__lt=cutoff)
    )
    closed = list(stale.select_related("episode"))
    for alert in closed:
        alert.close_reason = "client_ended" if alert.episode.status == "ended" else "addressed"
        alert.status = "closed"
        alert.acknowledged_at = alert.acknowledged_at or alert.created_at
        alert.resolved_at = now
    Alert.objects.bulk_update(
        closed, ["status", "close_reason", "acknowledged_at", "resolved_at"], batch_size=BATCH
    )
    AlertNote.objects.bulk_create(
        (
            AlertNote(
                alert=a,
                author=None,
                action="close",
                text="Demo history: handled at the time.",
                created_at=now,
            )
            for a in closed
        ),
        batch_size=BATCH,
    )
    return len(closed)
