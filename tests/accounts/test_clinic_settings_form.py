"""The supervision-prompt rule is the clinic's to set, within sensible bounds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from alliance.accounts.forms import ClinicSettingsForm
from alliance.care.models import ClinicSettings


def settings_form_data(**changes: Any) -> dict[str, Any]:
    return {
        "submission_id": str(uuid.uuid4()),
        "checkin_link_hours": 72,
        "supervision_prompt_intensity": 3,
        "supervision_prompt_count": 2,
        "supervision_prompt_window": 4,
        "reminder_hours_before": 24,
        "measure_nudge_hours_before": 3,
        "alert_digest_hour": 7,
    } | changes


@pytest.mark.django_db
def test_the_rule_is_saved() -> None:
    form = ClinicSettingsForm(
        settings_form_data(supervision_prompt_intensity=2, supervision_prompt_window=6),
        instance=ClinicSettings.load(),
    )
    assert form.is_valid(), form.errors
    form.save()
    saved = ClinicSettings.load()
    assert (saved.supervision_prompt_intensity, saved.supervision_prompt_window) == (2, 6)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"supervision_prompt_intensity": 4}, "supervision_prompt_intensity"),
        ({"supervision_prompt_count": 0}, "supervision_prompt_count"),
        (
            {"supervision_prompt_count": 5, "supervision_prompt_window": 4},
            "supervision_prompt_window",
        ),
    ],
)
def test_an_impossible_rule_is_refused_with_a_reason(changes: dict[str, int], field: str) -> None:
    form = ClinicSettingsForm(settings_form_data(**changes), instance=ClinicSettings.load())
    assert not form.is_valid()
    assert form.errors[field]
