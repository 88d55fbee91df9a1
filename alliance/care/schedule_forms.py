"""Forms for booking, moving and cancelling sessions, the agenda's navigation and the calendar feed."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.care import scheduling
from alliance.care.models import Appointment, Attendance, Episode
from alliance.care.schedule_rules import MAX_SERIES, REPEAT_WEEKS, Busy, series_dates
from alliance.core import dates
from alliance.core.once import OnceFormMixin

# Far enough for a long series; further ahead is more likely a typo in the year.
MAX_AHEAD = timedelta(days=2 * 365)
PAST_OUTCOMES = [
    (Attendance.ATTENDED, Attendance.ATTENDED.label),
    (Attendance.CANCELLED, Attendance.CANCELLED.label),
    (Attendance.LATE_CANCEL, Attendance.LATE_CANCEL.label),
    (Attendance.NO_SHOW, Attendance.NO_SHOW.label),
]
REPEAT_CHOICES = [
    ("once", gettext_lazy("One session")),
    ("weekly", gettext_lazy("Weekly")),
    ("fortnightly", gettext_lazy("Every two weeks")),
]


def when_label(value: datetime) -> str:
    """A session time as messages and errors show it, in the active language: Fri 4 Dec 2026, 16:00
    (vie 4 dic 2026, 16:00)."""
    return dates.dated(value)


def _clash_message(found: list[Busy]) -> str:
    listed = ", ".join(f"{b.label} at {when_label(b.start)}" for b in found[:3])
    more = _(" and %(n)d more") % {"n": len(found) - 3} if len(found) > 3 else ""
    return _(
        "This overlaps another of your sessions (%(listed)s%(more)s). Change the time, or tick "
        "“Book even if it overlaps”."
    ) % {"listed": listed, "more": more}


class _WhenMixin(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    overlap_ok = forms.BooleanField(
        label=gettext_lazy("Book even if it overlaps another of my sessions"), required=False
    )

    def _start(self) -> datetime | None:
        day: date | None = self.cleaned_data.get("date")
        at: time | None = self.cleaned_data.get("time")
        if day is None or at is None:
            return None
        return timezone.make_aware(datetime.combine(day, at.replace(second=0, microsecond=0)))


class BookForm(OnceFormMixin, _WhenMixin):
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Length in minutes"), min_value=10, max_value=240, initial=50
    )
    repeat = forms.ChoiceField(
        label=gettext_lazy("Repeat"),
        choices=REPEAT_CHOICES,
        initial="once",
        widget=forms.RadioSelect,
    )
    count = forms.IntegerField(
        label=gettext_lazy("Number of sessions"),
        min_value=1,
        max_value=MAX_SERIES,
        initial=1,
        help_text=gettext_lazy(
            "For a series: how many sessions, the first one included (1 to 52)."
        ),
    )
    happened = forms.ChoiceField(
        label=gettext_lazy("If the date is in the past: what happened?"),
        choices=[("", gettext_lazy("Not yet: the session is still to come")), *PAST_OUTCOMES],
        required=False,
        help_text=gettext_lazy(
            "A session in the past is recorded, not booked. A series can only start in the future."
        ),
    )

    def __init__(self, *args: Any, episode: Episode, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.starts: list[datetime] = []
        self.is_past = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start = self._start()
        repeat = cleaned.get("repeat")
        count = cleaned.get("count")
        minutes = cleaned.get("duration_minutes")
        if start is None or repeat is None or count is None or minutes is None:
            return cleaned
        now = timezone.now()
        if repeat == "once" and count > 1:
            self.add_error(
                "repeat",
                _("Choose weekly or every two weeks to book %(n)d sessions.") % {"n": count},
            )
            return cleaned
        if start <= now:
            self.is_past = True
            if repeat != "once" or count > 1:
                self.add_error("date", _("A series can only start in the future."))
            elif not cleaned.get("happened"):
                self.add_error("happened", _("This date is in the past: record what happened."))
            if start.date() < self.episode.started_on:
                self.add_error("date", _("This is before the episode started."))
        else:
            if cleaned.get("happened"):
                self.add_error(
                    "happened",
                    _(
                        "This session has not started yet: choose “Not yet”, and record what "
                        "happened on the session page afterwards."
                    ),
                )
            if start - now > MAX_AHEAD:
                self.add_error("date", _("Book at most two years ahead."))
        if self.errors:
            return cleaned
        self.starts = series_dates(timezone.localtime(start), REPEAT_WEEKS[repeat], count)
        if not cleaned.get("overlap_ok") and not self.is_past:
            found = scheduling.clashing(self.episode.therapist, self.starts, minutes)
            if found:
                self.add_error(None, _clash_message(found))
        return cleaned


class MoveForm(OnceFormMixin, _WhenMixin):
    def __init__(self, *args: Any, appointment: Appointment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.start: datetime | None = None
        if not self.is_bound:
            local = timezone.localtime(appointment.scheduled_at)
            self.initial.update({"date": local.date(), "time": local.time()})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start = self._start()
        if start is None:
            return cleaned
        now = timezone.now()
        if start <= now:
            self.add_error(
                "date",
                _("A session can only be moved to a time still ahead."),
            )
        elif start - now > MAX_AHEAD:
            self.add_error("date", _("Move it at most two years ahead."))
        elif start == self.appointment.scheduled_at:
            self.add_error("date", _("This is the time it already has."))
        if self.errors:
            return cleaned
        if not cleaned.get("overlap_ok"):
            found = scheduling.clashing(
                self.appointment.episode.therapist,
                [start],
                self.appointment.duration_minutes,
                ignore=self.appointment.pk,
            )
            if found:
                self.add_error(None, _clash_message(found))
        self.start = start
        return cleaned


class CancelForm(OnceFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("How was it cancelled?"),
        choices=[
            (Attendance.CANCELLED, Attendance.CANCELLED.label),
            (Attendance.LATE_CANCEL, Attendance.LATE_CANCEL.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose with notice or late.")},
    )


class RenewFeedForm(OnceFormMixin, forms.Form):
    """Nothing to fill in: the form exists so that a double click renews once."""


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class AgendaForm(forms.Form):
    """The agenda's navigation: `?week=2026-W49` or `?day=2026-12-01`; neither means today."""

    week = forms.CharField(required=False, max_length=8)
    day = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Give the day as YYYY-MM-DD.")},
    )

    def clean_week(self) -> date | None:
        raw = self.cleaned_data.get("week") or ""
        if not raw:
            return None
        match = _WEEK.match(raw)
        try:
            if match is None:
                raise ValueError
            return date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise forms.ValidationError(
                _("Give the week as YYYY-Www, for example 2026-W49.")
            ) from None
