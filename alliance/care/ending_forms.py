"""The forms of the ending page: end the episode, and what we learned together (editable later)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.care.models import EndReason, Episode
from alliance.core import once

LEARNED_HELP = _(
    "Written with the client; it appears in their own summary. Editable after the ending too."
)


class EndEpisodeForm(once.OnceFormMixin, forms.Form):
    end_reason = forms.ChoiceField(label=_("Reason"), choices=EndReason.choices)
    ended_on = forms.DateField(
        label=_("Last day of the episode"), widget=forms.DateInput(attrs={"type": "date"})
    )
    learned_together = forms.CharField(
        label=_("What we learned together"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=LEARNED_HELP,
    )
    without_final_measures = forms.BooleanField(
        label=_("End without final measures"), required=False
    )

    def __init__(self, *args: Any, episode: Episode, final_missing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.final_missing = final_missing
        if not self.is_bound:
            self.initial.setdefault("ended_on", timezone.localdate())
            self.initial.setdefault("end_reason", EndReason.PLANNED)
            self.initial.setdefault("learned_together", episode.learned_together)
        if not final_missing:
            del self.fields["without_final_measures"]

    def clean_ended_on(self) -> date:
        ended_on: date = self.cleaned_data["ended_on"]
        if ended_on < self.episode.started_on:
            raise forms.ValidationError(
                _("The end cannot be before the episode started (%(start)s)."),
                params={"start": self.episode.started_on.isoformat()},
            )
        if ended_on > timezone.localdate():
            raise forms.ValidationError(_("The end cannot be in the future."))
        return ended_on

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.final_missing and not cleaned.get("without_final_measures"):
            self.add_error(
                "without_final_measures",
                _(
                    "The last attended session has no outcome measure. Send a last check-in "
                    "first, or tick this box to end without it."
                ),
            )
        return cleaned


class LearnedTogetherForm(once.OnceFormMixin, forms.Form):
    learned_together = forms.CharField(
        label=_("What we learned together"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=LEARNED_HELP,
    )


class FinalSessionForm(once.OnceFormMixin, forms.Form):
    """Marks the session whose check-in also asks what the client will take with them."""

    appointment = forms.IntegerField(widget=forms.HiddenInput)
