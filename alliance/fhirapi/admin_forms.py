"""The administrator's forms for API credentials."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.core.once import OnceFormMixin
from alliance.fhirapi.models import RESOURCE_TYPES, ApiClient
from alliance.fhirapi.tokens import check_jwks


class CredentialForm(OnceFormMixin, forms.ModelForm[ApiClient]):
    read_types = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in RESOURCE_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("May read and search"),
        help_text=_(
            "Patients are client codes only; responses and observations carry scores, never a "
            "name or anything the client typed."
        ),
    )
    jwks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        label=_("Public key set (JWKS)"),
        help_text=_(
            'The system\'s public keys as a JSON Web Key Set ({"keys": [...]}), RSA or EC, for '
            "RS384 or ES384 signatures. Never paste a private key."
        ),
    )

    class Meta:
        model = ApiClient
        fields = ("name", "read_types", "can_import", "expires_at", "jwks")
        labels = {
            "name": _("System"),
            "can_import": _("May import questionnaire responses"),
            "expires_at": _("Expires"),
        }
        help_texts = {
            "name": _("Which of the clinic's systems uses this credential, e.g. the EHR."),
            "expires_at": _("Optional: after this date and time the credential stops working."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["jwks"] = json.dumps(self.instance.jwks, indent=1)

    def clean_jwks(self) -> dict[str, Any]:
        text = str(self.cleaned_data.get("jwks") or "")
        try:
            check_jwks(text)
        except ValueError as exc:
            raise forms.ValidationError(
                _("The key set cannot be used: %(problem)s"), params={"problem": exc}
            ) from exc
        value: dict[str, Any] = json.loads(text)
        return value

    def clean_expires_at(self) -> Any:
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now() and "expires_at" in self.changed_data:
            raise forms.ValidationError(_("Choose a time in the future, or leave it empty."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("read_types") and not cleaned.get("can_import"):
            raise forms.ValidationError(_("Give the credential at least one permission."))
        return cleaned


class RevokeForm(OnceFormMixin, forms.Form):
    """Revoking takes a deliberate post; the hidden id makes a double click revoke once."""
