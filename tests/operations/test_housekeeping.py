"""The scheduler's hourly housekeeping (alliance.operations.housekeeping): expired sessions and old
finished jobs go; live sessions, recent jobs and jobs not yet finished stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alliance.accounts.sessions import SessionStore
from alliance.care.tasks import recompute_episode_alerts
from alliance.operations import housekeeping
from alliance.operations.clock import tick

IN_DATABASE = {"default": {"BACKEND": "alliance.operations.task_backend.DatabaseBackend"}}


def _session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["note"] = "kept?"
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expires_in)
    assert store.session_key is not None
    return store.session_key


def _job(status: str, finished_days_ago: float | None) -> str:
    with override_settings(TASKS=IN_DATABASE):
        result = recompute_episode_alerts.enqueue(1)
    finished = (
        None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    )
    DBTaskResult.objects.filter(pk=result.id).update(status=status, finished_at=finished)
    return str(result.id)


@pytest.mark.django_db
def test_expired_sessions_and_old_finished_jobs_go_and_nothing_else() -> None:
    expired, live = _session(-timedelta(minutes=1)), _session(timedelta(minutes=29))
    kept = {
        _job("SUCCESSFUL", 13),
        _job("FAILED", 13),
        _job("FAILED", 89),  # a failure is kept longer: its traceback says what went wrong
        _job("READY", None),
        _job("RUNNING", None),
    }
    gone = {_job("SUCCESSFUL", 15), _job("FAILED", 91)}
    assert housekeeping.sweep() == 3
    assert set(Session.objects.values_list("pk", flat=True)) == {live}
    assert expired not in set(Session.objects.values_list("pk", flat=True))
    left = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert left == kept and not left & gone
    assert housekeeping.sweep() == 0  # a second scheduler finds nothing more to do


@pytest.mark.django_db
def test_the_sweep_runs_once_an_hour_per_scheduler() -> None:
    sweeper = housekeeping.Sweeper()
    now = timezone.now()
    _session(-timedelta(minutes=1))
    assert sweeper(now) == 1  # at once after a start
    _session(-timedelta(minutes=1))
    assert sweeper(now + timedelta(minutes=59)) == 0
    assert Session.objects.count() == 1
    assert sweeper(now + timedelta(minutes=60)) == 1
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_the_scheduler_round_keeps_house() -> None:
    done = tick()
    assert done["housekeeping"] >= 0
