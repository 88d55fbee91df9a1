"""benchmarks/load.py's CPU meter finds the server's worker processes and counts the CPU they use."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import load

BUSY_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time\\nend = time.process_time() + 0.4\\nwhile time.process_time() < end: pass\\ntime.sleep(30)"])
print(child.pid, flush=True)
time.sleep(30)
"""


def test_the_meter_counts_the_cpu_of_the_masters_children() -> None:
    master = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", BUSY_CHILD], stdout=subprocess.PIPE, text=True
    )
    try:
        assert master.stdout is not None
        child = int(master.stdout.readline())
        meter = load.CpuMeter(master.pid, None)
        assert load._children(master.pid) == [child]
        started = meter.start()
        deadline = time.monotonic() + 10
        while load._cpu_seconds(child) < 0.35 and time.monotonic() < deadline:
            time.sleep(0.05)
        used = meter.per_request(started, requests=10)
        # The child burnt ~0.4 s of CPU, part of it before the meter started: per request, over 10.
        assert 0 < used["app_cpu_ms"] <= 45
        assert used["database_cpu_ms"] == 0
    finally:
        master.kill()
        master.wait()
    assert load._cpu_seconds(999_999_999) == 0.0


REAPING_PARENT = BUSY_CHILD.replace("time.sleep(30)\n", "child.wait()\ntime.sleep(30)\n", 1)


def test_a_process_that_ends_during_the_run_counts_nothing_rather_than_less_than_nothing() -> None:
    # The parent reaps its child, so the child's /proc entry goes when it is killed.
    assert REAPING_PARENT.count("child.wait()") == 1
    master = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", REAPING_PARENT], stdout=subprocess.PIPE, text=True
    )
    try:
        assert master.stdout is not None
        child = int(master.stdout.readline())
        deadline = time.monotonic() + 10
        while load._cpu_seconds(child) < 0.35 and time.monotonic() < deadline:
            time.sleep(0.05)
        meter = load.CpuMeter(master.pid, None)
        started = meter.start()
        assert started["app"][child] >= 0.35
        subprocess.run(["kill", "-9", str(child)], check=True)  # noqa: S603, S607
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{child}").exists()
        used = meter.per_request(started, requests=10)
        assert used["app_cpu_ms"] == 0
    finally:
        master.kill()
        master.wait()
