"""Scheduling rules as plain data: series dates, session numbering and overlaps. No Django here, so the
rules are property-tested on their own (tests/care/test_schedule_rules.py).

Session numbers follow the dates, but only where nothing depends on them yet: a session that has been
recorded, answered or alerted on keeps its number for good (alert keys and Goal-Based Outcomes timing use
session numbers). The sessions still free to move are numbered in date order after the highest kept
number.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

MAX_SERIES = 52
# Repeat choices, in weeks between sessions; 0 is a single session.
REPEAT_WEEKS = {"once": 0, "weekly": 1, "fortnightly": 2}


def series_dates(first: datetime, every_weeks: int, count: int) -> list[datetime]:
    """The start of each session of a series.

    Arithmetic on an aware datetime keeps the wall-clock time (Python adds to the local time and then
    looks the offset up again), so a weekly 10:00 session stays at 10:00 across a daylight-saving change.
    """
    if not 1 <= count <= MAX_SERIES:
        raise ValueError(f"A series has 1 to {MAX_SERIES} sessions.")
    if count > 1 and every_weeks < 1:
        raise ValueError("A series needs at least a week between sessions.")
    return [first + timedelta(weeks=every_weeks * i) for i in range(count)]


@dataclass(frozen=True, slots=True)
class Slot(Generic[K]):
    """One appointment of an episode as the numbering sees it.

    `fixed`: something depends on its number (recorded attendance, a response, an alert, or it has already
    started), so it keeps it. `number` is None for a session being recorded now that needs one.
    """

    key: K
    at: datetime
    number: int | None
    fixed: bool


def renumber(slots: Iterable[Slot[K]]) -> dict[K, int]:
    """The number every slot should have.

    Fixed slots keep theirs. Fixed slots without a number (sessions being recorded now) come next, in date
    order; then every movable slot, in date order (ties broken by the order given, so the result is
    stable). Numbers therefore stay unique, and repeating the call changes nothing.
    """
    ordered = list(slots)
    kept = {s.key: s.number for s in ordered if s.fixed and s.number is not None}
    result: dict[K, int] = dict(kept)
    nxt = max(kept.values(), default=0) + 1
    position = {s.key: i for i, s in enumerate(ordered)}
    unnumbered = [s for s in ordered if s.fixed and s.number is None]
    movable = [s for s in ordered if not s.fixed]
    for group in (unnumbered, movable):
        for slot in sorted(group, key=lambda s: (s.at, position[s.key])):
            result[slot.key] = nxt
            nxt += 1
    return result


@dataclass(frozen=True, slots=True)
class Busy:
    start: datetime
    end: datetime
    label: str


def clashes(wanted: Sequence[tuple[datetime, datetime]], busy: Sequence[Busy]) -> list[Busy]:
    """Busy periods that overlap any wanted period (touching end to start is not a clash)."""
    return [b for b in busy if any(start < b.end and b.start < end for start, end in wanted)]
