"""The long lists of the agenda, the journal and a supervisor's page (templatetags/workday_lists.py):
one row per client for unacknowledged risk, text escaped as the template engine would, and the
month's attendance counted on the stored datetimes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.care import journal
from alliance.care import models as care
from tests import factories
from tests.care.builders import http_as
from tests.conftest import Clinic


def _risk(episode: care.Episode, days: int, title: str, severity: str = "red") -> care.Alert:
    alert = factories.AlertFactory.create(
        episode=episode, kind=care.AlertKind.RISK, severity=severity, title=title
    )
    care.Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(days=days))
    return alert


def test_unacknowledged_risk_is_one_row_per_client_the_longest_waiting_first(
    clinic: Clinic,
) -> None:
    oldest = _risk(clinic.episode, 9, "Risk item answered")
    _risk(clinic.episode, 4, "Risk item answered", severity="urgent")
    _risk(clinic.episode, 2, "Risk item answered again")
    other = factories.EpisodeFactory.create(therapist=clinic.owner)
    newer = _risk(other, 1, "Risk item answered")
    page = http_as(clinic.supervisor).get(reverse("supervisee_detail", args=[clinic.owner.pk]))
    section = page.content.decode().split('id="risk-heading"')[1].split('id="alerts-heading"')[0]
    assert section.count("attention-item") == 2
    mine = reverse("client_detail", args=[clinic.client.code]) + f"#alert-{oldest.pk}"
    theirs = reverse("client_detail", args=[other.client.code]) + f"#alert-{newer.pk}"
    assert section.index(mine) < section.index(theirs)
    # The most severe of the client's alerts marks the row; each distinct title once, oldest first.
    first_row = section.split("<li")[1]
    assert "alert-urgent" in first_row and "3 unacknowledged, the oldest waiting 1" in first_row
    assert "Risk item answered · Risk item answered again" in first_row
    assert "waiting 1\xa0day" in section.split("<li")[2]


def test_reflection_text_is_escaped_with_its_line_breaks(clinic: Clinic) -> None:
    text = "<b>Bold</b> & first line\nsecond line"
    care.Reflection.objects.filter(pk=clinic.shared_reflection.pk).update(text=text)
    expected = "&lt;b&gt;Bold&lt;/b&gt; &amp; first line<br>second line"
    supervisor_page = http_as(clinic.supervisor).get(
        reverse("supervisee_detail", args=[clinic.owner.pk])
    )
    assert expected in supervisor_page.content.decode()
    journal_page = http_as(clinic.owner).get(reverse("journal")).content.decode()
    assert expected in journal_page and "<b>Bold" not in journal_page
    assert "shared with your supervisor" in journal_page and "private" in journal_page


def test_agenda_rows_say_moved_and_cancelled(clinic: Clinic) -> None:
    # Noon of the appointment's day (tomorrow), so that the hour after it is in the same week
    # whatever the time now: from a Saturday evening, "tomorrow plus an hour" was next week.
    when = timezone.localtime(clinic.appointment.scheduled_at).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    moved_from = when - timedelta(hours=3)
    care.Appointment.objects.filter(pk=clinic.appointment.pk).update(
        scheduled_at=when, moved_from=moved_from
    )
    cancelled = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=2,
        scheduled_at=when + timedelta(hours=1),
        attendance=care.Attendance.CANCELLED,
    )
    year, week, _ = when.date().isocalendar()
    page = http_as(clinic.owner).get(reverse("agenda"), {"week": f"{year}-W{week:02d}"})
    body = page.content.decode()
    rows = body.split('<li class="agenda-item')[1:]
    assert len(rows) == 2
    booked, gone = rows
    assert f"moved from {moved_from:%a} {moved_from.day} {moved_from:%b, %H:%M}" in booked
    assert reverse("appointment_move", args=[clinic.appointment.pk]) in booked
    assert gone.startswith(" agenda-cancelled")
    assert reverse("appointment_brief", args=[cancelled.pk]) not in gone
    assert reverse("appointment_move", args=[cancelled.pk]) not in gone
    assert "&lt;" not in body.split("agenda-list")[1]  # nothing double-escaped


@pytest.mark.django_db
def test_caseload_summary_counts_the_month_by_local_day() -> None:
    therapist = factories.UserFactory.create()
    episode = factories.EpisodeFactory.create(therapist=therapist)
    today = timezone.localdate().replace(day=15)
    first = today.replace(day=1)

    def at(day: datetime) -> None:
        factories.AppointmentFactory.create(
            episode=episode, scheduled_at=day, attendance=care.Attendance.ATTENDED
        )

    zone = timezone.get_current_timezone()
    at(datetime.combine(first, time(0, 5), tzinfo=zone))  # counted: this month
    at(datetime.combine(today, time(23, 55), tzinfo=zone))  # counted: today, late
    at(datetime.combine(first, time(0, 0), tzinfo=zone) - timedelta(minutes=5))  # last month
    at(datetime.combine(today + timedelta(days=1), time(0, 5), tzinfo=zone))  # tomorrow
    summary = journal.caseload_summary(therapist, today)
    assert summary["attended"] == 2 and summary["booked"] == 2
