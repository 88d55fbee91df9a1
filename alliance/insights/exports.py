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
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import date
from typing import IO, Any

from alliance.analytics.frames import session_frame
from alliance.analytics.records import ClinicData, ResponseRecord
from alliance.analytics.responses_csv import CHECKIN_DIMENSIONS, DEFAULT_OUTCOME

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
    dates: bool = False,
) -> int:
    """Write the per-response CSV of `data` to an open text file; returns the rows written."""
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
    writer.writerow((*COLUMNS, "date") if dates else COLUMNS)
    rows = 0
    for therapist, client, episode, session, outcome, checkin in sessions.itertuples(
        index=False, name=None
    ):
        key = (episode, session)
        answers = items.get(key, {})
        on = when.get(key)
        start = first_start.get(client)
        row = [
            therapist,
            client,
            episode,
            str(session),
            str((on - start).days) if on is not None and start is not None else "",
            outcome_instrument,
            _ATTENDED.get(attendance.get(key, ""), ""),
            cell(outcome),
            cell(checkin),
            *(cell(answers.get(name)) for name in CHECKIN_DIMENSIONS),
        ]
        if dates:
            row.append(on.isoformat() if on is not None else "")
        writer.writerow(row)
        rows += 1
    return rows
