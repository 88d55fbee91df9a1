"""The client's "raise a concern" form.

A Django form, so that every field is validated in one place; the page itself stays hand-written
(checkin/concern.html) because it is client-facing copy in the client's language. Text and contact are
shortened rather than refused when too long: a client in distress must not lose what they wrote.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

MAX_TEXT = 4000
MAX_CONTACT = 200


class ConcernForm(forms.Form):
    text = forms.CharField(required=False, widget=forms.Textarea)
    feels_unsafe = forms.BooleanField(required=False)
    wants_contact = forms.BooleanField(required=False)
    contact = forms.CharField(required=False)
    # As alliance.core.once.OnceFormMixin, but optional: a page rendered before this field existed
    # (or by a client without it) must still be able to send its concern.
    submission_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, required_message: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_message = required_message
        if not self.is_bound:
            self.initial.setdefault("submission_id", uuid.uuid4())

    def clean_text(self) -> str:
        return str(self.cleaned_data["text"])[:MAX_TEXT]

    def clean_contact(self) -> str:
        return str(self.cleaned_data["contact"])[:MAX_CONTACT]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("text") and not cleaned.get("feels_unsafe"):
            raise forms.ValidationError(self.required_message, code="required")
        return cleaned

    @property
    def error(self) -> str:
        """The one message the page shows above the text box."""
        errors = self.non_field_errors()
        return str(errors[0]) if errors else ""
