"""The pure scheduling rules: series dates, session numbering, overlaps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.care.schedule_rules import Busy, Slot, clashes, renumber, series_dates

# Timing is not what these tests check, and a busy CI machine must not fail them.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@st.composite
def episodes(draw: st.DrawFn) -> list[Slot[int]]:
    """An episode's appointments: some fixed with distinct numbers, some movable, some being recorded."""
    size = draw(st.integers(0, 25))
    numbers = draw(st.lists(st.integers(1, 60), min_size=size, max_size=size, unique=True))
    slots = []
    for key, number in enumerate(numbers):
        kind = draw(st.sampled_from(["fixed", "movable", "new"]))
        at = BASE + timedelta(hours=draw(st.integers(-2000, 2000)))
        slots.append(
            Slot(
                key=key,
                at=at,
                number=None if kind == "new" else number,
                fixed=kind != "movable",
            )
        )
    return slots


@RELAXED
@given(episodes())
def test_numbers_are_unique_and_cover_every_slot(slots: list[Slot[int]]) -> None:
    numbers = renumber(slots)
    assert set(numbers) == {s.key for s in slots}
    assert len(set(numbers.values())) == len(numbers)
    assert all(n >= 1 for n in numbers.values())


@RELAXED
@given(episodes())
def test_fixed_sessions_never_change_number(slots: list[Slot[int]]) -> None:
    numbers = renumber(slots)
    for slot in slots:
        if slot.fixed and slot.number is not None:
            assert numbers[slot.key] == slot.number


@RELAXED
@given(episodes())
def test_movable_sessions_follow_dates_after_every_kept_number(slots: list[Slot[int]]) -> None:
    numbers = renumber(slots)
    kept = max((s.number for s in slots if s.fixed and s.number is not None), default=0)
    for group in (
        [s for s in slots if s.fixed and s.number is None],
        [s for s in slots if not s.fixed],
    ):
        ordered = sorted(group, key=lambda s: numbers[s.key])
        assert [s.at for s in ordered] == sorted(s.at for s in group)
        assert all(numbers[s.key] > kept for s in group)
    # No gaps after the kept numbers: the new and movable sessions take the next numbers in turn.
    added = sorted(numbers[s.key] for s in slots if not (s.fixed and s.number is not None))
    assert added == list(range(kept + 1, kept + 1 + len(added)))


@RELAXED
@given(episodes())
def test_renumbering_twice_changes_nothing(slots: list[Slot[int]]) -> None:
    once = renumber(slots)
    again = renumber([Slot(s.key, s.at, once[s.key], s.fixed) for s in slots])
    assert again == once


def test_a_moved_session_swaps_places() -> None:
    slots = [
        Slot(1, BASE, 1, fixed=True),
        Slot(2, BASE + timedelta(days=14), 2, fixed=False),  # moved after session 3
        Slot(3, BASE + timedelta(days=7), 3, fixed=False),
    ]
    assert renumber(slots) == {1: 1, 2: 3, 3: 2}


def test_a_late_recorded_session_slots_in_before_the_scheduled_ones() -> None:
    slots = [
        Slot(1, BASE, 1, fixed=True),
        Slot(2, BASE + timedelta(days=14), 2, fixed=False),
        Slot(9, BASE + timedelta(days=7), None, fixed=True),
    ]
    assert renumber(slots) == {1: 1, 9: 2, 2: 3}


@RELAXED
@given(
    st.integers(0, 2),
    st.integers(1, 52),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_series_keeps_weekday_and_wall_clock_time(every: int, count: int, start: datetime) -> None:
    if count > 1 and every == 0:
        with pytest.raises(ValueError):
            series_dates(start.replace(tzinfo=ZoneInfo("Europe/Madrid")), every, count)
        return
    first = start.replace(second=0, microsecond=0, tzinfo=ZoneInfo("Europe/Madrid"))
    dates = series_dates(first, every, count)
    assert len(dates) == count and dates[0] == first
    for earlier, later in itertools.pairwise(dates):
        assert (later.date() - earlier.date()).days == 7 * every
        assert later.time() == first.time() and later.weekday() == first.weekday()


def test_weekly_series_keeps_ten_o_clock_across_daylight_saving() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    dates = series_dates(datetime(2026, 10, 20, 10, 0, tzinfo=madrid), 1, 2)
    assert [d.hour for d in dates] == [10, 10]
    assert dates[1].utcoffset() != dates[0].utcoffset()


@pytest.mark.parametrize("count", [0, 53])
def test_series_length_is_bounded(count: int) -> None:
    with pytest.raises(ValueError):
        series_dates(BASE, 1, count)


def test_clashes_find_overlaps_but_not_touching_sessions() -> None:
    hour = timedelta(minutes=50)
    busy = [
        Busy(BASE, BASE + hour, "C-A"),
        Busy(BASE + timedelta(hours=2), BASE + timedelta(hours=3), "C-B"),
    ]
    assert clashes([(BASE + hour, BASE + 2 * hour)], busy) == []
    assert [b.label for b in clashes([(BASE + timedelta(minutes=30), BASE + hour * 2)], busy)] == [
        "C-A"
    ]
