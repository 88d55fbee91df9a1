"""Which forms a client answers for an appointment, and which are already done."""

from __future__ import annotations

from dataclasses import dataclass

from alliance.care.models import Appointment, Respondent, Response

CHECKIN = "checkin"
GBO = "gbo"
# Asked after the check-in of the session the therapist marked as the last one (issue 9, point 8).
ENDING = "ending"


@dataclass(frozen=True)
class Step:
    instrument: str
    part: str  # "before" or "after"
    done: bool


def gbo_due(session_number: int, every: int) -> bool:
    """Goal-Based Outcomes are rated at the first session and every `every` sessions after it
    (1, 5, 9 ... when every is 4, the default); 0 means never (the episode's plan, Episode.gbo_every)."""
    return every > 0 and session_number >= 1 and (session_number - 1) % every == 0


def before_instruments(appointment: Appointment, goal_count: int) -> list[str]:
    episode = appointment.episode
    instruments = [i for i in episode.outcome_instruments if i != GBO]
    if goal_count and gbo_due(appointment.session_number, episode.gbo_every):
        instruments.append(GBO)
    return instruments


def steps(appointment: Appointment, goal_count: int) -> list[Step]:
    answered = set(
        Response.objects.filter(appointment=appointment, respondent=Respondent.CLIENT).values_list(
            "instrument", flat=True
        )
    )
    before = [Step(i, "before", i in answered) for i in before_instruments(appointment, goal_count)]
    after = [CHECKIN, ENDING] if appointment.is_final else [CHECKIN]
    return [*before, *(Step(i, "after", i in answered) for i in after)]


def next_step(all_steps: list[Step], after: str) -> Step | None:
    """The next unanswered form in the same part, so "before" runs PHQ-9 → GAD-7 → GBO in one go."""
    current = next((s for s in all_steps if s.instrument == after), None)
    if current is None:
        return None
    return next(
        (s for s in all_steps if s.part == current.part and not s.done and s.instrument != after),
        None,
    )
