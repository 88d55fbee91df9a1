"""benchmarks/pages.py's handle_past_alerts: the load benchmark's clinic handles its old alerts as a
working therapist would (acknowledged, then closed with a reason and a note), and leaves the
recent ones, those without a session and those already closed alone."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alliance.care.models import AlertNote, AlertStatus
from tests.factories import AlertFactory, AppointmentFactory, EpisodeFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import pages

pytestmark = pytest.mark.django_db


def test_old_alerts_are_handled_and_recent_ones_left_as_the_recompute_left_them() -> None:
    now = timezone.now()
    episode = EpisodeFactory.create()
    old = AppointmentFactory.create(episode=episode, scheduled_at=now - timedelta(weeks=10))
    recent = AppointmentFactory.create(episode=episode, scheduled_at=now - timedelta(weeks=2))
    old_risk = AlertFactory.create(episode=episode, appointment=old, kind="risk", severity="urgent")
    old_unresolved = AlertFactory.create(
        episode=episode, appointment=old, status=AlertStatus.UNRESOLVED
    )
    old_closed = AlertFactory.create(
        episode=episode, appointment=old, status=AlertStatus.CLOSED, close_reason="duplicate"
    )
    recent_rupture = AlertFactory.create(episode=episode, appointment=recent)
    sessionless = AlertFactory.create(episode=episode, appointment=None)

    assert pages.handle_past_alerts(now, weeks=4) == 2

    for alert in (old_risk, old_unresolved):
        alert.refresh_from_db()
        assert alert.status == AlertStatus.CLOSED
        assert alert.close_reason == "addressed"
        assert alert.resolved_at == old.scheduled_at + timedelta(days=7)
        assert AlertNote.objects.filter(alert=alert, action="close").count() == 1
        # Acknowledged by the episode's therapist the day after the session.
        assert alert.acknowledged_at == old.scheduled_at + timedelta(days=1)
        assert alert.acknowledged_by_id == episode.therapist_id
    old_closed.refresh_from_db()
    assert old_closed.close_reason == "duplicate"
    assert not AlertNote.objects.filter(alert=old_closed).exists()
    for alert in (recent_rupture, sessionless):
        alert.refresh_from_db()
        assert alert.status == AlertStatus.OPEN
        assert alert.acknowledged_at is None
    assert pages.handle_past_alerts(now, weeks=4) == 0  # nothing left to handle
