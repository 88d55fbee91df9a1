"""The therapist's iCalendar feed: a secret URL, client codes only, renewable."""

from __future__ import annotations

import uuid
from datetime import timedelta

import icalendar
import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent, User
from alliance.care import calendar_feed
from alliance.care.models import Attendance, CalendarFeed
from alliance.checkin import tokens
from tests import factories
from tests.care.builders import http_as, session_in
from tests.conftest import Clinic


def _renew(http: HttpClient) -> str:
    page = http.post(reverse("calendar_renew"), {"submission_id": str(uuid.uuid4())})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    body = page.content.decode()
    return body.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]


def _events(body: bytes) -> list[icalendar.Component]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def test_feed_lists_the_therapists_sessions_by_code_only(clinic: Clinic) -> None:
    cancelled = session_in(clinic.episode, 2, days=8, attendance=Attendance.LATE_CANCEL)
    too_old = factories.AppointmentFactory.create(
        episode=clinic.episode, session_number=3, scheduled_at=timezone.now() - timedelta(days=40)
    )
    url = _renew(http_as(clinic.owner))
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")

    feed = HttpClient().get(url)
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    assert "no-store" in feed["Cache-Control"]
    events = {str(e["uid"]): e for e in _events(feed.content)}
    assert set(events) == {
        calendar_feed.uid(clinic.appointment.pk, "testserver"),
        calendar_feed.uid(cancelled.pk, "testserver"),
    }
    assert calendar_feed.uid(too_old.pk, "testserver") not in events
    first = events[calendar_feed.uid(clinic.appointment.pk, "testserver")]
    assert str(first["summary"]) == f"Session 1 · {clinic.client.code}"
    assert first.decoded("dtstart") == clinic.appointment.scheduled_at.replace(microsecond=0)
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(minutes=50)
    assert str(first["status"]) == "CONFIRMED"
    assert str(events[calendar_feed.uid(cancelled.pk, "testserver")]["status"]) == "CANCELLED"
    # Nothing that names the client or says anything clinical.
    for secret in (clinic.client.name, clinic.client.email, "phq", "PHQ", "Speak up"):
        assert secret.encode() not in feed.content
    # The colleague's sessions are not in the owner's feed.
    assert b"C-COL01" not in feed.content


def test_uids_stay_the_same_when_a_session_moves(clinic: Clinic) -> None:
    url = _renew(http_as(clinic.owner))
    before = {str(e["uid"]) for e in _events(HttpClient().get(url).content)}
    clinic.appointment.scheduled_at += timedelta(hours=3)
    clinic.appointment.save()
    after = _events(HttpClient().get(url).content)
    assert {str(e["uid"]) for e in after} == before
    assert after[0].decoded("dtstart") == clinic.appointment.scheduled_at.replace(microsecond=0)


def test_renewing_kills_the_old_address_at_once(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    old = _renew(http)
    new = _renew(http)
    assert old != new
    assert HttpClient().get(old).status_code == 404
    assert HttpClient().get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=clinic.owner).count() == 1


def test_only_a_digest_of_the_token_is_stored(clinic: Clinic) -> None:
    url = _renew(http_as(clinic.owner))
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    stored = CalendarFeed.objects.get(user=clinic.owner).token_digest
    assert stored == tokens.digest(token) and token not in stored


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 200])
def test_unknown_tokens_get_404(clinic: Clinic, token: str) -> None:
    calendar_feed.issue(clinic.owner)
    assert HttpClient().get(reverse("calendar_feed", args=[token])).status_code == 404


def test_a_deactivated_therapists_feed_stops(clinic: Clinic) -> None:
    token = calendar_feed.issue(clinic.owner)
    User.objects.filter(pk=clinic.owner.pk).update(is_active=False)
    assert HttpClient().get(reverse("calendar_feed", args=[token])).status_code == 404


def test_reading_the_feed_is_audited_and_noted(clinic: Clinic) -> None:
    token = calendar_feed.issue(clinic.owner)
    HttpClient().get(reverse("calendar_feed", args=[token]))
    event = AuditEvent.objects.get(action="care.calendar.read")
    assert event.actor == clinic.owner and event.data == {"appointments": 1}
    assert CalendarFeed.objects.get(user=clinic.owner).last_used_at is not None


def test_settings_page_says_whether_a_feed_exists_and_never_shows_the_token(
    clinic: Clinic,
) -> None:
    http = http_as(clinic.owner)
    page = http.get(reverse("calendar_settings")).content.decode()
    assert "You have no calendar address yet." in page
    url = _renew(http)
    page = http.get(reverse("calendar_settings")).content.decode()
    assert "You have a calendar address" in page and url not in page


def test_a_double_submitted_renewal_renews_once(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    data = {"submission_id": str(uuid.uuid4())}
    first = http.post(reverse("calendar_renew"), data)
    digest = CalendarFeed.objects.get(user=clinic.owner).token_digest
    second = http.post(reverse("calendar_renew"), data)
    assert first.status_code == 200 and second.status_code == 302
    assert CalendarFeed.objects.get(user=clinic.owner).token_digest == digest


def test_an_incomplete_renewal_says_so(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    page = http.post(reverse("calendar_renew"), {}, follow=True)
    assert "nothing changed" in page.content.decode()
    assert not CalendarFeed.objects.exists()
