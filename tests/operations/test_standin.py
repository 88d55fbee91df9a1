"""Without a scheduler (bare gunicorn), a web process still escalates risk, once per minute across
every process; with a scheduler alive it does nothing."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import mail
from django.core.cache import cache

from alliance.operations import standin
from alliance.operations.heartbeat import Heart, status
from tests.conftest import Clinic
from tests.operations.test_escalation import _risk


def test_no_scheduler_a_web_process_escalates_once_per_interval(clinic: Clinic) -> None:
    cache.clear()
    alert = _risk(clinic)
    later = alert.created_at + timedelta(minutes=61)
    with time_machine.travel(later, tick=False):
        done = standin.stand_in_if_needed()
        # A second web process in the same minute finds the claim and does nothing.
        assert standin.stand_in_if_needed() is None
    assert done is not None and done["escalated"] == 1
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    escalations = [m for m in mail.outbox if "Unacknowledged urgent risk" in m.subject]
    assert [m.to for m in escalations] == [["supervisor@clinic.test"]]
    # The problem stays visible: standing in never makes the scheduler look alive.
    with time_machine.travel(later, tick=False):
        assert status()["scheduler"].stale


def test_with_a_scheduler_alive_the_web_process_leaves_it_alone(clinic: Clinic) -> None:
    cache.clear()
    alert = _risk(clinic)
    later = alert.created_at + timedelta(minutes=61)
    with time_machine.travel(later, tick=False):
        Heart("scheduler").beat()
        assert standin.stand_in_if_needed() is None
    alert.refresh_from_db()
    assert alert.escalated_at is None
