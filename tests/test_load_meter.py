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
