"""Saving a response scores it through alliance.measures and keeps the instrument version used."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command

from alliance.care import responses
from alliance.care.models import Respondent, Response, ResponseSource
from alliance.measures import get_instrument
from tests import factories

PHQ9 = {str(n): v for n, v in enumerate([2, 2, 1, 1, 2, 1, 1, 0, 1], start=1)} | {"10": 1}


@pytest.mark.django_db
def test_response_is_scored_with_band_cutoff_and_version() -> None:
    appointment = factories.AppointmentFactory.create()
    recorded = responses.record_response(
        episode=appointment.episode,
        appointment=appointment,
        instrument_id="phq9",
        answers=PHQ9,
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )
    stored = Response.objects.get(pk=recorded.response.pk)
    assert (stored.total, stored.band, stored.above_cutoff, stored.risk) == (
        11,
        "moderate",
        True,
        True,
    )
    assert stored.instrument_version == get_instrument("phq9").version
    assert stored.score["risk_flags"][0]["item"] == "9"


@pytest.mark.django_db
def test_a_later_instrument_change_never_rewrites_history(monkeypatch: pytest.MonkeyPatch) -> None:
    appointment = factories.AppointmentFactory.create()
    first = responses.record_response(
        episode=appointment.episode,
        appointment=appointment,
        instrument_id="phq9",
        answers=PHQ9,
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    ).response
    before = (
        Response.objects.filter(pk=first.pk)
        .values("instrument_version", "total", "band", "score")
        .get()
    )

    revised = dataclasses.replace(get_instrument("phq9"), version="2.0.0")
    monkeypatch.setattr(responses, "get_instrument", lambda instrument_id: revised)
    call_command("alerts", "recompute", stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = (
        Response.objects.filter(pk=first.pk)
        .values("instrument_version", "total", "band", "score")
        .get()
    )
    assert after == before

    later = factories.AppointmentFactory.create(
        episode=appointment.episode, session_number=appointment.session_number + 1
    )
    second = responses.record_response(
        episode=appointment.episode,
        appointment=later,
        instrument_id="phq9",
        answers=PHQ9,
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    ).response
    assert second.instrument_version == "2.0.0" and first.instrument_version != "2.0.0"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("appointment_id = 5", "one_response_per_appointment"),
        ("appointment_id IN (5, 6)", "one_response_per_appointment"),
        ("episode_id = 5", "care_response_episode_idx"),
    ],
)
def test_the_keys_without_an_index_of_their_own_are_found_by_another(
    where: str, index: str
) -> None:
    # The response's episode and appointment keys share the indexes that start with them
    # (alliance/care/models.py, Response): looking responses up by either still reads an index.
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test's tables are tiny
            cursor.execute(f"EXPLAIN SELECT id FROM care_response WHERE {where}")  # noqa: S608
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT id FROM care_response WHERE {where}")  # noqa: S608
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert index in plan, plan
