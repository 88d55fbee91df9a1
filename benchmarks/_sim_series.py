"""Turn a simulated clinic (``alliance.demo.simulate``) into the alert rules' input, without Django.

This mirrors ``alliance.care.alert_sync.load_series`` so that the benchmarks measure what the app
runs. The app stores each response through ``alliance.care.responses.build_response`` (scored with
``alliance.measures``) and ``load_series`` then reads:

- outcome totals: client responses to ``phq9``/``gad7`` that are scorable with a total;
- check-ins: ``checkin`` (client) and ``checkin-therapist``: ``total`` from scoring, ``dims`` = the
  numeric answers among bond/goals/tasks/overall, ``concern`` = ``has_comment`` (as the app sets it:
  ``alliance.care.comments.has_something_to_say``: an answer to "What could have been better
  today?" that is more than "nothing to add");
- risk: one ``RiskSignal(instrument, item, answer, response_id)`` per risk flag of any response;
- attendance 1:1, ``number`` = the appointment's ``session_number`` (``SimAppointment.number``);
- ``completed`` = the episode has ended (for any reason, dropouts included); no explicit intake.

Known differences from the app:

- ``Session.date`` is the appointment's date in the simulation's zone (UTC unless the caller chose
  another); the app uses ``timezone.localdate`` in the clinic's ``TIME_ZONE``. No rule uses dates.
- Response ids are a running counter over the clinic instead of database primary keys; they only
  appear inside risk alert keys.
- ``appointment_id`` is ``None`` (the app passes the appointment's primary key; rules only copy it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from alliance.alerts import CheckinScore, EpisodeSeries, RiskSignal, Session
from alliance.care.comments import has_something_to_say
from alliance.demo.simulate import SimAppointment, SimClinic, SimEpisode, SimResponse
from alliance.measures import get_instrument

OUTCOME_INSTRUMENTS = ("phq9", "gad7")
CHECKIN = "checkin"
THERAPIST_CHECKIN = "checkin-therapist"
DIMENSIONS = ("bond", "goals", "tasks", "overall")


@cache
def _text_items(instrument_id: str) -> frozenset[str]:
    return frozenset(i.link_id for i in get_instrument(instrument_id).items if i.kind == "text")


@dataclass(frozen=True)
class Scored:
    """The columns ``load_series`` reads from one stored response."""

    instrument: str
    respondent: str
    scorable: bool
    total: float | None
    dims: Mapping[str, float]  # numeric check-in answers (bond/goals/tasks/overall)
    has_comment: bool
    risk: tuple[tuple[str, float], ...]  # (item, answer) of each risk flag


AnswerItems = tuple[tuple[str, int | str], ...]


@lru_cache(maxsize=200_000)
def _score(instrument: str, respondent: str, items: AnswerItems) -> Scored:
    """Score like ``alliance.care.responses.build_response`` (numeric / free text split)."""
    text_items = _text_items(instrument)
    numeric = {k: v for k, v in items if k not in text_items and v not in (None, "")}
    text = {k: str(v).strip() for k, v in items if k in text_items and v and str(v).strip()}
    result = get_instrument(instrument).score({**numeric, **text})
    dims = {
        d: float(v)
        for d in DIMENSIONS
        if isinstance(v := numeric.get(d), int | float) and not isinstance(v, bool)
    }
    return Scored(
        instrument=instrument,
        respondent=respondent,
        scorable=result.scorable,
        total=None if result.total is None else float(result.total),
        dims=dims,
        has_comment=has_something_to_say(list(text.values())),
        risk=tuple((str(f.item), float(f.answer or 0)) for f in result.risk_flags),
    )


def score_response(response: SimResponse) -> Scored:
    """Scored once per distinct answer set (scoring is deterministic, so this only saves time)."""
    items = tuple(sorted(response.answers.items(), key=lambda kv: kv[0]))
    return _score(response.instrument, response.respondent, items)


def to_session(appointment: SimAppointment, response_ids: Iterator[int]) -> Session:
    outcome: dict[str, float] = {}
    risk: list[RiskSignal] = []
    client_checkin: CheckinScore | None = None
    therapist_checkin: CheckinScore | None = None
    for response in appointment.responses:
        response_id = next(response_ids)
        scored = score_response(response)
        if (
            scored.instrument in OUTCOME_INSTRUMENTS
            and scored.respondent == "client"
            and scored.scorable
            and scored.total is not None
        ):
            outcome[scored.instrument] = scored.total
        if scored.instrument in (CHECKIN, THERAPIST_CHECKIN):
            checkin = CheckinScore(total=scored.total, dims=scored.dims, concern=scored.has_comment)
            if scored.instrument == CHECKIN:
                client_checkin = checkin
            else:
                therapist_checkin = checkin
        for item, answer in scored.risk:
            risk.append(RiskSignal(scored.instrument, item, answer, response_id))
    return Session(
        number=appointment.number,
        date=appointment.scheduled_at.date(),
        attendance=appointment.attendance,
        appointment_id=None,
        outcome=outcome,
        risk=tuple(risk),
        client_checkin=client_checkin,
        therapist_checkin=therapist_checkin,
    )


def to_series(
    episode: SimEpisode, episode_id: int, therapist_id: int, response_ids: Iterator[int]
) -> EpisodeSeries:
    """The whole episode as the app would load it at the simulation's end ("today")."""
    sessions = tuple(to_session(a, response_ids) for a in episode.appointments)
    return EpisodeSeries(
        episode_id=episode_id,
        therapist_id=therapist_id,
        sessions=sessions,
        completed=episode.status == "ended",
    )


def clinic_series(clinic: SimClinic, first_id: int = 1) -> list[EpisodeSeries]:
    """One series per episode, ids ``first_id, first_id + 1, ...`` in the clinic's order;
    therapist ids are the therapists' 1-based positions in ``clinic.therapists``."""
    therapist_ids = {t.key: i for i, t in enumerate(clinic.therapists, start=1)}
    response_ids = itertools.count(1)
    return [
        to_series(e, first_id + i, therapist_ids[e.therapist_key], response_ids)
        for i, e in enumerate(clinic.episodes)
    ]


def past_sessions(series: EpisodeSeries) -> Sequence[Session]:
    """Appointments that have happened (or were missed) by the end: not ``scheduled``."""
    return [s for s in series.sessions if s.attendance != "scheduled"]


def as_of(series: EpisodeSeries, past: Sequence[Session], k: int) -> EpisodeSeries:
    """The series as known right after the k-th past appointment (an open episode then)."""
    return EpisodeSeries(
        episode_id=series.episode_id,
        therapist_id=series.therapist_id,
        sessions=tuple(past[:k]),
        completed=False,
    )
