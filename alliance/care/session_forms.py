"""Forms of the session page: what happened, the therapist's own rating, and giving the client a link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.care.models import Appointment, Attendance
from alliance.care.words import reading_language
from alliance.core import dates
from alliance.core.once import OnceFormMixin
from alliance.measures import get_instrument

THERAPIST_RATING = "checkin-therapist"


class RatingField(forms.TypedChoiceField):
    """One 0-10 item of the therapist's rating, with the anchors the template shows."""

    def __init__(self, *, low: int, high: int, anchor_low: str, anchor_high: str, **kwargs: Any):
        super().__init__(
            choices=[(str(v), str(v)) for v in range(low, high + 1)],
            coerce=int,
            required=False,
            empty_value=None,
            widget=forms.RadioSelect,
            **kwargs,
        )
        self.anchor_low = anchor_low
        self.anchor_high = anchor_high


class SessionForm(OnceFormMixin, forms.Form):
    """Attendance and, when the session took place, the therapist's view of it (the same four
    dimensions the client rates, so the two can be compared)."""

    attendance = forms.ChoiceField(
        label=gettext_lazy("What happened?"),
        choices=Attendance.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose what happened.")},
    )

    def __init__(self, *args: Any, appointment: Appointment, now: datetime, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.now = now
        self.instrument = get_instrument(THERAPIST_RATING)
        for item in self.instrument.items:
            if item.kind != "integer" or item.min_value is None or item.max_value is None:
                continue
            self.fields[item.link_id] = RatingField(
                low=item.min_value,
                high=item.max_value,
                anchor_low=item.anchor_low(reading_language()) or _("Not at all"),
                anchor_high=item.anchor_high(reading_language()) or _("Completely"),
                label=item.text(reading_language()),
            )

    @property
    def rating_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if isinstance(self.fields[name], RatingField)]

    def clean_attendance(self) -> str:
        value: str = self.cleaned_data["attendance"]
        if value != Attendance.SCHEDULED and self.appointment.scheduled_at > self.now:
            starts = timezone.localtime(self.appointment.scheduled_at)
            raise forms.ValidationError(
                _(
                    "This session has not started yet (it starts %(when)s). Record what happened "
                    "once it has begun; until then it stays scheduled."
                )
                % {"when": dates.dated(starts)}
            )
        return value

    @property
    def answers(self) -> dict[str, int]:
        data = getattr(self, "cleaned_data", {})
        return {f.name: data[f.name] for f in self.rating_fields if data.get(f.name) is not None}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        answers = self.answers
        if not answers:
            return cleaned
        if cleaned.get("attendance") not in (None, Attendance.ATTENDED):
            raise forms.ValidationError(
                _("Rate the session only if it took place (choose Attended), or clear the rating.")
            )
        for link_id in self.instrument.validate_answers(answers):
            if link_id in self.fields:
                self.add_error(link_id, _("Rate this too, or clear the whole rating."))
        return cleaned


class LinkForm(OnceFormMixin, forms.Form):
    """The buttons that create a link (shown with its QR code) or email one: nothing to fill in, but
    a double click must not send two emails."""
