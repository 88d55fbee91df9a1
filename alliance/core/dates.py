"""Dates and times for long lists (caseload, sessions, journal), in the active language, quickly.

Django's `date` filter and `formats.date_format` translate the month and weekday names on every
call; a 50-row table with two dates a row spent more on that than on the rest of its formatting
(issue 10, point 6). Here the names are resolved once per language and process, and each date is
assembled with an f-string. The shapes are the same in every language ("Tue 6 Oct 2026, 19:05",
"mar 6 oct 2026, 19:05"): day before month, a 24-hour clock, as both English and Spanish clinical
records write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache

from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR


@dataclass(frozen=True)
class Names:
    months: tuple[str, ...]  # index 1..12 (index 0 unused)
    weekdays: tuple[str, ...]  # Monday first, as date.weekday()
    # The active time zone when the names were taken: looking it up costs a context-local read per
    # call, which was a twentieth of a caseload view's CPU with one lookup per row (issue 10, point 6).
    zone: tzinfo | None = None


@cache
def _names_in(language: str, zone: tzinfo | None) -> Names:
    with translation.override(language):
        months = [str(MONTHS_3[m]) for m in range(1, 13)]
        if language.startswith("en"):
            months = [m.title() for m in months]  # "Oct", as English writes it
        return Names(("", *months), tuple(str(WEEKDAYS_ABBR[d]) for d in range(7)), zone)


def names() -> Names:
    """The month and weekday abbreviations of the active language, and the active time zone: take
    them once per table, not once per row."""
    return _names_in(translation.get_language() or "en", timezone.get_current_timezone())


def _clock(local: datetime) -> str:
    # Not strftime("%H:%M"): the same text, without parsing a format on every call.
    return f"{local.hour:02d}:{local.minute:02d}"


def day(value: date, in_names: Names | None = None) -> str:
    """6 Oct 2026."""
    n = in_names or names()
    return f"{value.day} {n.months[value.month]} {value.year}"


def when(value: datetime | None, in_names: Names | None = None) -> str:
    """Tue 6 Oct, 19:05 (local time), for what is near: no year."""
    if value is None:
        return ""
    n = in_names or names()
    local = timezone.localtime(value, n.zone)
    return f"{n.weekdays[local.weekday()]} {local.day} {n.months[local.month]}, {_clock(local)}"


def dated(value: datetime, in_names: Names | None = None) -> str:
    """Tue 6 Oct 2026, 19:05 (local time), for histories that span years."""
    n = in_names or names()
    local = timezone.localtime(value, n.zone)
    return (
        f"{n.weekdays[local.weekday()]} {local.day} {n.months[local.month]} {local.year}, "
        f"{_clock(local)}"
    )
