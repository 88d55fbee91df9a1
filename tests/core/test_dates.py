"""alliance.core.dates writes what Django's own date formatting writes, in the time zone that was
active when the table took its names (the zone is looked up once per table, not once per row)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from alliance.core import dates

ZONES = ["UTC", "Europe/Madrid", "America/Los_Angeles", "Australia/Adelaide", "Asia/Kathmandu"]

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


def _django(value: datetime, zone: str, with_year: bool) -> str:
    """Django's formatting of the same moment: the reference."""
    local = timezone.localtime(value, ZoneInfo(zone))
    shape = "D j M Y, H:i" if with_year else "D j M, H:i"
    return formats.date_format(local, shape)


@given(value=moments, zone=st.sampled_from(ZONES))
def test_when_and_dated_in_english_are_djangos_formatting(value: datetime, zone: str) -> None:
    with translation.override("en"), timezone.override(zone):
        calendar = dates.names()
        assert dates.when(value, calendar) == _django(value, zone, with_year=False)
        assert dates.dated(value, calendar) == _django(value, zone, with_year=True)
        # Without names passed in, the active language and zone are read on the call.
        assert dates.when(value) == dates.when(value, calendar)


@given(value=moments, zone=st.sampled_from(ZONES))
def test_spanish_keeps_the_lower_case_month(value: datetime, zone: str) -> None:
    # Spanish writes "mar 6 oct 2026, 19:05" (Django's "M" would capitalise the month).
    with translation.override("es"), timezone.override(zone):
        written = dates.dated(value, dates.names())
    assert written.lower() == _django_in("es", value, zone).lower()
    month = written.split(" ")[2]
    assert month == month.lower()


def _django_in(language: str, value: datetime, zone: str) -> str:
    with translation.override(language):
        return _django(value, zone, with_year=True)


def test_names_carry_the_zone_active_when_they_were_taken() -> None:
    moment = datetime(2026, 10, 6, 17, 5, tzinfo=UTC)
    with translation.override("en"):
        with timezone.override("Europe/Madrid"):
            madrid = dates.names()
        with timezone.override("America/Los_Angeles"):
            los_angeles = dates.names()
            # A table's names keep their zone, whatever is active when the row is written.
            assert dates.when(moment, madrid) == "Tue 6 Oct, 19:05"
            assert dates.when(moment, los_angeles) == "Tue 6 Oct, 10:05"
            assert dates.when(moment) == "Tue 6 Oct, 10:05"


def test_a_naive_time_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        dates.when(datetime(2026, 10, 6, 17, 5), dates.names())
