"""The Insights pages' filter forms (GET forms: a filtered page is a link that can be shared).

Decisions
  - **Default period**: the last twelve months up to today (the clinic's day), both days included,
    as the outcomes report counts them. Either date may be cleared for an open period.
  - **Bounds**: a period that starts after it ends, a date before 1990 or more than a year in the
    future is refused with a message on the form, never a server error; so is a therapist the
    reader may not see (the choices are only those they may see).
  - Language, intake band and end reason come from the model's choices and the outcomes report's own
    keys, so a filter can never ask the analytics for a value they do not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.analytics.outcomes import band_keys
from alliance.care.models import EndReason, Language

EARLIEST = date(1990, 1, 1)
BAND_LABELS = {
    "minimal": _("None-minimal (PHQ-9 0-4)"),
    "mild": _("Mild (5-9)"),
    "moderate": _("Moderate (10-14)"),
    "moderately_severe": _("Moderately severe (15-19)"),
    "severe": _("Severe (20-27)"),
    "none": _("No PHQ-9 at intake"),
}


def default_period(today: date | None = None) -> tuple[date, date]:
    end = today or timezone.localdate()
    return end - timedelta(days=365), end


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # An empty query string means "the defaults", not "an open period".
        if not data:
            start, end = default_period()
            data = {"start": start.isoformat(), "end": end.isoformat()}
        super().__init__(data, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        latest = timezone.localdate() + timedelta(days=366)
        for name in ("start", "end"):
            day = cleaned.get(name)
            if day is not None and not EARLIEST <= day <= latest:
                self.add_error(
                    name,
                    _("Choose a date between %(first)s and %(last)s.")
                    % {"first": EARLIEST.isoformat(), "last": latest.isoformat()},
                )
        if start is not None and end is not None and start > end:
            self.add_error("end", _("The period ends before it starts."))
        return cleaned


class OutcomesFilterForm(PeriodForm):
    therapist = forms.ChoiceField(label=_("Therapist"), required=False)
    language = forms.ChoiceField(
        label=_("Client's language"),
        required=False,
        choices=[("", _("Any")), *Language.choices],
    )
    intake_band = forms.ChoiceField(
        label=_("Intake band"),
        required=False,
        choices=[("", _("Any")), *((key, BAND_LABELS.get(key, key)) for key in band_keys())],
    )
    end_reason = forms.ChoiceField(
        label=_("End reason"),
        required=False,
        choices=[("", _("Any")), *EndReason.choices],
    )

    def __init__(
        self,
        data: Any = None,
        *,
        therapists: Sequence[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        if therapists is None:
            del self.fields["therapist"]  # a therapist's own page: nobody else to choose
        else:
            field = self.fields["therapist"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [
                ("", _("All I may see")),
                *((str(pk), name) for pk, name in therapists),
            ]

    def therapist_id(self) -> int | None:
        value = self.cleaned_data.get("therapist") if "therapist" in self.fields else None
        return int(value) if value else None
