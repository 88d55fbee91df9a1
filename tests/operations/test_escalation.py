"""Two-stage escalation of an unacknowledged risk alert: supervisors, then administrators; with no
supervisor, administrators at once; acknowledging stops it; each stage once, with a note and an audit
event; the emails name no client."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from alliance.accounts.models import AuditEvent, Supervision
from alliance.alerts import AlertSettings, RiskSignal
from alliance.alerts.risk import risk_findings
from alliance.care.escalation import escalate_unacknowledged_risk
from alliance.care.models import Alert, AlertKind, AlertNote, AlertSeverity, AlertStatus
from alliance.operations.clock import tick
from alliance.operations.models import EmailKind, OutboundEmail
from tests import factories
from tests.alerts.builders import series, session
from tests.conftest import Clinic


def _risk(clinic: Clinic) -> Alert:
    return factories.AlertFactory.create(
        episode=clinic.episode,
        key="risk:test",
        kind=AlertKind.RISK,
        severity=AlertSeverity.URGENT,
        title="Risk item answered: review risk today",
    )


def _tick_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        done = tick()
    assert all(count >= 0 for count in done.values()), done


def _escalation_mail() -> list[list[str]]:
    subject = "Unacknowledged urgent risk alert"
    return [sorted(m.to) for m in mail.outbox if subject in m.subject]


def test_supervisor_after_the_first_delay_then_administrators_after_the_second(
    clinic: Clinic,
) -> None:
    alert = _risk(clinic)
    raised = alert.created_at
    _tick_at(raised + timedelta(minutes=59))
    assert _escalation_mail() == []
    _tick_at(raised + timedelta(minutes=60))
    _tick_at(raised + timedelta(minutes=61))
    assert _escalation_mail() == [["supervisor@clinic.test"]]
    _tick_at(raised + timedelta(minutes=89))
    assert len(_escalation_mail()) == 1  # the second stage waits its 30 minutes
    _tick_at(raised + timedelta(minutes=90))
    _tick_at(raised + timedelta(minutes=120))
    assert _escalation_mail() == [["supervisor@clinic.test"], ["admin@clinic.test"]]
    alert.refresh_from_db()
    assert alert.escalated_at == raised + timedelta(minutes=60)
    assert alert.escalated_to_administrators_at == raised + timedelta(minutes=90)
    notes = list(AlertNote.objects.filter(alert=alert).values_list("action", flat=True))
    assert sorted(notes) == ["escalated", "escalated_admin"]
    stages = [e.data["stage"] for e in AuditEvent.objects.filter(action="care.alert.escalated")]
    assert sorted(stages) == ["administrator", "supervisor"]
    assert all(
        e.client_id == clinic.client.pk
        for e in AuditEvent.objects.filter(action="care.alert.escalated")
    )
    for message in mail.outbox:
        assert clinic.client.name not in f"{message.subject} {message.body}"
        assert clinic.client.code in message.body
    kinds = set(OutboundEmail.objects.filter(alert_id=alert.pk).values_list("kind", flat=True))
    assert {EmailKind.ESCALATION_SUPERVISOR, EmailKind.ESCALATION_ADMINISTRATOR} <= kinds


def test_acknowledging_stops_the_second_stage(clinic: Clinic) -> None:
    alert = _risk(clinic)
    _tick_at(alert.created_at + timedelta(minutes=61))
    Alert.objects.filter(pk=alert.pk).update(
        status=AlertStatus.ACKNOWLEDGED, acknowledged_at=alert.created_at + timedelta(minutes=70)
    )
    _tick_at(alert.created_at + timedelta(minutes=200))
    assert _escalation_mail() == [["supervisor@clinic.test"]]
    alert.refresh_from_db()
    assert alert.escalated_to_administrators_at is None


def test_acknowledged_in_time_nothing_is_escalated(clinic: Clinic) -> None:
    alert = _risk(clinic)
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.ACKNOWLEDGED)
    _tick_at(alert.created_at + timedelta(hours=5))
    assert _escalation_mail() == []


def test_without_a_supervisor_the_administrators_are_told_at_the_first_stage(
    clinic: Clinic,
) -> None:
    Supervision.objects.filter(therapist=clinic.owner).delete()
    alert = _risk(clinic)
    _tick_at(alert.created_at + timedelta(minutes=61))
    _tick_at(alert.created_at + timedelta(minutes=200))
    assert _escalation_mail() == [["admin@clinic.test"]]  # once: the second stage is done too
    alert.refresh_from_db()
    assert alert.escalated_at == alert.escalated_to_administrators_at


def test_each_stage_is_claimed_once_however_often_it_runs(clinic: Clinic) -> None:
    alert = _risk(clinic)
    with time_machine.travel(alert.created_at + timedelta(minutes=61), tick=False):
        first = escalate_unacknowledged_risk()
        again = escalate_unacknowledged_risk()
    assert [a.pk for a in first] == [alert.pk] and again == []
    assert AlertNote.objects.filter(alert=alert, action="escalated").count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.ESCALATION_SUPERVISOR).count() == 1


def test_the_alert_explains_both_stages() -> None:
    s = series([session(1, risk=[RiskSignal("phq9", "9", 1, response_id=1)])])
    [finding] = risk_findings(s, AlertSettings(risk_escalation_minutes=45))
    assert "within 45 minutes, your supervisor" in finding.explanation
    assert "administrators 30 minutes after that" in finding.explanation
    assert AlertSettings().risk_administrator_escalation_minutes == 30


def test_scheduler_down_through_both_stages_still_gives_each_its_delay(clinic: Clinic) -> None:
    alert = _risk(clinic)
    back = alert.created_at + timedelta(hours=3)
    _tick_at(back)  # supervisors at once, late
    assert _escalation_mail() == [["supervisor@clinic.test"]]
    _tick_at(back + timedelta(minutes=30))
    assert _escalation_mail() == [["supervisor@clinic.test"], ["admin@clinic.test"]]
    assert timezone.is_aware(back)
