"""Alert emails to therapists: urgent at once always; others as each therapist chose (one each, a
daily digest by client code and kind, or none); the choice on their own page, submit-once and
audited; the clinic's timing settings validated."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.forms import ClinicSettingsForm
from alliance.accounts.models import AlertEmails, AuditEvent
from alliance.care.models import Alert, AlertKind, AlertSeverity, ClinicSettings
from alliance.operations.clock import tick
from alliance.operations.models import EmailKind, OutboundEmail
from tests import factories
from tests.accounts.test_clinic_settings_form import settings_form_data
from tests.conftest import Clinic

# 09:00 UTC: after the default digest hour (07:00, clinic time = UTC in tests).
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def _tick_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        done = tick()
    assert all(count >= 0 for count in done.values()), done


def _alert(clinic: Clinic, at: datetime, kind: str = AlertKind.RUPTURE, **extra: Any) -> Alert:
    return factories.AlertFactory.create(
        episode=clinic.episode, kind=kind, created_at=at, appointment=None, **extra
    )


def _choose(clinic: Clinic, choice: str) -> None:
    clinic.owner.alert_emails = choice
    clinic.owner.save()


def _to_owner() -> list[str]:
    return [str(m.subject) for m in mail.outbox if m.to == ["owner@clinic.test"]]


def test_a_risk_alert_raised_outside_the_check_in_is_emailed_by_the_next_round_once(
    clinic: Clinic,
) -> None:
    _choose(clinic, AlertEmails.NONE)  # urgent goes whatever was chosen
    Alert.objects.all().delete()
    # As the background recompute stores it: no email was queued with it.
    risk = _alert(clinic, MORNING, kind=AlertKind.RISK, severity=AlertSeverity.URGENT)
    _tick_at(MORNING + timedelta(seconds=30))
    _tick_at(MORNING + timedelta(minutes=1))
    urgent = [m for m in mail.outbox if "Urgent" in m.subject]
    assert [m.to for m in urgent] == [["owner@clinic.test"]]
    assert clinic.client.name not in urgent[0].body and clinic.client.code in urgent[0].body
    assert OutboundEmail.objects.get(kind=EmailKind.ALERT_URGENT).alert_id == risk.pk


def test_an_acknowledged_alert_is_not_emailed(clinic: Clinic) -> None:
    _choose(clinic, AlertEmails.IMMEDIATE)
    Alert.objects.all().delete()
    _alert(clinic, MORNING, status="acknowledged")
    _tick_at(MORNING + timedelta(minutes=1))
    assert _to_owner() == []


def test_immediate_sends_one_email_per_new_alert(clinic: Clinic) -> None:
    _choose(clinic, AlertEmails.IMMEDIATE)
    Alert.objects.all().delete()
    _alert(clinic, MORNING - timedelta(minutes=5))
    _tick_at(MORNING)
    _tick_at(MORNING + timedelta(minutes=1))
    assert _to_owner() == [f"[{_clinic_name()}] New alert for client {clinic.client.code}"]
    body = mail.outbox[0].body
    assert "Rupture" in body and "8.5" not in body  # the kind, never the explanation


def _clinic_name() -> str:
    from django.conf import settings

    return str(settings.ALLIANCE_CLINIC_NAME)


def test_none_sends_nothing_for_non_urgent_alerts(clinic: Clinic) -> None:
    _choose(clinic, AlertEmails.NONE)
    Alert.objects.all().delete()
    _alert(clinic, MORNING - timedelta(minutes=5))
    _tick_at(MORNING)
    _tick_at(MORNING + timedelta(days=1))
    assert _to_owner() == []


def test_the_daily_digest_lists_new_alerts_by_code_and_kind_once_a_day(clinic: Clinic) -> None:
    _choose(clinic, AlertEmails.DIGEST)
    Alert.objects.all().delete()
    _alert(clinic, MORNING - timedelta(hours=5), kind=AlertKind.RUPTURE)
    _alert(clinic, MORNING - timedelta(hours=4), kind=AlertKind.NOT_ON_TRACK)
    _tick_at(MORNING.replace(hour=6, minute=59))
    assert _to_owner() == []  # before the digest hour, and no immediate email
    _tick_at(MORNING)
    _tick_at(MORNING + timedelta(hours=3))
    assert _to_owner() == [f"[{_clinic_name()}] Your daily alert digest"]
    body = mail.outbox[-1].body
    assert (
        f"{clinic.client.code}: Rupture" in body and f"{clinic.client.code}: Not on track" in body
    )
    assert "8.5" not in body and clinic.client.name not in body
    # The next day lists only what is new since the first digest.
    _alert(clinic, MORNING + timedelta(hours=5), kind=AlertKind.DISENGAGEMENT)
    _tick_at(MORNING + timedelta(days=1))
    assert len(_to_owner()) == 2
    second = mail.outbox[-1].body
    assert "Disengagement" in second and "Rupture" not in second
    # A day with nothing new sends nothing.
    _tick_at(MORNING + timedelta(days=2))
    assert len(_to_owner()) == 2


def test_the_digest_leaves_out_alerts_already_handled_in_the_app(clinic: Clinic) -> None:
    _choose(clinic, AlertEmails.DIGEST)
    Alert.objects.all().delete()
    _alert(clinic, MORNING - timedelta(hours=5), kind=AlertKind.RUPTURE)
    _alert(clinic, MORNING - timedelta(hours=4), kind=AlertKind.NOT_ON_TRACK, status="closed")
    _alert(clinic, MORNING - timedelta(hours=3), kind=AlertKind.DISENGAGEMENT, status="repaired")
    _tick_at(MORNING)
    body = mail.outbox[-1].body
    assert "Rupture" in body
    assert "Not on track" not in body and "Disengagement" not in body
    assert body.startswith("1 new alert ")


def test_a_therapist_chooses_on_their_own_page(clinic: Clinic) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)
    page = http.get(reverse("email_settings"))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert 'type="radio"' in text and "<fieldset>" in text
    found = re.search(r'name="submission_id" value="([^"]+)"', text)
    assert found
    data = {"alert_emails": "immediate", "submission_id": found.group(1)}
    assert http.post(reverse("email_settings"), data).status_code == 302
    assert http.post(reverse("email_settings"), data | {"alert_emails": "none"}).status_code == 302
    clinic.owner.refresh_from_db()
    assert clinic.owner.alert_emails == AlertEmails.IMMEDIATE  # the repeat changed nothing
    events = AuditEvent.objects.filter(action="accounts.alert_emails.changed")
    assert [e.data for e in events] == [{"alert_emails": "immediate"}]
    bad = http.post(
        reverse("email_settings"), {"alert_emails": "hourly", "submission_id": str(uuid.uuid4())}
    )
    assert bad.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"alert_digest_hour": 24}, "alert_digest_hour"),
        ({"reminder_hours_before": 200}, "reminder_hours_before"),
        (
            {"reminder_hours_before": 3, "measure_nudge_hours_before": 5},
            "measure_nudge_hours_before",
        ),
    ],
)
def test_impossible_reminder_or_digest_timing_is_refused(
    changes: dict[str, int], field: str
) -> None:
    form = ClinicSettingsForm(settings_form_data(**changes), instance=ClinicSettings.load())
    assert not form.is_valid() and form.errors[field]


@pytest.mark.django_db
def test_reminder_and_digest_timing_is_saved() -> None:
    form = ClinicSettingsForm(
        settings_form_data(
            reminder_hours_before=48, measure_nudge_hours_before=0, alert_digest_hour=18
        ),
        instance=ClinicSettings.load(),
    )
    assert form.is_valid(), form.errors
    form.save()
    saved = ClinicSettings.load()
    assert (saved.reminder_hours_before, saved.measure_nudge_hours_before) == (48, 0)
    assert saved.alert_digest_hour == 18
    assert OutboundEmail.objects.filter(kind=EmailKind.ALERT_DIGEST).count() == 0
