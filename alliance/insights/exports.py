"""The per-response CSV export: one row per client session, the inverse of
`alliance.analytics.responses_csv.read_responses` (issue 11, points 6 and 7).

`write_responses_csv(data, file)` writes the relationship model's own input table
(`alliance.analytics.frames.session_frame`) with the session's context, so that
`alliance report --responses` on the file fits exactly the model `alliance report` fits on the
database (tests/insights/test_round_trip.py holds them equal to 1e-9).

Columns, in this order:

    therapist, client, episode   export pseudonyms (as in the records)
    session                      the appointment's session number
    day                          days from the start of the client's first episode in the data to
                                 the session's date: the course's timing without a calendar date
    instrument                   the measure in `outcome` (phq9 by default)
    attended                     1 attended, 0 cancelled late or not attended (or cancelled with
                                 notice), empty when not recorded or unknown
    outcome                      the session's outcome total, empty when none
    checkin                      the client's check-in total (0-10), empty when none
    bond, goals, tasks, overall  the check-in's dimensions, empty when not answered
    date                         only with dates=True: the session's ISO date (an identifier; the
                                 default export leaves it out)

Decisions
  - **Rows**: the sessions with a client outcome or check-in linked to them, exactly the model's
    table; a session with neither has nothing for the model and is not a row (attendance as such
    belongs to the per-episode export). The last response of a session counts, as everywhere in
    the analytics; its check-in dimensions come from that same response.
  - **The session's date**: its appointment's date, else the day of its first response.
  - **Numbers** are written exactly (whole numbers without ".0", others as Python's shortest
    round-trip form), so reading the file back gives the same floats bit for bit.
  - De-identified by default: pseudonyms only, and relative days instead of dates.

The per-episode CSV (`write_episodes_csv`, issue 11 point 6) has one row per episode: `episode,
client, therapist`, the referral, start and end as day offsets (`referred_day, started_day,
ended_day`, days from the start of the client's first episode in the data) or as dates
(`referred_on, started_on, ended_on`, shifted or real), `end_reason`, `sessions_attended`,
first/last PHQ-9 and GAD-7, the NHS Talking Therapies flags of `alliance.measures.nhs` (1, 0 or
empty when the episode is not in that flag's denominator) and `mean_checkin`.

Dates in either export (`DateMode`):
  - "relative" (default): day offsets only, no calendar date.
  - "shifted": calendar dates moved by a whole number of days that is the same for every date of
    one client and differs between clients (`DateShifts`, an HMAC of the client's export pseudonym
    under a key derived from SECRET_KEY with its own salt): intervals within a client's course are
    kept, the calendar is not; re-exports agree. The shift is 1..182 days either way, never 0.
  - "real": the real dates, only in an identified export (alliance.insights.export_views decides
    who may ask).
Identified exports replace the pseudonyms by the `identities` mapping (pseudonym -> client code,
therapist email, episode number) built by the caller from the database.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from statistics import fmean
from typing import IO, Any, Literal

from django.utils.crypto import salted_hmac

from alliance.analytics.frames import session_frame
from alliance.analytics.records import ClinicData, ResponseRecord
from alliance.analytics.responses_csv import CHECKIN_DIMENSIONS, DEFAULT_OUTCOME
from alliance.measures.nhs import Measurement, episode_outcome

DateMode = Literal["relative", "shifted", "real"]
DATE_MODES: tuple[DateMode, ...] = ("relative", "shifted", "real")
SHIFT_SALT = "alliance.insights.date-shift"
MAX_SHIFT_DAYS = 182


class DateShifts:
    """A whole number of days per client, stable across exports (keyed like the pseudonyms, with
    its own salt, so knowing a pseudonym does not give its shift). `secret=None`: SECRET_KEY."""

    def __init__(self, secret: str | None = None) -> None:
        self._key = salted_hmac(
            SHIFT_SALT, "export date shift key", secret=secret, algorithm="sha256"
        ).digest()

    def days(self, client: str) -> int:
        digest = hmac.new(self._key, f"shift:{client}".encode(), hashlib.sha256).digest()
        number = int.from_bytes(digest[:8], "big")
        magnitude = 1 + number % MAX_SHIFT_DAYS  # never 0: an unshifted date would be real
        return magnitude if (number >> 63) & 1 else -magnitude

    def token(self, text: str) -> str:
        """An opaque stable id for a row (a response) that reveals no database id."""
        return hmac.new(self._key, f"token:{text}".encode(), hashlib.sha256).hexdigest()[:16]


def check_dates(dates: DateMode, identities: Mapping[str, str] | None) -> None:
    if dates not in DATE_MODES:
        raise ValueError(f"unknown date mode {dates!r}")
    if dates == "real" and identities is None:
        raise ValueError("real dates are identifiers: only an identified export carries them")


COLUMNS = (
    "therapist",
    "client",
    "episode",
    "session",
    "day",
    "instrument",
    "attended",
    "outcome",
    "checkin",
    *CHECKIN_DIMENSIONS,
)
CHECKIN = "checkin"
_ATTENDED = {"attended": "1", "late_cancel": "0", "no_show": "0", "cancelled": "0"}


def cell(value: Any) -> str:
    """A number exactly as a CSV cell; "" for None and NaN."""
    if value is None:
        return ""
    number = float(value)
    if not math.isfinite(number):
        return ""
    return str(int(number)) if number.is_integer() else repr(number)


def _last_checkins(responses: Iterable[ResponseRecord]) -> dict[tuple[str, int], dict[str, float]]:
    """The dimensions of the last scored client check-in of each session (the one whose total the
    sessions table keeps: same filter, same stable time order as `frames.response_table`)."""
    kept = [
        r
        for r in responses
        if r.instrument == CHECKIN
        and r.respondent == "client"
        and r.total is not None
        and r.session_number is not None
    ]
    kept.sort(key=lambda r: r.submitted_at.timestamp())
    return {(r.episode, r.session_number): dict(r.items) for r in kept if r.session_number}


def write_responses_csv(
    data: ClinicData,
    file: IO[str],
    *,
    outcome_instrument: str = DEFAULT_OUTCOME,
    dates: bool | DateMode = False,
    shifts: DateShifts | None = None,
    identities: Mapping[str, str] | None = None,
) -> int:
    """Write the per-response CSV of `data` to an open text file; returns the rows written.

    `dates`: False/"relative" no date column; "shifted" the `date` column shifted per client
    (`shifts`); True/"real" the real dates (only with `identities`, for an identified export;
    True alone keeps the command's older behaviour)."""
    mode: DateMode | None
    if dates is True:
        mode = "real"  # the legacy flag: a caller that asked for dates explicitly
    elif dates is False or dates == "relative":
        mode = None
    else:
        check_dates(dates, identities)
        mode = dates
    if mode == "shifted":
        shifts = shifts or DateShifts()
    who = identities or {}
    sessions = session_frame(data, outcome_instrument)
    items = _last_checkins(data.responses)
    attendance: dict[tuple[str, int], str] = {}
    when: dict[tuple[str, int], date] = {}
    for appointment in data.appointments:
        key = (appointment.episode, appointment.session_number)
        attendance[key] = appointment.attendance
        when[key] = appointment.scheduled_at.date()
    for response in data.responses:
        if response.session_number is not None:
            key = (response.episode, response.session_number)
            day = response.submitted_at.date()
            if key not in when or (key not in attendance and day < when[key]):
                when[key] = day
    first_start: dict[str, date] = {}
    for episode in data.episodes:
        known = first_start.get(episode.client)
        if known is None or episode.started_on < known:
            first_start[episode.client] = episode.started_on

    writer = csv.writer(file, lineterminator="\n")
    writer.writerow((*COLUMNS, "date") if mode else COLUMNS)
    rows = 0
    for therapist, client, episode, session, outcome, checkin in sessions.itertuples(
        index=False, name=None
    ):
        key = (episode, session)
        answers = items.get(key, {})
        on = when.get(key)
        start = first_start.get(client)
        row = [
            who.get(therapist, therapist),
            who.get(client, client),
            who.get(episode, episode),
            str(session),
            str((on - start).days) if on is not None and start is not None else "",
            outcome_instrument,
            _ATTENDED.get(attendance.get(key, ""), ""),
            cell(outcome),
            cell(checkin),
            *(cell(answers.get(name)) for name in CHECKIN_DIMENSIONS),
        ]
        if mode == "shifted" and on is not None and shifts is not None:
            row.append((on + timedelta(days=shifts.days(client))).isoformat())
        elif mode:
            row.append(on.isoformat() if on is not None else "")
        writer.writerow(row)
        rows += 1
    return rows


EPISODE_IDS = ("episode", "client", "therapist")
EPISODE_FIGURES = (
    "end_reason",
    "sessions_attended",
    "phq9_first",
    "phq9_last",
    "gad7_first",
    "gad7_last",
    "finished_course",
    "case_at_start",
    "recovery",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
    "mean_checkin",
    "checkins",
)
_DAY_COLUMNS = ("referred_day", "started_day", "ended_day")
_DATE_COLUMNS = ("referred_on", "started_on", "ended_on")


def episode_columns(dates: DateMode = "relative") -> tuple[str, ...]:
    return (
        *EPISODE_IDS,
        *(_DAY_COLUMNS if dates == "relative" else _DATE_COLUMNS),
        *EPISODE_FIGURES,
    )


def _flag(value: bool | None) -> str:
    return "" if value is None else "1" if value else "0"


def _first_last(scores: list[ResponseRecord]) -> tuple[float | None, float | None]:
    """First and last total by time; two on the first date count once, the later (a correction),
    as the outcomes report and alliance.measures.nhs read them; one date gives no last."""
    if not scores:
        return None, None
    first_day = scores[0].submitted_at.date()
    first = [r for r in scores if r.submitted_at.date() == first_day][-1].total
    last = scores[-1].total if scores[-1].submitted_at.date() != first_day else None
    return first, last


def write_episodes_csv(
    data: ClinicData,
    file: IO[str],
    *,
    dates: DateMode = "relative",
    shifts: DateShifts | None = None,
    identities: Mapping[str, str] | None = None,
) -> int:
    """Write the per-episode CSV of `data` (one row per episode, in the records' order)."""
    check_dates(dates, identities)
    if dates == "shifted":
        shifts = shifts or DateShifts()
    who = identities or {}
    attended: dict[str, int] = {}
    for appointment in data.appointments:
        if appointment.attendance == "attended":
            attended[appointment.episode] = attended.get(appointment.episode, 0) + 1
    scores: dict[tuple[str, str], list[ResponseRecord]] = {}
    for response in sorted(data.responses, key=lambda r: r.submitted_at):
        if response.respondent == "client" and response.total is not None:
            scores.setdefault((response.episode, response.instrument), []).append(response)
    first_start: dict[str, date] = {}
    for episode in data.episodes:
        known = first_start.get(episode.client)
        if known is None or episode.started_on < known:
            first_start[episode.client] = episode.started_on

    def when(client: str, day: date | None) -> str:
        if day is None:
            return ""
        if dates == "relative":
            return str((day - first_start[client]).days)
        if dates == "shifted" and shifts is not None:
            return (day + timedelta(days=shifts.days(client))).isoformat()
        return day.isoformat()

    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(episode_columns(dates))
    for episode in data.episodes:
        name = episode.episode
        phq9 = scores.get((name, "phq9"), [])
        gad7 = scores.get((name, "gad7"), [])
        checkins = [r.total for r in scores.get((name, CHECKIN), []) if r.total is not None]
        outcome = episode_outcome(
            [
                Measurement(r.submitted_at.date(), r.instrument, float(r.total))
                for r in (*phq9, *gad7)
                if r.total is not None
            ],
            attended.get(name, 0),
            name,
        )
        writer.writerow(
            [
                who.get(name, name),
                who.get(episode.client, episode.client),
                who.get(episode.therapist, episode.therapist),
                when(episode.client, episode.referred_on),
                when(episode.client, episode.started_on),
                when(episode.client, episode.ended_on),
                episode.end_reason or "",
                str(attended.get(name, 0)),
                *(cell(v) for v in (*_first_last(phq9), *_first_last(gad7))),
                _flag(outcome.finished_course),
                _flag(outcome.case_at_start),
                _flag(outcome.recovery),
                _flag(outcome.reliable_improvement),
                _flag(outcome.reliable_deterioration),
                _flag(outcome.reliable_recovery),
                cell(fmean(checkins)) if checkins else "",
                str(len(checkins)),
            ]
        )
    return len(data.episodes)
