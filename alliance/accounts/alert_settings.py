"""The administrator's page for alert thresholds: every rule's numbers, with their source, editable.

Values are shown and read as JSON (numbers, true/false, lists such as ["total", "bond"]), then validated
by alliance.alerts.AlertSettings.from_dict, whose per-field messages are shown at the field. Only values
that differ from the defaults are stored, so a later change of a default reaches clinics that never
chose otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from alliance.accounts.audit import log_event
from alliance.accounts.decorators import administrator_required
from alliance.alerts import AlertSettings, SettingsError
from alliance.care.models import ClinicSettings, NormsCache


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


@administrator_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    clinic = ClinicSettings.load()
    current = AlertSettings.from_dict(clinic.alert_settings or {}).as_dict()
    infos = AlertSettings.field_info()
    values = {info.name: _shown(current[info.name]) for info in infos}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {info.name: request.POST.get(info.name, values[info.name]) for info in infos}
        submitted = {name: _parsed(text) for name, text in values.items()}
        try:
            chosen = AlertSettings.from_dict(submitted)
        except SettingsError as problem:
            errors = problem.errors
        else:
            overrides = chosen.overrides()
            clinic.alert_settings = json.loads(json.dumps(overrides, default=list))
            clinic.save(update_fields=["alert_settings", "updated_at"])
            # New thresholds may change the fitted norms' cut-offs: refit on the next recompute.
            NormsCache.objects.all().delete()
            log_event("clinic.alert_settings.changed", data={"overridden": sorted(overrides)})
            messages.success(
                request, "Alert settings saved. They apply from the next recomputation."
            )
            return redirect("alert_settings")
    rows = [
        {
            "info": info,
            "value": values[info.name],
            "default": _shown(info.default),
            "error": errors.get(info.name, ""),
            "changed": values[info.name] != _shown(info.default),
        }
        for info in infos
    ]
    return render(
        request,
        "accounts/alert_settings.html",
        {"rows": rows, "form_error": errors.get("__all__", "")},
        status=400 if errors else 200,
    )
