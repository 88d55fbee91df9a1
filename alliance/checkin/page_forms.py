"""The two inputs every client page reads besides its answers, as Django forms: the language switch
(`?lang=es`, a link on every page) and the signed time the client opened a form (a hidden field that lets
a form begun before the link expired be sent within the grace period; alliance.checkin.links)."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.core import signing
from django.http import QueryDict
from django.utils import timezone

from alliance.checkin.copy import LANGUAGES

STARTED_SALT = "alliance.checkin.started"


class LanguageForm(forms.Form):
    lang = forms.ChoiceField(choices=[(code, code) for code in LANGUAGES], required=False)

    def chosen(self) -> str | None:
        """The language asked for, or None when none (or an unknown one) was."""
        return (self.cleaned_data["lang"] or None) if self.is_valid() else None


def asked_language(data: QueryDict) -> str | None:
    # Most requests ask for no language: building a form to find that out cost a tenth of the check-in
    # landing's time under load, three times a request.
    if "lang" not in data:
        return None
    return LanguageForm(data).chosen()


class StartedForm(forms.Form):
    started = forms.CharField(required=False, max_length=200)

    def value(self) -> str:
        """The signed value as posted (re-sent with a form shown again), or "" when unusable."""
        return self.cleaned_data["started"] if self.is_valid() else ""

    def started_at(self) -> datetime | None:
        """When the client opened the form; anything but a valid signature counts as absent."""
        try:
            return datetime.fromisoformat(
                signing.TimestampSigner(salt=STARTED_SALT).unsign(self.value())
            )
        except (signing.BadSignature, ValueError):
            return None


def new_started_value() -> str:
    return signing.TimestampSigner(salt=STARTED_SALT).sign(timezone.now().isoformat())
