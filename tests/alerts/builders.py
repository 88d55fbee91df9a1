"""Builders for hand-made episode series (shared by the alerts tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from alliance.alerts import CheckinScore, EpisodeSeries, RiskSignal, Session

START = dt.date(2025, 1, 6)


def checkin(
    total: float | None = None,
    *,
    bond: float | None = None,
    goals: float | None = None,
    tasks: float | None = None,
    overall: float | None = None,
    concern: bool = False,
) -> CheckinScore:
    """A check-in; with only ``total`` given, every dimension equals it."""
    if total is not None and bond is goals is tasks is overall is None:
        dims = {"bond": total, "goals": total, "tasks": total, "overall": total}
    else:
        dims = {
            k: v
            for k, v in {"bond": bond, "goals": goals, "tasks": tasks, "overall": overall}.items()
            if v is not None
        }
        if total is None and len(dims) == 4:
            total = sum(dims.values()) / 4
    return CheckinScore(total=total, dims=dims, concern=concern)


def session(
    number: int,
    *,
    attendance: str = "attended",
    client: CheckinScore | float | None = None,
    therapist: CheckinScore | float | None = None,
    outcome: Mapping[str, float] | None = None,
    risk: Sequence[RiskSignal] = (),
    appointment_id: int | None = None,
) -> Session:
    if isinstance(client, int | float):
        client = checkin(float(client))
    if isinstance(therapist, int | float):
        therapist = checkin(float(therapist))
    return Session(
        number=number,
        date=START + dt.timedelta(weeks=number - 1),
        attendance=attendance,  # type: ignore[arg-type]
        appointment_id=appointment_id if appointment_id is not None else 1000 + number,
        outcome=dict(outcome or {}),
        risk=tuple(risk),
        client_checkin=client,
        therapist_checkin=therapist,
    )


def series(
    sessions: Sequence[Session],
    *,
    episode_id: int = 12,
    completed: bool = False,
    intake: Mapping[str, float] | None = None,
) -> EpisodeSeries:
    return EpisodeSeries(
        episode_id=episode_id,
        therapist_id=7,
        sessions=tuple(sessions),
        completed=completed,
        intake=intake,
    )


def checkin_series(totals: Sequence[float | None], **kwargs: object) -> EpisodeSeries:
    """Attended sessions 1..n with client check-ins (``None`` = no check-in)."""
    return series(
        [session(i, client=t) for i, t in enumerate(totals, start=1)],
        **kwargs,  # type: ignore[arg-type]
    )


def outcome_series(
    instrument: str, scores: Sequence[float | None], **kwargs: object
) -> EpisodeSeries:
    """Attended sessions 1..n with one outcome score each (``None`` = not measured)."""
    return series(
        [
            session(i, outcome={} if s is None else {instrument: s})
            for i, s in enumerate(scores, start=1)
        ],
        **kwargs,  # type: ignore[arg-type]
    )


def synthetic_clinic(
    n_episodes: int,
    *,
    seed: int = 1,
    instrument: str = "phq9",
    b0: float = 16.0,
    b1: float = -3.0,
    b_intake: float = 0.8,
    b_intake_log: float = -0.15,
    intake_centre: float = 16.0,
    intercept_sd: float = 2.0,
    noise_sd: float = 2.0,
    completed: bool = True,
    first_id: int = 1,
) -> list[EpisodeSeries]:
    """Episodes whose post-intake scores follow the model with known coefficients.

    score = b0 + b1·log(s) + b_intake·(intake - centre) + b_intake_log·(intake - centre)·log(s)
            + client intercept + noise; the intake is the session-1 score.
    """
    import math
    import random

    rng = random.Random(seed)
    episodes = []
    for e in range(n_episodes):
        intake = rng.uniform(intake_centre - 6, intake_centre + 6)
        u = rng.gauss(0, intercept_sd)
        n = rng.randint(5, 12)
        sessions = [session(1, outcome={instrument: round(intake, 2)})]
        for s in range(2, n + 1):
            centred = intake - intake_centre
            log_s = math.log(s)
            y = (
                b0
                + b1 * log_s
                + b_intake * centred
                + b_intake_log * centred * log_s
                + u
                + rng.gauss(0, noise_sd)
            )
            sessions.append(session(s, outcome={instrument: round(y, 2)}))
        episodes.append(series(sessions, episode_id=first_id + e, completed=completed))
    return episodes
