"""Heartbeats of the worker and the scheduler: written, upserted, pruned, and read by `status()`."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, OperationalError
from django.utils import timezone

from alliance.operations.heartbeat import BeatingThread, Heart, status
from alliance.operations.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_a_beat_upserts_one_row_named_by_role_host_and_pid() -> None:
    heart = Heart("worker")
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        heart.beat()
    with time_machine.travel("2026-03-02 09:00:20Z", tick=False):
        heart.beat()
    (row,) = Heartbeat.objects.all()
    assert row.name.startswith("worker:") and row.name.endswith(f":{os.getpid()}")
    assert row.pid == os.getpid()
    assert row.started_at.isoformat() == "2026-03-02T09:00:00+00:00"
    assert row.seen_at.isoformat() == "2026-03-02T09:00:20+00:00"


def test_status_says_missing_then_ok_then_stale_per_role() -> None:
    assert {r.state for r in status().values()} == {"missing"}
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        Heart("worker").beat()
        Heart("scheduler").beat()
    with time_machine.travel("2026-03-02 09:01:59Z", tick=False):
        roles = status()
        assert roles["worker"].state == "ok" and roles["worker"].age_seconds == 119
        assert roles["scheduler"].state == "ok"
    with time_machine.travel("2026-03-02 09:02:01Z", tick=False):
        roles = status()
        assert roles["worker"].stale and roles["worker"].state == "stale"
        assert not roles["scheduler"].stale  # the scheduler's grace is 3 minutes
    with time_machine.travel("2026-03-02 09:03:01Z", tick=False):
        assert status()["scheduler"].stale


def test_status_uses_the_newest_process_of_a_role() -> None:
    now = timezone.now()
    Heartbeat.objects.create(
        name="worker:a:1", role="worker", host="a", pid=1, seen_at=now - timedelta(hours=5)
    )
    Heartbeat.objects.create(
        name="worker:b:2", role="worker", host="b", pid=2, seen_at=now - timedelta(seconds=10)
    )
    assert status(now)["worker"].age_seconds == 10
    assert not status(now)["worker"].stale


def test_heartbeats_older_than_a_day_are_pruned_at_most_hourly() -> None:
    heart = Heart("worker")
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        Heartbeat.objects.create(
            name="worker:gone:1",
            role="worker",
            host="gone",
            pid=1,
            seen_at=timezone.now() - timedelta(days=1, seconds=1),
        )
        heart.beat()
        assert not Heartbeat.objects.filter(name="worker:gone:1").exists()
        Heartbeat.objects.create(
            name="worker:gone:2",
            role="worker",
            host="gone",
            pid=2,
            seen_at=timezone.now() - timedelta(days=2),
        )
    with time_machine.travel("2026-03-02 09:30:00Z", tick=False):
        heart.beat()
        assert Heartbeat.objects.filter(name="worker:gone:2").exists()
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        heart.beat()
        assert not Heartbeat.objects.filter(name="worker:gone:2").exists()


@pytest.mark.django_db(transaction=True)
def test_the_beating_thread_beats_with_its_own_connection_until_stopped() -> None:
    thread = BeatingThread(Heart("worker"), interval=0.05)
    thread.start()
    deadline = time.monotonic() + 20
    seen: set[object] = set()
    try:
        while len(seen) < 2 and time.monotonic() < deadline:
            try:
                seen |= set(Heartbeat.objects.values_list("seen_at", flat=True))
            except OperationalError as error:
                # The tests' in-memory SQLite shares one cache between connections: a read that
                # meets the beat's write fails at once with "table is locked" (no busy wait).
                if "locked" not in str(error):
                    raise
            time.sleep(0.02)
    finally:
        # Always: a thread left beating after a failure wrote tracebacks into later tests' output
        # (six CLI fuzz tests on the same xdist worker failed on them).
        thread.stop()
    assert not thread.is_alive()
    assert len(seen) >= 2  # it beat more than once
    assert Heartbeat.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_beat_does_not_stop_the_thread() -> None:
    heart = Heart("worker")
    calls = []

    def flaky(now: object = None) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise DatabaseError("database is locked")

    with mock.patch.object(heart, "beat", side_effect=flaky):
        thread = BeatingThread(heart, interval=0.01)
        thread.start()
        deadline = time.monotonic() + 20
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        thread.stop()
    assert len(calls) >= 3


def test_the_worker_command_beats_while_db_worker_runs() -> None:
    alive_during_run = []

    def fake_db_worker(*args: object, **kwargs: object) -> None:
        alive_during_run.append(
            any(t.name == "heartbeat-worker" and t.is_alive() for t in _threads())
        )

    with (
        mock.patch(
            "alliance.core.management.commands.worker.call_command", side_effect=fake_db_worker
        ),
        mock.patch.object(Heart, "beat"),  # BeatingThread's own tests cover the beats
    ):
        call_command("worker")
    assert alive_during_run == [True]
    assert not any(t.name == "heartbeat-worker" and t.is_alive() for t in _threads())


def _threads() -> list[threading.Thread]:
    return threading.enumerate()


def test_scheduler_once_beats_and_runs_one_round() -> None:
    with (
        mock.patch("alliance.care.management.commands.scheduler.tick") as tick,
        # It recycles old connections each round; inside a test's transaction that would end it.
        mock.patch("alliance.care.management.commands.scheduler.close_old_connections"),
    ):
        call_command("scheduler", "--once")
        call_command("scheduler", "--once")
    assert tick.call_count == 2
    # Run from cron, each round is a new process: still one row per host.
    (row,) = Heartbeat.objects.filter(role="scheduler")
    assert row.name.endswith(":0")
    assert not status()["scheduler"].stale
