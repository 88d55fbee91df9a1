from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from alliance.accounts.models import Role, Supervision, User
from alliance.care.models import ClinicSettings


class UserForm(forms.ModelForm[User]):
    supervisees = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(role=Role.THERAPIST, is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For supervisors: the therapists whose caseloads and shared reflections they see.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave blank to keep the current password. At least 12 characters.",
    )

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role", "is_active")

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
            self.add_error("supervisees", "Only supervisors have supervisees.")
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


class ClinicSettingsForm(forms.ModelForm[ClinicSettings]):
    class Meta:
        model = ClinicSettings
        fields = ("crisis_resources_en", "crisis_resources_es", "checkin_link_hours")
        labels = {
            "crisis_resources_en": "Crisis resources shown to clients (English)",
            "crisis_resources_es": "Crisis resources shown to clients (Spanish)",
            "checkin_link_hours": "Check-in links stay valid for this many hours after the appointment",
        }
        widgets = {
            "crisis_resources_en": forms.Textarea(attrs={"rows": 6}),
            "crisis_resources_es": forms.Textarea(attrs={"rows": 6}),
        }


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, label="Action starts with")
    actor = forms.CharField(required=False, label="Actor email")
    client = forms.CharField(required=False, label="Client code")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
