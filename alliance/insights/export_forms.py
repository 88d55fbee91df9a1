"""The export form: format, period, de-identified or identified, and how dates leave.

Decisions
  - Identified (client codes, therapist emails, real dates) is a separate, explicit choice that
    only an administrator is offered; for anyone else it is refused with a message, not ignored.
  - "Real dates" is not a choice of its own: real dates are identifiers and come only with an
    identified export; de-identified exports choose relative days or per-client shifted dates.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

FORMATS = (
    ("csv-episodes", _("CSV, one row per episode")),
    ("csv-responses", _("CSV, one row per client session (responses)")),
    ("fhir", _("FHIR R4 Bundle of the questionnaire data (JSON)")),
    ("pdf", _("The report as PDF")),
)
DATES = (
    ("relative", _("Days from the client's first episode (no calendar dates)")),
    ("shifted", _("Calendar dates shifted per client by a fixed random number of days")),
)


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=FORMATS, label=_("Format"))
    start = forms.DateField(required=False, label=_("From (first day)"))
    end = forms.DateField(required=False, label=_("To (last day)"))
    dates = forms.ChoiceField(choices=DATES, initial="relative", required=False, label=_("Dates"))
    identified = forms.BooleanField(
        required=False,
        label=_(
            "Identified: client codes, therapist emails and real dates (administrators only; "
            "audited)"
        ),
    )

    def __init__(self, *args: Any, may_identify: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.may_identify = may_identify
        if not may_identify:
            self.fields["identified"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The last day comes before the first day."))
        if data.get("identified") and not self.may_identify:
            raise forms.ValidationError(
                _(
                    "Only an administrator may export identified data; choose a de-identified export."
                )
            )
        data["dates"] = data.get("dates") or "relative"
        return data
