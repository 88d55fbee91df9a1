"""The caseload's filters (GET parameters) and the alert actions (POST), as Django forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.care.queries import CaseloadFilter
from alliance.core.once import OnceFormMixin

STATUS_CHOICES = [("active", _("Active")), ("ended", _("Ended")), ("all", _("All"))]


class CaseloadFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    alerts = forms.BooleanField(label=_("With open alerts"), required=False)
    quiet = forms.BooleanField(
        label=_("No check-in this week"),
        required=False,
        help_text=_("Nothing answered through a link since Monday."),
    )
    ending = forms.BooleanField(
        label=_("Ending soon"),
        required=False,
        help_text=_("Active, begun, and at most one session still booked ahead."),
    )
    page = forms.IntegerField(min_value=1, required=False)

    def filters(self) -> CaseloadFilter:
        """The chosen filters; a value that does not parse falls back to its default (the form's
        errors say which)."""
        data: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        return CaseloadFilter(
            status=data.get("status") or "active",
            with_alerts=bool(data.get("alerts")),
            no_checkin_this_week=bool(data.get("quiet")),
            ending_soon=bool(data.get("ending")),
        )

    def page_number(self) -> int:
        """The table page asked for; 1 when none (or one that does not parse) was."""
        data: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        return int(data.get("page") or 1)

    def query_without_status(self) -> str:
        """The chosen filters as a query-string tail, for the status tabs to keep them."""
        chosen = self.filters()
        parts = [
            name
            for name, on in (
                ("alerts", chosen.with_alerts),
                ("quiet", chosen.no_checkin_this_week),
                ("ending", chosen.ending_soon),
            )
            if on
        ]
        return "".join(f"&{name}=on" for name in parts)


CLOSE_REASONS = [
    ("addressed", _("Addressed with the client")),
    ("not_relevant", _("Not clinically relevant on review")),
    ("client_ended", _("The client has ended therapy")),
    ("duplicate", _("Duplicate of another alert")),
    ("other", _("Other (say why in the note)")),
]
NOTE_MAX_LENGTH = 2000


class AlertActionForm(OnceFormMixin, forms.Form):
    """One action on an alert. What the action needs (a note for the repair conversation, a reason to
    close) is checked here, so the page can say what is missing; whether the action is allowed in
    the alert's state is alliance.alerts' rule, checked by the view."""

    # Optional here, unlike other forms: the lifecycle already refuses a repeated action (an
    # acknowledged alert cannot be acknowledged again, a closed one not closed again), so nothing is
    # ever stored twice; the id only turns a double click's refusal into a quiet redirect.
    submission_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)
    reason = forms.ChoiceField(
        choices=[("", _("Choose…")), *CLOSE_REASONS],
        required=False,
        error_messages={"invalid_choice": _("Choose one of the listed reasons.")},
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.action == "close" and "reason" in cleaned and not cleaned["reason"]:
            self.add_error("reason", _("Choose a reason for closing the alert."))
        if self.action == "discuss_repair" and "note" in cleaned and not cleaned["note"]:
            self.add_error(
                "note", _("Write a short note about the repair conversation before saving it.")
            )
        return cleaned

    def problem(self) -> str:
        """The errors as one sentence for the page (a message or the alert's own box)."""
        if "submission_id" in self.errors:
            return str(_("The form was out of date; please try again."))
        return " ".join(str(error) for errors in self.errors.values() for error in errors)
