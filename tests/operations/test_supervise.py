"""The process supervisor behind `alliance serve`: restarts with capped back-off, clean stop, and the real
thing — `alliance serve` on a loopback port, its worker killed and replaced."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from alliance.core.management.commands.serve import children, gunicorn_argv
from alliance.operations.supervise import BackOff, Supervisor
from tests.operations.serving import _until, _workers, running_serve, serve_env

__all__ = ["running_serve", "serve_env"]  # fixtures used below


class FakeProcess:
    pids = iter(range(1000, 10**6))

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.pid = next(self.pids)
        self.returncode: int | None = None
        self.signals: list[int] = []
        self.ignores_sigterm = False
        self.killed = False

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        if not self.ignores_sigterm:
            self.returncode = -sig

    def kill(self) -> None:
        self.killed = True
        self.returncode = -signal.SIGKILL

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.argv, timeout or 0)
        return self.returncode


class Harness:
    def __init__(self, **kwargs: object) -> None:
        self.now = 0.0
        self.spawned: list[FakeProcess] = []
        self.supervisor = Supervisor(
            {"web": ["web"], "worker": ["worker"], "scheduler": ["scheduler"]},
            spawn=self.spawn,
            clock=lambda: self.now,
            **kwargs,  # type: ignore[arg-type]
        )

    def spawn(self, argv: Sequence[str], env: Mapping[str, str] | None) -> FakeProcess:
        process = FakeProcess(argv)
        self.spawned.append(process)
        return process

    def current(self, name: str) -> FakeProcess:
        process = self.supervisor.child(name).process
        assert isinstance(process, FakeProcess)
        return process

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.supervisor.step()


def test_a_dead_child_is_restarted_after_a_short_back_off_and_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    h.supervisor.start()
    first = h.current("worker")
    first.returncode = 1
    with caplog.at_level(logging.ERROR, logger="alliance.supervise"):
        h.advance(0)
    assert h.supervisor.child("worker").process is None
    assert f"worker (pid {first.pid}) exited with status 1" in caplog.text
    h.advance(0.5)
    assert h.supervisor.child("worker").process is None  # still backing off
    h.advance(0.5)
    second = h.current("worker")
    assert second is not first and second.argv == ["worker"]
    # The others were left alone.
    assert len(h.spawned) == 4


def test_a_child_that_keeps_dying_keeps_being_restarted_with_capped_back_off() -> None:
    h = Harness(backoff=BackOff(initial=1, cap=8, stable_after=60))
    h.supervisor.start()
    delays = []
    for _ in range(7):
        h.current("scheduler").returncode = 2
        h.advance(0.1)  # reaped
        died_at = h.now
        while h.supervisor.child("scheduler").process is None:
            h.advance(0.5)
        delays.append(h.now - died_at)
    assert [round(d) for d in delays] == [1, 2, 4, 8, 8, 8, 8]
    assert h.supervisor.child("scheduler").restarts == 7


def test_back_off_starts_again_after_a_child_ran_for_a_while() -> None:
    h = Harness(backoff=BackOff(initial=1, cap=30, stable_after=60))
    h.supervisor.start()
    for _ in range(3):  # three quick deaths: the next wait would be 8 s
        h.current("web").returncode = 1
        h.advance(0)
        h.advance(10)
    h.advance(120)  # then it stayed up for two minutes
    h.current("web").returncode = 1
    h.advance(0)
    assert h.supervisor.child("web").restart_at == pytest.approx(h.now + 1)


def test_stop_terminates_every_child_and_kills_one_that_does_not_stop() -> None:
    h = Harness(stop_timeout=5)
    h.supervisor.start()
    stubborn = h.current("worker")
    stubborn.ignores_sigterm = True
    others = [h.current("web"), h.current("scheduler")]
    h.supervisor.request_stop(signal.SIGTERM)
    h.supervisor.stop()
    assert all(p.signals == [signal.SIGTERM] for p in [*others, stubborn])
    assert stubborn.killed and not any(p.killed for p in others)
    assert all(c.process is None for c in h.supervisor.children)
    # A child that died as the stop began is not started again.
    h.advance(60)
    assert len(h.spawned) == 3


def test_real_processes_are_restarted_and_stopped() -> None:
    """The same loop with real child processes: one exits at once and keeps coming back."""
    supervisor = Supervisor(
        {
            "sleeper": [sys.executable, "-c", "import time; time.sleep(60)"],
            "crasher": [sys.executable, "-c", "raise SystemExit(3)"],
        },
        backoff=BackOff(initial=0.05, cap=0.2),
        poll_interval=0.02,
        stop_timeout=10,
    )
    runner = threading.Thread(target=supervisor.run, kwargs={"install_signal_handlers": False})
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while supervisor.child("crasher").restarts < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.child("crasher").restarts >= 3
        assert set(supervisor.child("crasher").exit_codes) == {3}
        sleeper = supervisor.child("sleeper").process
        assert sleeper is not None and sleeper.poll() is None
    finally:
        supervisor.request_stop()
        runner.join(20)
    assert not runner.is_alive()
    assert sleeper.poll() == -signal.SIGTERM


def test_serve_runs_web_worker_and_scheduler_unless_told_not_to() -> None:
    everything = children("127.0.0.1:8000", 2, with_worker=True, with_scheduler=True)
    assert list(everything) == ["web", "worker", "scheduler"]
    assert everything["worker"][-1] == "worker"
    assert everything["scheduler"][-1] == "scheduler"
    web_only = children("127.0.0.1:8000", 2, with_worker=False, with_scheduler=False)
    assert list(web_only) == ["web"]
    # gunicorn's access log would print check-in tokens: it stays off (requests are logged by
    # RequestIdMiddleware, redacted).
    assert not any("access" in arg for arg in gunicorn_argv("127.0.0.1:8000", 2))


# --- The real thing ---------------------------------------------------------------------------------


def test_serve_answers_health_and_replaces_a_killed_worker(
    running_serve: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, database = running_serve
    deadline = time.monotonic() + 120  # generous: a busy CI machine; nothing here is timed

    def health() -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            assert process.poll() is None, "alliance serve exited"
            return None

    assert _until(health, deadline, "/health")["database"] == "ok"
    first = _until(lambda: _workers(database), deadline, "a worker heartbeat")
    (worker_pid,) = first
    os.kill(worker_pid, signal.SIGKILL)

    replaced = _until(
        lambda: {pid for pid in _workers(database) if pid != worker_pid},
        deadline,
        "a heartbeat from a new worker",
    )
    (new_pid,) = replaced
    os.kill(new_pid, 0)  # the new worker is alive

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(new_pid, 0)
