"""Snoozing an alert in the app (issue 12, point 4): the form, the view, what is stored, audited and shown,
and the recompute waking an alert that got worse. The pure rules: tests/alerts/test_snooze.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from alliance.accounts.models import AuditEvent
from alliance.care import alert_sync
from alliance.care.alert_forms import SnoozeForm
from alliance.care.alert_groups import client_alerts
from alliance.care.alert_quiet import awake
from alliance.care.alert_views import actions_for
from alliance.care.models import Alert, AlertKind, AlertNote, AlertSeverity
from tests import factories
from tests.care.builders import http_as
from tests.care.test_alert_sync import RUPTURE_SERIES, _checkins
from tests.conftest import Clinic

REASON = "Talked it through; her sister is visiting, scores should settle"


def _snooze(
    http: HttpClient, alert: Alert, weeks: str = "2", reason: str = REASON, **extra: str
) -> object:
    data = {"weeks": weeks, "reason": reason, "submission_id": str(uuid.uuid4()), **extra}
    return http.post(reverse("alert_snooze", args=[alert.pk]), data)


def _risk(clinic: Clinic) -> Alert:
    return factories.AlertFactory.create(
        episode=clinic.episode,
        kind=AlertKind.RISK,
        severity=AlertSeverity.URGENT,
        title="Risk answer",
    )


def _raw_reason(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT snooze_reason FROM care_alert WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_the_owner_snoozes_with_a_reason_kept_encrypted_and_audited(clinic: Clinic) -> None:
    alert = clinic.alert
    response = _snooze(http_as(clinic.owner), alert)
    assert response.status_code == 302  # type: ignore[attr-defined]
    alert.refresh_from_db()
    assert alert.snoozed_until is not None and alert.snoozed_at is not None
    assert alert.snoozed_until == alert.snoozed_at + timedelta(weeks=2)
    assert alert.is_snoozed and alert.snoozed_by == clinic.owner
    # Snoozing is acting on it: an open alert is acknowledged.
    assert alert.status == "acknowledged" and alert.acknowledged_by == clinic.owner
    assert alert.snooze_reason == REASON
    assert "sister" not in _raw_reason(alert.pk) and _raw_reason(alert.pk).startswith("gAAAAA")
    note = AlertNote.objects.get(alert=alert, action="snooze")
    assert note.text == REASON and note.author == clinic.owner
    event = AuditEvent.objects.get(action="care.alert.snooze", object_id=str(alert.pk))
    assert event.data["weeks"] == 2 and event.data["until"] == alert.snoozed_until.isoformat()
    assert "sister" not in str(event.data)  # the reason is clinical text, never in the audit


def test_the_client_page_shows_the_snoozed_alert_apart_and_wakes_it(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    _snooze(http, clinic.alert)
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    until = clinic.alert.__class__.objects.get(pk=clinic.alert.pk).snoozed_until
    assert until is not None
    assert f'id="snoozed-{clinic.episode.pk}"' in page
    assert "Snoozed until" in page and REASON in page
    assert date_format(timezone.localtime(until), "DATE_FORMAT") in page
    assert reverse("alert_unsnooze", args=[clinic.alert.pk]) in page
    assert "Open alerts" not in page  # nothing else is open
    assert "1 snoozed" in page

    woken = http.post(
        reverse("alert_unsnooze", args=[clinic.alert.pk]), {"submission_id": str(uuid.uuid4())}
    )
    assert woken.status_code == 302
    alert = Alert.objects.get(pk=clinic.alert.pk)
    assert alert.snoozed_until is None and not alert.is_snoozed
    assert AuditEvent.objects.filter(action="care.alert.unsnooze", object_id=str(alert.pk)).exists()
    assert AlertNote.objects.filter(alert=alert, action="unsnooze").count() == 1
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    assert "Open alerts" in page and f'id="snoozed-{clinic.episode.pk}"' not in page
    assert "Brought back from its snooze." in page  # the history says so


def test_a_double_submitted_snooze_stores_once(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    data = {"weeks": "1", "reason": REASON, "submission_id": str(uuid.uuid4())}
    url = reverse("alert_snooze", args=[clinic.alert.pk])
    first = http.post(url, data)
    second = http.post(url, data)
    assert first.status_code == second.status_code == 302
    assert AlertNote.objects.filter(alert=clinic.alert, action="snooze").count() == 1
    assert AuditEvent.objects.filter(action="care.alert.snooze").count() == 1
    # The repeat is quiet: no "not possible" message on the page it lands on.
    page = http.get(second["Location"]).content.decode()
    assert "not possible" not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weeks": "2", "reason": "  "}, "Write a short reason"),
        ({"weeks": "3", "reason": REASON}, "Choose one of the listed periods"),
        ({"weeks": "", "reason": REASON}, "Choose how long"),
        ({"weeks": "1", "reason": "x" * 301}, "300 characters or fewer"),
    ],
)
def test_a_snooze_without_what_it_needs_says_why_and_stores_nothing(
    clinic: Clinic, data: dict[str, str], message: str
) -> None:
    response = http_as(clinic.owner).post(
        reverse("alert_snooze", args=[clinic.alert.pk]),
        {**data, "submission_id": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    # 200, the alert's own box with the reason (htmx swaps only a 2xx), the form open again.
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and 'class="close-alert snooze-alert" open' in body
    alert = Alert.objects.get(pk=clinic.alert.pk)
    assert alert.snoozed_until is None and alert.status == "open"
    assert not AlertNote.objects.filter(alert=alert).exists()


def test_risk_alerts_can_never_be_snoozed_the_form_refuses(clinic: Clinic) -> None:
    risk = _risk(clinic)
    form = SnoozeForm(
        {"weeks": "1", "reason": REASON, "submission_id": str(uuid.uuid4())}, alert=risk
    )
    assert not form.is_valid()
    assert "can never be snoozed" in form.problem()
    assert SnoozeForm(
        {"weeks": "1", "reason": REASON, "submission_id": str(uuid.uuid4())}, alert=clinic.alert
    ).is_valid()


def test_risk_alerts_can_never_be_snoozed_the_view_refuses(clinic: Clinic) -> None:
    risk = _risk(clinic)
    # The view's own gate: snooze is never among a risk alert's actions, for anyone.
    for user in (clinic.owner, clinic.supervisor):
        assert "snooze" not in actions_for(user, risk)
    http = http_as(clinic.owner)
    response = _snooze(http, risk)
    assert response.status_code == 302  # type: ignore[attr-defined]
    risk.refresh_from_db()
    assert risk.snoozed_until is None and risk.status == "open"
    assert not AlertNote.objects.filter(alert=risk).exists()
    assert not AuditEvent.objects.filter(action="care.alert.snooze").exists()
    # No snooze form in the risk alert's box; the other alert has one.
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    assert reverse("alert_snooze", args=[risk.pk]) not in page
    assert reverse("alert_snooze", args=[clinic.alert.pk]) in page
    # Nor through the generic action URL.
    http.post(reverse("alert_action", args=[risk.pk, "snooze"]), {"note": REASON})
    risk.refresh_from_db()
    assert risk.snoozed_until is None


def test_a_risk_row_with_a_snooze_date_is_still_awake(clinic: Clinic) -> None:
    """Belt and braces: whatever a row holds, risk is never quiet, here or in SQL."""
    risk = _risk(clinic)
    Alert.objects.filter(pk=risk.pk).update(snoozed_until=timezone.now() + timedelta(days=10))
    risk.refresh_from_db()
    assert not risk.is_snoozed
    assert Alert.objects.filter(awake(), pk=risk.pk).exists()


def test_only_the_owner_snoozes(clinic: Clinic) -> None:
    response = _snooze(http_as(clinic.supervisor), clinic.alert)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert Alert.objects.get(pk=clinic.alert.pk).snoozed_until is None
    response = _snooze(http_as(clinic.colleague), clinic.alert)
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert not AlertNote.objects.filter(alert=clinic.alert).exists()


def test_the_snooze_ends_on_its_day(clinic: Clinic) -> None:
    _snooze(http_as(clinic.owner), clinic.alert, weeks="1")
    alert = Alert.objects.get(pk=clinic.alert.pk)
    assert Alert.objects.filter(awake(), pk=alert.pk).count() == 0
    later = timezone.now() + timedelta(days=7, hours=1)
    with time_machine.travel(later, tick=False):
        alert.refresh_from_db()
        assert not alert.is_snoozed
        assert Alert.objects.filter(awake(), pk=alert.pk).exists()
        page = http_as(clinic.owner).get(reverse("client_detail", args=[clinic.client.code]))
        assert "Open alerts" in page.content.decode()


def test_the_client_page_shows_one_entry_for_the_client_worst_first(clinic: Clinic) -> None:
    factories.AlertFactory.create(
        episode=clinic.episode, kind=AlertKind.RUPTURE, severity=AlertSeverity.RED
    )
    factories.AlertFactory.create(
        episode=clinic.episode, kind=AlertKind.NOT_ON_TRACK, severity=AlertSeverity.YELLOW
    )
    risk = _risk(clinic)
    alerts = list(Alert.objects.filter(episode=clinic.episode))
    entry = client_alerts(alerts)
    assert entry.count == 4 and entry.severity == "urgent"
    assert [(k.kind, k.count, k.severity) for k in entry.kinds] == [
        ("risk", 1, "urgent"),
        ("rupture", 2, "red"),
        ("not_on_track", 1, "yellow"),
    ]
    page = http_as(clinic.owner).get(reverse("client_detail", args=[clinic.client.code]))
    body = page.content.decode()
    assert body.count('class="client-alerts"') == 1
    assert "Risk · Rupture (2) · Not on track" in body and "4 open alerts" in body
    assert risk.title in body


# --- the recompute: a snoozed alert that gets worse comes back, saying why ---------------------


@pytest.fixture
def rupture(db: None) -> Alert:
    episode = factories.EpisodeFactory.create()
    _checkins(episode, RUPTURE_SERIES)
    alert_sync.sync([episode.pk])
    return Alert.objects.get(kind="rupture")


def _snoozed_at(alert: Alert, severity: str) -> Alert:
    Alert.objects.filter(pk=alert.pk).update(
        severity=severity,
        status="acknowledged",
        snoozed_until=timezone.now() + timedelta(weeks=4),
        snooze_reason=REASON,
    )
    alert.refresh_from_db()
    return alert


def test_a_snoozed_alert_that_got_worse_comes_back_saying_why(rupture: Alert) -> None:
    assert rupture.severity == "red"
    alert = _snoozed_at(rupture, "yellow")  # as if snoozed while it was yellow
    alert_sync.sync([alert.episode_id])
    alert.refresh_from_db()
    assert alert.severity == "red" and alert.snoozed_until is None and not alert.is_snoozed
    note = AlertNote.objects.get(alert=alert, action="auto_unsnoozed")
    assert note.author is None and "got worse" in note.text and "yellow to red" in note.text
    # The next recompute changes nothing more.
    assert alert_sync.sync([alert.episode_id]).updated == 0


def test_a_snoozed_alert_that_stays_the_same_stays_snoozed(rupture: Alert) -> None:
    alert = _snoozed_at(rupture, "red")
    until = alert.snoozed_until
    for _ in range(2):
        alert_sync.sync([alert.episode_id])
    alert.refresh_from_db()
    assert alert.snoozed_until == until and alert.is_snoozed
    assert not AlertNote.objects.filter(alert=alert, action="auto_unsnoozed").exists()
