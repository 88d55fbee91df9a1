"""The client's pages run a fixed, small number of SQL queries (baselines as in
tests/care/test_query_counts.py: if a change adds one, update the number here deliberately).

Landing, before issue 10: 10 queries, three of them writes (a rate-limit row in the database cache,
the cache's cull count, the audit event). After issue 10's first pass: the link (one SELECT with the
appointment, episode, client and therapist), the goal count, the answered forms, the audit event.
Now the link, its goal count and the answered forms are one statement (alliance.checkin.lookup: the
ORM's compilation of three queries cost more than the bare request under load), then the audit event;
the link's first-opened time is written on the first visit only, and a valid link never touches the
rate-limit cache.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from alliance.checkin.page_forms import new_started_value
from tests.checkin.conftest import Visit, checkin

LANDING = 2
LANDING_FIRST_VISIT = LANDING + 1  # CheckinLink.first_opened_at, once
# The link with its goal count and answered forms (which also says the form is not yet answered, so
# there is no separate duplicate check: the unique constraint catches a race), then one transaction for
# the response and its audit event (inside a test's transaction: SAVEPOINT, two INSERTs, RELEASE). The
# response's INSERT skips a row the constraint refuses instead of raising, so it needs no savepoint of
# its own (alliance.core.inserts); before that the count was 7. The tests' job backend runs the
# recompute in-process after a commit a test never makes; in production the job's row is a third
# INSERT in the same transaction.
SUBMISSION = 5


def _queries(call: object) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()  # type: ignore[operator]
    return [q["sql"] for q in captured.captured_queries]


def test_landing_queries(visit: Visit) -> None:
    http = HttpClient()
    first = _queries(lambda: http.get(visit.url()))
    again = _queries(lambda: http.get(visit.url()))
    assert len(first) == LANDING_FIRST_VISIT
    assert len(again) == LANDING
    writes = [q for q in again if not q.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 and "auditevent" in writes[0]  # the audit of the visit, nothing else


def test_submission_queries(visit: Visit) -> None:
    http = HttpClient()
    http.get(visit.url())
    appointment = visit.appointment
    session_end = appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes)
    with time_machine.travel(session_end, tick=False):
        data = checkin() | {"started": new_started_value()}
        captured = _queries(lambda: http.post(visit.url("answer", "checkin"), data))
    assert len(captured) == SUBMISSION, "\n".join(captured)
    assert sum(q.startswith("INSERT") for q in captured) == 2  # the response and its audit event
