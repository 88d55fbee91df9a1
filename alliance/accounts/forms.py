from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Role, Supervision, User
from alliance.care.models import ClinicSettings
from alliance.core.once import OnceFormMixin

# Reminders further ahead than a week would go out before most sessions are even booked.
MAX_REMINDER_HOURS = 168


class UserForm(OnceFormMixin, forms.ModelForm[User]):
    supervisees = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(role=Role.THERAPIST, is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "For supervisors: the therapists whose caseloads and shared reflections they see."
        ),
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("Leave blank to keep the current password. At least 12 characters."),
    )

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role", "is_active")
        labels = {"role": _("Role"), "is_active": _("Active")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["supervisees"].initial = list(
                Supervision.objects.filter(supervisor=self.instance).values_list(
                    "therapist", flat=True
                )
            )
            supervisees = self.fields["supervisees"]
            assert isinstance(supervisees, forms.ModelMultipleChoiceField)
            supervisees.queryset = User.objects.filter(role=Role.THERAPIST, is_active=True).exclude(
                pk=self.instance.pk
            )
        else:
            self.fields["password"].required = True

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            validate_password(password, self.instance)
        if cleaned.get("supervisees") and cleaned.get("role") != Role.SUPERVISOR:
            self.add_error("supervisees", _("Only supervisors have supervisees."))
        return cleaned

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        user.save()
        wanted = set(self.cleaned_data.get("supervisees") or [])
        current = {link.therapist: link for link in Supervision.objects.filter(supervisor=user)}
        for therapist, link in current.items():
            if therapist not in wanted:
                link.delete()
        for therapist in wanted - set(current):
            Supervision.objects.create(supervisor=user, therapist=therapist)
        return user


class ClinicSettingsForm(OnceFormMixin, forms.ModelForm[ClinicSettings]):
    class Meta:
        model = ClinicSettings
        fields = (
            "crisis_resources_en",
            "crisis_resources_es",
            "checkin_link_hours",
            "checkin_email_subject",
            "checkin_email_body_en",
            "checkin_email_body_es",
            "share_progress_with_clients",
            "supervision_prompt_intensity",
            "supervision_prompt_count",
            "supervision_prompt_window",
            "reminder_hours_before",
            "measure_nudge_hours_before",
            "alert_digest_hour",
        )
        labels = {
            "crisis_resources_en": _("Crisis resources shown to clients (English)"),
            "crisis_resources_es": _("Crisis resources shown to clients (Spanish)"),
            "checkin_link_hours": _(
                "Check-in links stay valid for this many hours after the appointment"
            ),
            "checkin_email_subject": _("Subject of the email that carries a check-in link"),
            "checkin_email_body_en": _("Text of that email (English)"),
            "checkin_email_body_es": _("Text of that email (Spanish)"),
            "share_progress_with_clients": _("Clients may see their own progress after a check-in"),
            "supervision_prompt_intensity": _(
                "Suggest supervision for reactions of at least this intensity (1-3)"
            ),
            "supervision_prompt_count": _("… when they recur this many times"),
            "supervision_prompt_window": _(
                "… in a therapist's last this many reflections on one client"
            ),
            "reminder_hours_before": _(
                "Email clients a reminder with their check-in link this many hours before each session"
            ),
            "measure_nudge_hours_before": _(
                "… and a second one this many hours before, if the before-session questions are not answered yet"
            ),
            "alert_digest_hour": _("Send the daily alert digest at this hour (0-23, clinic time)"),
        }
        help_texts = {
            "crisis_resources_en": _(
                "Shown at once to a client who answers a risk question, and on their safety plan. "
                "Write the clinic's own number and hours and your local crisis lines; phone numbers "
                "become tap-to-call links. Left blank, clients see Alliance's general text "
                "(emergency numbers and national crisis lines only)."
            ),
            "crisis_resources_es": _("As above, for clients who prefer Spanish."),
            "supervision_prompt_window": _(
                "Defaults 3, 2 and 4: a strong reaction in 2 of the last 4 reflections on one client. "
                "A starting point, not a validated threshold (docs/clinical.md#therapist-reactions-countertransference)."
            ),
            "checkin_email_subject": _(
                "Leave blank for Alliance's wording. Never a name or anything clinical: others may "
                "see a subject line. {clinic} is replaced by the clinic's name."
            ),
            "checkin_email_body_en": _(
                "Leave blank for Alliance's wording. Must contain {link} (the client's link); "
                "{clinic} is replaced by the clinic's name. No clinical content."
            ),
            "checkin_email_body_es": _("As above, for clients who prefer Spanish."),
            # The longest allowed is filled in by the form (MAX_REMINDER_HOURS).
            "reminder_hours_before": _(
                "Only to clients who agreed to email, in the wording above; 0 sends none. At most "
                "%(hours)d hours (a week)."
            ),
            "measure_nudge_hours_before": _(
                "0 sends none. Must be fewer hours than the first reminder, so that it comes after it."
            ),
            "alert_digest_hour": _(
                "For staff who chose one email a day for non-urgent alerts. Urgent (risk) alerts "
                "are always emailed at once."
            ),
        }
        widgets = {
            "crisis_resources_en": forms.Textarea(attrs={"rows": 6}),
            "crisis_resources_es": forms.Textarea(attrs={"rows": 6}),
            "checkin_email_body_en": forms.Textarea(attrs={"rows": 6}),
            "checkin_email_body_es": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reminder_hours_before"]
        field.help_text = str(field.help_text) % {"hours": MAX_REMINDER_HOURS}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        intensity = cleaned.get("supervision_prompt_intensity")
        count, window = (
            cleaned.get("supervision_prompt_count"),
            cleaned.get("supervision_prompt_window"),
        )
        if intensity is not None and not 1 <= intensity <= 3:
            self.add_error("supervision_prompt_intensity", _("Choose an intensity from 1 to 3."))
        if count is not None and count < 1:
            self.add_error("supervision_prompt_count", _("At least once."))
        if count is not None and window is not None and window < count:
            self.add_error(
                "supervision_prompt_window", _("The window must hold at least as many reflections.")
            )
        self._clean_reminders(cleaned)
        return cleaned

    def _clean_reminders(self, cleaned: dict[str, Any]) -> None:
        first = cleaned.get("reminder_hours_before")
        nudge = cleaned.get("measure_nudge_hours_before")
        hour = cleaned.get("alert_digest_hour")
        if first is not None and first > MAX_REMINDER_HOURS:
            self.add_error(
                "reminder_hours_before",
                _("At most %(hours)d hours (a week) before.") % {"hours": MAX_REMINDER_HOURS},
            )
        if nudge is not None and nudge > MAX_REMINDER_HOURS:
            self.add_error(
                "measure_nudge_hours_before",
                _("At most %(hours)d hours before.") % {"hours": MAX_REMINDER_HOURS},
            )
        elif first and nudge and nudge >= first:
            self.add_error(
                "measure_nudge_hours_before",
                _(
                    "The second reminder must come later than the first: fewer hours before the session."
                ),
            )
        if hour is not None and not 0 <= hour <= 23:
            self.add_error("alert_digest_hour", _("Choose an hour from 0 to 23."))

    def clean_checkin_email_subject(self) -> str:
        subject: str = self.cleaned_data["checkin_email_subject"].strip()
        if "{link}" in subject:
            raise forms.ValidationError(
                _("Put {link} in the text of the email, not in its subject.")
            )
        return subject

    def _clean_body(self, name: str) -> str:
        body: str = self.cleaned_data[name].strip()
        if body and "{link}" not in body:
            raise forms.ValidationError(
                _("Include {link} where the client's link should go (or leave it blank).")
            )
        return body

    def clean_checkin_email_body_en(self) -> str:
        return self._clean_body("checkin_email_body_en")

    def clean_checkin_email_body_es(self) -> str:
        return self._clean_body("checkin_email_body_es")


class AuditFilterForm(forms.Form):
    """The audit trail's filters. Lengths follow the columns they are compared with, so that a long
    value is refused with a message instead of reaching the database (or the export's own event);
    CharField already refuses a NUL byte. Other characters (an apostrophe, a comma, unicode) are
    legitimate in an address and are applied as typed: the ORM passes them as parameters."""

    action = forms.CharField(required=False, label=_("Action starts with"), max_length=80)
    actor = forms.CharField(required=False, label=_("Actor email"), max_length=254)
    client = forms.CharField(required=False, label=_("Client code"), max_length=16)
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
