"""Forms of intake: the client's details, an episode's goals and measure plan, a transfer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import User
from alliance.care.intake import MAX_GOALS
from alliance.care.models import Client, Episode, Goal, default_outcome_instruments
from alliance.care.words import reading_language
from alliance.checkin.flow import CHECKIN, GBO
from alliance.core.once import OnceFormMixin
from alliance.measures import all_instruments

GBO_CHOICES = [
    (1, _("Every session")),
    (2, _("Every second session (1, 3, 5 …)")),
    (4, _("Every fourth session (1, 5, 9 …)")),
    (0, _("Never")),
]
GOAL_MAX_LENGTH = 300


def outcome_instrument_choices() -> list[tuple[str, str]]:
    """The client-answered outcome measures in the registry (shipped or added by the clinic). The
    relationship check-in is asked after every session and Goal-Based Outcomes on its own schedule,
    so neither is a choice here; nor is an instrument without a score (the ending question)."""
    usual = default_outcome_instruments()  # first, in their usual order (PHQ-9 before GAD-7)
    found = [
        instrument
        for instrument in all_instruments()
        if instrument.respondent == "client"
        and instrument.has_score
        and instrument.id not in (CHECKIN, GBO)
    ]
    found.sort(key=lambda i: (usual.index(i.id) if i.id in usual else len(usual), i.id))
    return [(instrument.id, instrument.title(reading_language())) for instrument in found]


class ClientForm(forms.ModelForm[Client]):
    email = forms.EmailField(label=_("Email"), required=False)

    class Meta:
        model = Client
        fields = ("name", "email", "phone", "preferred_language", "email_consent")
        labels = {
            "name": _("Name"),
            "phone": _("Phone"),
            "preferred_language": _("Preferred language"),
            "email_consent": _("Agreed to receive check-in links by email"),
        }
        help_texts = {
            "name": _("Shown on your pages only: lists, links and exports use the client code."),
            "preferred_language": _("The language of the client's check-in forms."),
            "email_consent": _(
                "Without it no link is ever emailed: you copy the link or show its QR code instead."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        }

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError(_("Give the client's name."))
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("email_consent") and not cleaned.get("email"):
            self.add_error(
                "email_consent",
                _("Consent to emailed links needs an email address: add one, or untick this."),
            )
        return cleaned

    def details(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}


class ClientEditForm(OnceFormMixin, ClientForm):
    pass


def _goal_field(number: int) -> forms.CharField:
    return forms.CharField(
        label=format_lazy("{} {}", _("Goal"), number),
        required=False,
        max_length=GOAL_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("In the client's own words.") if number == 1 else "",
    )


class EpisodeFieldsForm(forms.Form):
    goal_1 = _goal_field(1)
    goal_2 = _goal_field(2)
    goal_3 = _goal_field(3)
    instruments = forms.MultipleChoiceField(
        label=_("Outcome measures before each session"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    gbo_every = forms.TypedChoiceField(
        label=_("Ask Goal-Based Outcomes"),
        choices=GBO_CHOICES,
        coerce=int,
        initial=4,
        help_text=_(
            "Always at the first session, then on this schedule (only when there are goals)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instruments = self.fields["instruments"]
        assert isinstance(instruments, forms.MultipleChoiceField)
        instruments.choices = outcome_instrument_choices()
        instruments.initial = [
            i for i in default_outcome_instruments() if i in dict(instruments.choices)
        ]

    def goal_wordings(self) -> list[str]:
        return [self.cleaned_data.get(f"goal_{n}", "") for n in range(1, MAX_GOALS + 1)]


class NewEpisodeForm(OnceFormMixin, EpisodeFieldsForm):
    """The first (or a returning client's next) episode. A supervisor chooses which of their
    supervisees treats the client; a therapist's own episodes are theirs."""

    therapist = forms.ModelChoiceField(
        label=_("Therapist"), queryset=User.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args: Any, therapists: QuerySet[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["therapist"]
        if therapists is None:
            del self.fields["therapist"]
        else:
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = therapists
            field.help_text = _("Only your supervisees are offered.")
        self.order_fields(["therapist"])


class GoalsPlanForm(OnceFormMixin, EpisodeFieldsForm):
    """Reword or add goals and change the measure plan during the episode."""

    def __init__(self, *args: Any, episode: Episode, goals: list[Goal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.existing = {goal.number: goal for goal in goals}
        for number, goal in self.existing.items():
            self.fields[f"goal_{number}"].initial = goal.description
            self.fields[f"goal_{number}"].help_text = _(
                "Rewording keeps the earlier wording in the goal's history."
            )
        self.fields["instruments"].initial = list(episode.outcome_instruments)
        gbo = self.fields["gbo_every"]
        assert isinstance(gbo, forms.TypedChoiceField)
        if episode.gbo_every not in dict(GBO_CHOICES):
            # A plan set elsewhere (an import, the demo) stays choosable rather than being reset.
            gbo.choices = [
                *GBO_CHOICES,
                (episode.gbo_every, _("Every %(n)s sessions") % {"n": episode.gbo_every}),
            ]
        gbo.initial = episode.gbo_every

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for number in self.existing:
            name = f"goal_{number}"
            if name in cleaned and not str(cleaned[name]).strip():
                self.add_error(
                    name,
                    _(
                        "A goal stays in the record once set (its ratings refer to it): reword it "
                        "instead of emptying it."
                    ),
                )
        return cleaned


class TransferForm(OnceFormMixin, forms.Form):
    therapist = forms.ModelChoiceField(
        label=_("Transfer to"), queryset=User.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args: Any, therapists: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["therapist"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = therapists
