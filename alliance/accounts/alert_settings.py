"""The administrator's page for alert thresholds: every rule's numbers, with their source, editable.

Values are shown and read as JSON (numbers, true/false, lists such as ["total", "bond"]), then validated
by alliance.alerts.AlertSettings.from_dict, whose per-field messages are shown at the field. Only values
that differ from the defaults are stored, so a later change of a default reaches clinics that never
chose otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from alliance.accounts.audit import log_event
from alliance.accounts.decorators import administrator_required
from alliance.accounts.models import User
from alliance.alerts import AlertSettings, SettingsError
from alliance.care.alert_text import setting_source
from alliance.care.models import ClinicSettings, NormsCache
from alliance.core import once
from alliance.core.once import OnceFormMixin


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        # Not JSON (JSONDecodeError), or a number too long to convert: AlertSettings then names the
        # setting whose value is not a number, instead of the page failing.
        return text.strip()


class AlertSettingsForm(OnceFormMixin, forms.Form):
    """One text field per setting, holding JSON; AlertSettings.from_dict is the validator, and its
    per-field messages land on the fields. A setting missing from the post keeps its current value."""

    def __init__(self, data: Mapping[str, Any] | None, *, current: Mapping[str, str]) -> None:
        super().__init__(data)
        self.current = current
        for info in AlertSettings.field_info():
            self.fields[info.name] = forms.CharField(required=False, strip=False)
        self.chosen: AlertSettings | None = None

    def value(self, name: str) -> str:
        """What the field shows: the posted text, or the current value when it was not posted."""
        if self.is_bound and name in self.data:
            return str(self.data[name])
        return self.current[name]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        submitted = {name: _parsed(self.value(name)) for name in self.current}
        try:
            self.chosen = AlertSettings.from_dict(submitted)
        except SettingsError as problem:
            for name, message in problem.errors.items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned


@administrator_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    clinic = ClinicSettings.load()
    current = AlertSettings.from_dict(clinic.alert_settings or {}).as_dict()
    infos = AlertSettings.field_info()
    values = {info.name: _shown(current[info.name]) for info in infos}
    form = AlertSettingsForm(request.POST if request.method == "POST" else None, current=values)
    if form.is_bound and form.is_valid() and form.chosen is not None:
        with transaction.atomic():
            if once.claim(form, _user(request), "clinic.alert_settings") is None:
                overrides = form.chosen.overrides()
                clinic.alert_settings = json.loads(json.dumps(overrides, default=list))
                clinic.save(update_fields=["alert_settings", "updated_at"])
                # New thresholds may change the fitted norms' cut-offs: refit on the next recompute.
                NormsCache.objects.all().delete()
                log_event("clinic.alert_settings.changed", data={"overridden": sorted(overrides)})
                once.remember(form, reverse("alert_settings"))
        messages.success(
            request, _("Alert settings saved. They apply from the next recomputation.")
        )
        return redirect("alert_settings")
    rows = [
        {
            "info": info,
            # The rules' own English help and sources, in the reader's language (alert_text).
            "help": _(info.help),
            "source": setting_source(info.source),
            "value": form.value(info.name),
            "default": _shown(info.default),
            "error": " ".join(str(e) for e in form.errors.get(info.name, [])),
            "changed": form.value(info.name) != _shown(info.default),
        }
        for info in infos
    ]
    return render(
        request,
        "accounts/alert_settings.html",
        {
            "form": form,
            "rows": rows,
            "form_error": " ".join(str(e) for e in form.non_field_errors()),
        },
        status=400 if form.errors else 200,
    )


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]
