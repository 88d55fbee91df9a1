"""Which forms a client answers for an appointment, and which are already done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alliance.care.models import Appointment, Respondent, Response

CHECKIN = "checkin"
GBO = "gbo"
# Asked after the check-in of the session the therapist marked as the last one (issue 9, point 8).
ENDING = "ending"

# When the after-session part (the relationship check-in, and the ending question) opens.
#
# Decision (issue 10, point 5): at the booked end of the session minus AFTER_SESSION_MARGIN, and never
# before the session's start. The check-in asks "how was today's session?", so an answer given before
# the session is not an answer to it, and one given hours early was the probe that found this. Why not
# the start: a client in the waiting room could then rate a session that has not happened. Why not a
# fraction of the duration: the question is about the whole session. Why a margin rather than the exact
# end: many therapists hand the check-in over in the last minutes in the room (as with the SRS), and a
# session that ends a few minutes early must not leave the client facing a "not yet" page on the
# stairs. The booked duration is the appointment's own (Appointment.duration_minutes), so a 90-minute
# session opens later than a 50-minute one; a moved session moves its opening with it.
AFTER_SESSION_MARGIN = timedelta(minutes=10)


def after_session_opens_at(
    session_start: datetime, duration_minutes: int, margin: timedelta = AFTER_SESSION_MARGIN
) -> datetime:
    """When a client may answer the after-session forms of a session booked at `session_start` for
    `duration_minutes`: the booked end less `margin`, but never before the start. Pure: times in, a
    time out."""
    booked_end = session_start + timedelta(minutes=max(duration_minutes, 0))
    return max(session_start, booked_end - margin)


def after_session_open(
    now: datetime,
    session_start: datetime,
    duration_minutes: int,
    margin: timedelta = AFTER_SESSION_MARGIN,
) -> bool:
    return now >= after_session_opens_at(session_start, duration_minutes, margin)


def after_opens_at(appointment: Appointment) -> datetime:
    return after_session_opens_at(appointment.scheduled_at, appointment.duration_minutes)


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


def steps(
    appointment: Appointment, goal_count: int, answered: frozenset[str] | None = None
) -> list[Step]:
    """The forms of this appointment in order; `answered` (the instruments the client has answered)
    is read here unless the caller already has it (alliance.checkin.lookup reads it with the link)."""
    if answered is None:
        answered = frozenset(
            Response.objects.filter(
                appointment=appointment, respondent=Respondent.CLIENT
            ).values_list("instrument", flat=True)
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
