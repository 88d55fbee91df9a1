"""A small process supervisor: `alliance serve` runs gunicorn, the job worker and the scheduler under it.

Each child that exits is started again after a back-off that doubles with every quick death (1 s, 2 s,
4 s ... capped at `BackOff.cap`) and resets once the child has stayed up for `BackOff.stable_after`;
a child that keeps dying keeps being restarted, loudly, at the capped rate, because a clinic's risk
escalation must not stay off until someone reads the log. SIGTERM or SIGINT stops every child (SIGTERM,
then SIGKILL after `stop_timeout`) and `run()` returns.

The loop is built to be tested without real processes: `spawn` and `clock` are injectable and
`step()` is one pass of it.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Protocol

logger = logging.getLogger("alliance.supervise")


class Process(Protocol):
    """What the supervisor needs of a child (subprocess.Popen has it)."""

    pid: int

    def poll(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


Spawn = Callable[[Sequence[str], Mapping[str, str] | None], Process]


def popen(argv: Sequence[str], env: Mapping[str, str] | None) -> Process:
    return subprocess.Popen(list(argv), env=dict(env) if env is not None else None)  # noqa: S603


@dataclass(frozen=True)
class BackOff:
    initial: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0

    def delay(self, quick_deaths: int) -> float:
        """Seconds to wait before the next start after `quick_deaths` deaths in a row (>= 1)."""
        return min(self.cap, self.initial * 2 ** max(0, quick_deaths - 1))


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: Process | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restarts: int = 0
    restart_at: float | None = None
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(
        self,
        children: Mapping[str, Sequence[str]],
        *,
        env: Mapping[str, str] | None = None,
        spawn: Spawn = popen,
        clock: Callable[[], float] = time.monotonic,
        backoff: BackOff | None = None,
        stop_timeout: float = 30.0,
        poll_interval: float = 0.25,
    ) -> None:
        self.children = [Child(name, list(argv)) for name, argv in children.items()]
        self.env = env
        self.spawn = spawn
        self.clock = clock
        self.backoff = backoff or BackOff()
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.stopping = False

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def start(self) -> None:
        for child in self.children:
            self._start(child)

    def _start(self, child: Child) -> None:
        child.process = self.spawn(child.argv, self.env)
        child.started_at = self.clock()
        child.restart_at = None
        logger.info("Started %s (pid %d)", child.name, child.process.pid)

    def step(self) -> None:
        """Reap children that exited, schedule their restart, and start those whose time has come."""
        now = self.clock()
        for child in self.children:
            if child.process is not None:
                code = child.process.poll()
                if code is None:
                    continue
                pid = child.process.pid
                child.process = None
                child.exit_codes.append(code)
                if now - child.started_at >= self.backoff.stable_after:
                    child.quick_deaths = 0
                child.quick_deaths += 1
                delay = self.backoff.delay(child.quick_deaths)
                child.restart_at = now + delay
                logger.error(
                    "%s (pid %d) exited with status %d; restarting it in %.0f s "
                    "(%d quick exit(s) in a row)",
                    child.name,
                    pid,
                    code,
                    delay,
                    child.quick_deaths,
                )
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)

    def request_stop(self, signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        if not self.stopping:
            logger.warning("Received %s: stopping every process", signal.strsignal(signum))
        self.stopping = True

    def stop(self) -> None:
        """SIGTERM every running child, wait for them, SIGKILL those still running after the timeout."""
        self.stopping = True
        running = [c for c in self.children if c.process is not None]
        for child in running:
            assert child.process is not None
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = self.clock() + self.stop_timeout
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                logger.error("%s (pid %d) did not stop; killing it", child.name, child.process.pid)
                child.process.kill()
                child.process.wait()
            child.process = None

    def run(self, *, install_signal_handlers: bool = True) -> int:
        """Start every child and keep them running until SIGTERM/SIGINT (or `request_stop()`)."""
        if install_signal_handlers:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        self.start()
        try:
            while not self.stopping:
                self.step()
                time.sleep(self.poll_interval)
        finally:
            self.stop()
        logger.info("Every process stopped")
        return 0
