"""Forms of the reflection journal and the supervision pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from alliance.alerts import reactions
from alliance.care import reaction_words
from alliance.core.once import OnceFormMixin

NOT_PRESENT = ""
INTENSITY_CHOICES = [(NOT_PRESENT, _("Not present"))] + [
    (str(value), format_lazy("{} · {}", value, reaction_words.intensity_lazy(value)))
    for value in reactions.INTENSITIES
]


class ReflectionForm(OnceFormMixin, forms.Form):
    """The checklist (one radio group per reaction), the free text and whether to share it."""

    text = forms.CharField(
        label=_("Your reflection"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened in you during the session; questions for supervision."),
    )
    shared_with_supervisor = forms.BooleanField(
        label=_("Share this reflection with my supervisor"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for reaction in reactions.REACTIONS:
            self.fields[f"r_{reaction.code}"] = forms.ChoiceField(
                label=reaction_words.label(reaction.code),
                help_text=reaction_words.description(reaction.code),
                choices=INTENSITY_CHOICES,
                required=False,
                initial=NOT_PRESENT,
                widget=forms.RadioSelect,
            )

    @classmethod
    def initial_from(cls, text: str, mapping: dict[str, int], shared: bool) -> dict[str, Any]:
        initial: dict[str, Any] = {"text": text, "shared_with_supervisor": shared}
        for code, value in mapping.items():
            initial[f"r_{code}"] = str(value)
        return initial

    def reaction_fields(self) -> list[forms.BoundField]:
        return [self[f"r_{reaction.code}"] for reaction in reactions.REACTIONS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = {
            r.code: int(data[f"r_{r.code}"])
            for r in reactions.REACTIONS
            if data.get(f"r_{r.code}") not in (None, NOT_PRESENT)
        }
        try:
            data["reactions"] = reactions.clean(chosen)
        except reactions.ReactionError as error:  # pragma: no cover - choices already restrict
            raise forms.ValidationError(str(error)) from error
        if not data["reactions"] and not data.get("text", "").strip():
            raise forms.ValidationError(
                _("Choose at least one reaction or write something, or leave the page.")
            )
        return data


WEEKS_CHOICES = [(4, _("4 weeks")), (12, _("12 weeks")), (26, _("26 weeks")), (52, _("a year"))]


class JournalPeriodForm(forms.Form):
    weeks = forms.TypedChoiceField(
        label=_("Show the last"), choices=WEEKS_CHOICES, coerce=int, required=False, initial=12
    )

    def weeks_or_default(self) -> int:
        if self.is_valid() and self.cleaned_data.get("weeks"):
            return int(self.cleaned_data["weeks"])
        return 12


class SupervisionNoteForm(OnceFormMixin, forms.Form):
    met_on = forms.DateField(
        label=_("Date of the meeting"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    text = forms.CharField(
        label=_("Your note"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Private: only you can read it, not the therapist and not the administrators."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("met_on", timezone.localdate())

    def clean_met_on(self) -> date:
        met_on: date = self.cleaned_data["met_on"]
        if met_on > timezone.localdate():
            raise forms.ValidationError(_("A supervision note records a meeting that took place."))
        return met_on


MAX_PERIOD_DAYS = 2 * 366


class SummaryPeriodForm(forms.Form):
    """The period of a supervision summary; by default the last three months."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    @staticmethod
    def default_period(today: date | None = None) -> tuple[date, date]:
        today = today or timezone.localdate()
        return today - timedelta(days=91), today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default_start, default_end = self.default_period()
        end = data.get("end") or default_end
        start = data.get("start") or end - (default_end - default_start)
        if start > end:
            raise forms.ValidationError(_("The start of the period must be before its end."))
        if (end - start).days > MAX_PERIOD_DAYS:
            raise forms.ValidationError(_("Choose a period of at most two years."))
        data["start"], data["end"] = start, end
        return data
