"""The after-session check-in cannot be answered before the session (issue 10, point 5).

The rule (alliance.checkin.flow.after_session_opens_at): it opens at the booked end of the session
less a small margin (AFTER_SESSION_MARGIN), never before the start. Before then the landing offers the
before-session part only and says when the rest opens; an early POST is refused, answers kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from django.core import signing
from django.test import Client as HttpClient
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from alliance.care.models import Response
from alliance.checkin import flow
from alliance.checkin.page_forms import STARTED_SALT
from tests.checkin.conftest import Visit, checkin

MARGIN = flow.AFTER_SESSION_MARGIN

starts = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=600)
margins = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2))


@given(starts, durations, margins)
def test_it_never_opens_before_the_session_starts_nor_after_it_ends(
    start: datetime, minutes: int, margin: timedelta
) -> None:
    opens = flow.after_session_opens_at(start, minutes, margin)
    assert start <= opens <= start + timedelta(minutes=minutes)
    # The margin is honoured whenever the session is long enough to allow it.
    if timedelta(minutes=minutes) >= margin:
        assert opens == start + timedelta(minutes=minutes) - margin


@given(starts, durations, st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)))
def test_open_is_exactly_from_the_opening_time_on(
    start: datetime, minutes: int, offset: timedelta
) -> None:
    opens = flow.after_session_opens_at(start, minutes)
    now = opens + offset
    assert flow.after_session_open(now, start, minutes) is (offset >= timedelta(0))


@given(starts, durations, durations)
def test_a_longer_session_never_opens_earlier(start: datetime, a: int, b: int) -> None:
    shorter, longer = sorted((a, b))
    assert flow.after_session_opens_at(start, shorter) <= flow.after_session_opens_at(start, longer)


def _started() -> str:
    return signing.TimestampSigner(salt=STARTED_SALT).sign(timezone.now().isoformat())


def _opens(visit: Visit) -> datetime:
    appointment = visit.appointment
    return appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes) - MARGIN


def test_hours_before_the_session_the_landing_offers_the_before_part_and_says_when(
    visit: Visit,
) -> None:
    visit.appointment.scheduled_at = timezone.now().replace(
        hour=15, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    visit.appointment.save(update_fields=["scheduled_at"])
    with time_machine.travel(visit.appointment.scheduled_at - timedelta(hours=3), tick=False):
        body = HttpClient().get(visit.url()).content.decode()
    assert 'href="' + visit.url("answer", "phq9") + '"' in body
    assert visit.url("answer", "checkin") not in body
    after = body[body.index('id="after-heading"') :]
    # 15:00 + 50 minutes - 10 minutes, in the clinic's time zone (UTC in the tests).
    # With the weekday: a link opened the day before should not leave the client counting days.
    weekday = visit.appointment.scheduled_at.strftime("%A")
    assert f"they open as it ends: from {weekday} " in after and " at 15:40" in after


def test_the_spanish_landing_says_when_in_spanish(visit: Visit) -> None:
    with time_machine.travel(visit.appointment.scheduled_at - timedelta(hours=3), tick=False):
        body = HttpClient().get(visit.url() + "?lang=es").content.decode()
    assert re.search(
        r"se abren cuando termina: a partir del [a-záéíóú]+ \d{1,2} de [a-z]+ a las \d\d:\d\d", body
    )


def test_an_early_post_is_refused_with_the_answers_kept(visit: Visit) -> None:
    data = checkin(bond=6, better="Too early to say") | {"started": _started()}
    with time_machine.travel(_opens(visit) - timedelta(minutes=1), tick=False):
        page = HttpClient().post(visit.url("answer", "checkin"), data)
    body = page.content.decode()
    assert page.status_code == 409
    assert "open as your session ends" in body and 'role="alert"' in body
    assert 'name="q_bond" value="6" checked' in body and "Too early to say" in body
    assert Response.objects.count() == 0


def test_an_early_visit_to_the_after_form_goes_back_to_the_landing(visit: Visit) -> None:
    with time_machine.travel(visit.appointment.scheduled_at, tick=False):
        page = HttpClient().get(visit.url("answer", "checkin"))
    assert page.status_code == 302 and page["Location"] == visit.url()


def test_from_the_opening_time_the_check_in_is_offered_and_stored(visit: Visit) -> None:
    with time_machine.travel(_opens(visit), tick=False):
        http = HttpClient()
        landing = http.get(visit.url()).content.decode()
        assert visit.url("answer", "checkin") in landing and "open as it ends" not in landing
        page = http.post(visit.url("answer", "checkin"), checkin() | {"started": _started()})
    assert page.status_code == 302
    assert Response.objects.filter(instrument="checkin").count() == 1


def test_thanks_after_the_before_part_does_not_offer_the_after_part_early(visit: Visit) -> None:
    with time_machine.travel(visit.appointment.scheduled_at - timedelta(hours=1), tick=False):
        body = HttpClient().get(visit.url("thanks")).content.decode()
    assert visit.url("answer", "checkin") not in body
    assert "open as it ends" in body


def test_a_moved_session_moves_the_opening(visit: Visit) -> None:
    original = _opens(visit)
    visit.appointment.scheduled_at += timedelta(days=1)
    visit.appointment.save(update_fields=["scheduled_at"])
    with time_machine.travel(original + timedelta(minutes=5), tick=False):
        page = HttpClient().post(
            visit.url("answer", "checkin"), checkin() | {"started": _started()}
        )
    assert page.status_code == 409 and Response.objects.count() == 0
