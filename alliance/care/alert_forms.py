"""Snoozing an alert and waking it, as Django forms (issue 12, point 4).

What the snooze needs (a period from the offered ones, a short reason) is checked here, so the page
can say what is missing; whether this alert may be snoozed at all (never risk, not when resolved or
already snoozed) is alliance.alerts.lifecycle's rule, checked again by the view.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alliance.alerts.lifecycle import MAX_SNOOZE_REASON_LENGTH, SNOOZE_WEEKS, UNSNOOZABLE_KINDS
from alliance.care.models import Alert
from alliance.core.once import OnceFormMixin


def snooze_choices() -> list[tuple[str, str]]:
    """The offered periods, in the reader's language (built per form: a plural with its number
    filled in cannot stay lazy)."""
    return [
        (str(weeks), ngettext("%(n)d week", "%(n)d weeks", weeks) % {"n": weeks})
        for weeks in SNOOZE_WEEKS
    ]


class SnoozeForm(OnceFormMixin, forms.Form):
    """Quieten a non-risk alert for a while, saying why (the reason is kept encrypted)."""

    weeks = forms.TypedChoiceField(
        label=_("For"),
        choices=(),
        coerce=int,
        error_messages={
            "required": _("Choose how long to snooze the alert for."),
            "invalid_choice": _("Choose one of the listed periods."),
        },
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=MAX_SNOOZE_REASON_LENGTH,
        strip=True,
        error_messages={
            "required": _("Write a short reason for snoozing the alert."),
            "max_length": _("Keep the reason to %(limit_value)d characters or fewer."),
        },
    )

    def __init__(self, *args: Any, alert: Alert | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alert = alert
        self.fields["weeks"].choices = snooze_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Also refused by the view and by alliance.alerts (three locks): risk is never quietened.
        if self.alert is not None and self.alert.kind in UNSNOOZABLE_KINDS:
            raise forms.ValidationError(
                _("A risk alert can never be snoozed: it stays on the caseload until acted on."),
                code="risk",
            )
        return cleaned

    def problem(self) -> str:
        """The errors as one sentence for the page (a message or the alert's own box)."""
        if "submission_id" in self.errors:
            return str(_("The form was out of date; please try again."))
        return " ".join(str(error) for errors in self.errors.values() for error in errors)


class UnsnoozeForm(OnceFormMixin, forms.Form):
    """Bring a snoozed alert back now: nothing to fill in but the submission id."""

    def problem(self) -> str:
        return str(_("The form was out of date; please try again."))
