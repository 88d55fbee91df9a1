"""Reading the database into records: a fixed number of queries whatever the clinic's size, the
fields as the rows hold them (independently read here through the ORM), pseudonymous ids, the
clinic's time zone, the period and therapist filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.care import models as care
from alliance.insights.pseudonyms import Pseudonyms
from alliance.insights.records import clinic_data
from tests import factories
from tests.insights.builders import build_clinic

pytestmark = pytest.mark.django_db


def count_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        clinic_data()
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_clinic() -> None:
    build_clinic(episodes=6, therapists=2, seed=1)
    small = count_queries()
    build_clinic(episodes=30, therapists=3, seed=2)
    assert count_queries() == small <= 6


def test_records_hold_what_the_rows_hold_under_pseudonyms() -> None:
    clinic = build_clinic(episodes=12, therapists=3, seed=3)
    names = Pseudonyms()
    data = clinic_data(pseudonyms=names)
    assert len(data.episodes) == 12
    by_name = {e.episode: e for e in data.episodes}
    for episode in clinic.episodes:
        record = by_name[names.episode(episode.pk)]
        assert record.client == names.client(episode.client_id)
        assert record.therapist == names.therapist(episode.therapist_id)
        assert (record.started_on, record.ended_on, record.end_reason) == (
            episode.started_on,
            episode.ended_on,
            episode.end_reason,
        )
        # Added today (created_at), started months ago: referred no later than it started.
        assert record.referred_on == episode.started_on
    expected = sorted(
        (names.episode(r.episode_id), r.instrument, r.total, r.respondent, r.submitted_at)
        for r in care.Response.objects.all()
    )
    got = sorted(
        (r.episode, r.instrument, r.total, r.respondent, r.submitted_at) for r in data.responses
    )
    assert got == expected
    sessions = {
        r.pk: (r.appointment.session_number if r.appointment else None)
        for r in care.Response.objects.select_related("appointment")
    }
    assert sorted(map(str, (r.session_number for r in data.responses))) == sorted(
        map(str, sessions.values())
    )
    assert len(data.appointments) == care.Appointment.objects.count()
    for response in data.responses:
        if response.instrument == "checkin" and response.respondent == "client":
            assert set(response.items) == {"bond", "goals", "tasks", "overall"}
            assert sum(response.items.values()) / 4 == pytest.approx(response.total)
        else:
            assert response.items == {}
    every_id = {e.episode for e in data.episodes} | {e.client for e in data.episodes}
    assert not any(c.code in every_id for c in clinic.clients)


def test_the_referral_date_is_the_day_the_episode_was_added() -> None:
    episode = factories.EpisodeFactory.create(started_on=date(2025, 3, 10))
    care.Episode.objects.filter(pk=episode.pk).update(
        created_at=datetime(2025, 2, 20, 15, tzinfo=UTC)
    )
    (record,) = clinic_data().episodes
    assert record.referred_on == date(2025, 2, 20)


def test_times_are_in_the_clinics_time_zone(settings: object) -> None:
    settings.TIME_ZONE = "America/New_York"  # type: ignore[attr-defined]
    episode = factories.EpisodeFactory.create()
    factories.ResponseFactory.create(
        episode=episode, submitted_at=datetime(2025, 3, 10, 2, 30, tzinfo=UTC)
    )
    (response,) = clinic_data().responses
    assert response.submitted_at.date() == date(2025, 3, 9)  # 22:30 the evening before
    assert response.submitted_at == datetime(2025, 3, 10, 2, 30, tzinfo=UTC)


def test_only_numbers_count_as_check_in_answers() -> None:
    episode = factories.EpisodeFactory.create()
    factories.ResponseFactory.create(
        episode=episode,
        instrument="checkin",
        total=7.0,
        answers={"bond": 7, "goals": True, "tasks": "8", "overall": 7.5, "other": 3},
    )
    (response,) = clinic_data().responses
    assert response.items == {"bond": 7.0, "overall": 7.5}


def test_repaired_at_is_when_the_rules_marked_the_repair() -> None:
    episode = factories.EpisodeFactory.create()
    day = timezone.now() - timedelta(days=20)
    closed_after_repair = factories.AlertFactory.create(
        episode=episode,
        status=care.AlertStatus.CLOSED,
        created_at=day,
        resolved_at=day + timedelta(days=9),
    )
    care.AlertNote.objects.create(
        alert=closed_after_repair, action="auto_repaired", created_at=day + timedelta(days=4)
    )
    factories.AlertFactory.create(
        episode=episode,
        status=care.AlertStatus.REPAIRED,
        created_at=day,
        resolved_at=day + timedelta(days=6),
    )
    factories.AlertFactory.create(episode=episode, status=care.AlertStatus.OPEN, created_at=day)
    days = sorted(
        -1 if a.repaired_at is None else (a.repaired_at - a.created_at).days
        for a in clinic_data().alerts
    )
    assert days == [-1, 4, 6]  # open: none; repaired then closed: the note's 4; repaired: 6


def test_period_and_therapist_select_episodes() -> None:
    mine, other = factories.UserFactory.create(), factories.UserFactory.create()
    ended_before = factories.EpisodeFactory.create(
        therapist=mine,
        started_on=date(2024, 1, 1),
        ended_on=date(2024, 12, 31),
        status="ended",
        end_reason="planned",
    )
    during = factories.EpisodeFactory.create(therapist=mine, started_on=date(2025, 2, 1))
    later = factories.EpisodeFactory.create(therapist=mine, started_on=date(2025, 9, 1))
    care.Episode.objects.filter(pk=later.pk).update(created_at=datetime(2025, 8, 20, tzinfo=UTC))
    referred_in_period = factories.EpisodeFactory.create(
        therapist=other, started_on=date(2025, 9, 1)
    )
    care.Episode.objects.filter(pk=referred_in_period.pk).update(
        created_at=datetime.combine(date(2025, 6, 30), time(12), tzinfo=UTC)
    )
    for episode in (ended_before, during, later, referred_in_period):
        factories.AppointmentFactory.create(episode=episode, session_number=1)
    names = Pseudonyms()
    data = clinic_data(start=date(2025, 1, 1), end=date(2025, 6, 30), pseudonyms=names)
    assert {e.episode for e in data.episodes} == {
        names.episode(during.pk),
        names.episode(referred_in_period.pk),
    }
    assert {a.episode for a in data.appointments} == {e.episode for e in data.episodes}
    only_mine = clinic_data(therapist=mine.pk, pseudonyms=names)
    assert {e.therapist for e in only_mine.episodes} == {names.therapist(mine.pk)}
    assert len(only_mine.episodes) == 3
    with pytest.raises(ValueError, match="starts"):
        clinic_data(start=date(2025, 2, 1), end=date(2025, 1, 1))
