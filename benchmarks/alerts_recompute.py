"""How long does recomputing every alert take for a clinic of 10,000 episodes? (issue #5, "Speed")

Two measurements::

    .venv/bin/python benchmarks/alerts_recompute.py                  # 10,000 clients, SQLite
    .venv/bin/python benchmarks/alerts_recompute.py --clients 2000 --skip-app
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/alerts_recompute.py              # PostgreSQL

(a) pure: ``compute_norms`` and ``evaluate_clinic`` on 10,000 ``EpisodeSeries`` already in memory
    (built from a simulated clinic by ``benchmarks/_sim_series.py``): wall time, then the peak of
    the memory the step allocates (``tracemalloc``, in a second, untimed run: tracing slows Python
    down several times).
(b) in the app: a throwaway data directory and database (SQLite in that directory, or, with
    ``DATABASE_URL`` pointing at a PostgreSQL server, a throwaway database created on it and
    dropped afterwards), migrated, the simulated clinic stored with
    ``alliance.demo.loader.load_clinic``, then ``alliance.care.alert_sync.sync(refit=True)`` (norms
    refitted, every alert created) and a second ``sync()`` (norms cached, nothing to change). The
    recompute runs in a fresh process, as ``alliance alerts recompute`` or the nightly job would,
    so its peak resident memory (``ru_maxrss``) is the recompute's own.

Nothing is written outside the temporary directory (and the throwaway PostgreSQL database).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

RESULT = "RESULT "


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    On Linux this is ``VmHWM`` from /proc/self/status: ``ru_maxrss`` survives ``execve``, so in a
    child started by a large parent it would report the parent's peak instead.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def _clinic_args(args: argparse.Namespace) -> tuple[int, int, int, int, date]:
    therapists = args.therapists or max(1, round(args.clients / 100))
    return args.seed, args.clients, therapists, args.months, date.fromisoformat(args.end)


# --------------------------------------------------------------------------- (a) pure


def pure(args: argparse.Namespace) -> dict[str, Any]:
    from _sim_series import clinic_series

    from alliance.alerts import AlertSettings, compute_norms, evaluate_clinic
    from alliance.demo.simulate import simulate_clinic

    seed, clients, therapists, months, end = _clinic_args(args)
    t0 = time.perf_counter()
    clinic = simulate_clinic(seed, clients, therapists, months, end)
    t1 = time.perf_counter()
    series = clinic_series(clinic)
    t2 = time.perf_counter()
    sessions = sum(len(s.sessions) for s in series)
    del clinic
    gc.collect()
    settings = AlertSettings()

    t3 = time.perf_counter()
    norms = compute_norms(series, settings)
    t4 = time.perf_counter()
    findings = evaluate_clinic(series, settings, norms)
    t5 = time.perf_counter()
    rss_after = _rss_mb()
    kinds = Counter(f.kind for fs in findings.values() for f in fs)
    del findings
    gc.collect()

    peak_mb: float | None = None
    if not args.no_tracemalloc:
        tracemalloc.start()
        norms = compute_norms(series, settings)
        findings = evaluate_clinic(series, settings, norms)
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        del findings
    return {
        "episodes": len(series),
        "sessions": sessions,
        "simulate_s": round(t1 - t0, 2),
        "convert_s": round(t2 - t1, 2),
        "compute_norms_s": round(t4 - t3, 2),
        "evaluate_clinic_s": round(t5 - t4, 2),
        "total_s": round(t5 - t3, 2),
        "trajectory_sources": {k: m.source for k, m in sorted(norms.trajectories.items())},
        "findings": sum(kinds.values()),
        "findings_by_kind": dict(sorted(kinds.items())),
        "tracemalloc_peak_mb": None if peak_mb is None else round(peak_mb, 1),
        "process_peak_rss_mb": round(rss_after, 1),
    }


# --------------------------------------------------------------------------- (b) in the app


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()


def phase_load(args: argparse.Namespace) -> dict[str, Any]:
    """Child process: migrate the throwaway database and store the simulated clinic."""
    _django()
    from django.core.management import call_command
    from django.db import connection

    from alliance.demo.loader import load_clinic
    from alliance.demo.simulate import simulate_clinic

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    t1 = time.perf_counter()
    clinic = simulate_clinic(*_clinic_args(args))
    t2 = time.perf_counter()
    summary = load_clinic(clinic)
    t3 = time.perf_counter()
    return {
        "database": connection.vendor,
        "migrate_s": round(t1 - t0, 2),
        "simulate_s": round(t2 - t1, 2),
        "load_s": round(t3 - t2, 2),
        "episodes": summary.episodes,
        "appointments": summary.appointments,
        "responses": summary.responses,
    }


def phase_sync(args: argparse.Namespace) -> dict[str, Any]:
    """Child process: time sync(refit=True), then a second sync() with nothing to change."""
    _django()
    from alliance.care import alert_sync
    from alliance.care.models import Alert

    baseline = _rss_mb()
    t0 = time.perf_counter()
    first = alert_sync.sync(refit=True)
    t1 = time.perf_counter()
    peak_first = _rss_mb()
    second = alert_sync.sync()
    t2 = time.perf_counter()
    peak_second = _rss_mb()
    t3 = time.perf_counter()
    loaded = alert_sync.load_series()
    load_series_s = time.perf_counter() - t3
    del loaded
    out: dict[str, Any] = {
        "episodes": first.episodes,
        "first": {
            "seconds": round(t1 - t0, 2),
            "created": first.created,
            "updated": first.updated,
            "peak_rss_mb": round(peak_first, 1),
        },
        "second": {
            "seconds": round(t2 - t1, 2),
            "created": second.created,
            "updated": second.updated,
            "peak_rss_mb": round(peak_second, 1),
        },
        "rss_after_setup_mb": round(baseline, 1),
        "load_series_s": round(load_series_s, 2),
        "alerts_stored": Alert.objects.count(),
    }
    if not args.no_tracemalloc:
        tracemalloc.start()
        third = alert_sync.sync()
        out["second_tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
        tracemalloc.stop()
        out["third_changes"] = third.created + third.updated
    return out


def _child(phase: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--phase",
        phase,
        "--clients",
        str(args.clients),
        "--months",
        str(args.months),
        "--seed",
        str(args.seed),
        "--end",
        args.end,
    ]
    if args.therapists:
        command += ["--therapists", str(args.therapists)]
    if args.no_tracemalloc:
        command.append("--no-tracemalloc")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    sys.stderr.write(done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return dict(json.loads(line[len(RESULT) :]))
        print(line)
    raise SystemExit(f"the {phase} phase failed (exit status {done.returncode})")


def _postgres_admin(url: str) -> Any:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin.replace("postgresql://", "postgres://", 1), autocommit=True)


def app(args: argparse.Namespace) -> dict[str, Any]:
    base_url = os.environ.get("DATABASE_URL", "")
    data_dir = tempfile.mkdtemp(prefix="alliance-bench-")
    env = {
        **os.environ,
        "ALLIANCE_DATA_DIR": data_dir,
        "ALLIANCE_HTTPS": "0",
        "DJANGO_SETTINGS_MODULE": "alliance.settings",
        "ALLIANCE_LOG_LEVEL": "WARNING",
    }
    database = f"sqlite ({data_dir}/alliance.sqlite3)"
    throwaway = None
    try:
        if base_url.startswith(("postgres://", "postgresql://")):
            throwaway = f"alliance_bench_{os.getpid()}"
            with _postgres_admin(base_url) as conn:
                conn.execute(f'CREATE DATABASE "{throwaway}"')
            parts = urlsplit(base_url)
            env["DATABASE_URL"] = urlunsplit(
                (parts.scheme, parts.netloc, f"/{throwaway}", parts.query, "")
            )
            database = f"postgresql (throwaway database {throwaway} on {parts.hostname})"
        elif base_url:
            raise SystemExit("DATABASE_URL must be a postgres:// URL (or unset for SQLite)")
        print(f"(b) app: {database}; loading the clinic ...", flush=True)
        loaded = _child("load", args, env)
        print("    recomputing ...", flush=True)
        synced = _child("sync", args, env)
        return {"database": database, "load": loaded, "sync": synced}
    finally:
        if throwaway is not None:
            with _postgres_admin(base_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{throwaway}" WITH (FORCE)')
        if args.keep:
            print(f"    kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Time the full alert recompute (issue #5, Speed).")
    p.add_argument("--clients", type=int, default=10_000, help="clients = episodes (10,000)")
    p.add_argument("--therapists", type=int, default=None, help="default clients/100")
    p.add_argument("--months", type=int, default=24, help="simulated months (24)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--end", default=date.today().isoformat(), help="'today' of the simulation")
    p.add_argument("--skip-pure", action="store_true", help="only the in-app measurement")
    p.add_argument("--skip-app", action="store_true", help="only the pure measurement")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--phase", choices=["load", "sync"], help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase == "load":
        print(RESULT + json.dumps(phase_load(args)))
        return 0
    if args.phase == "sync":
        print(RESULT + json.dumps(phase_sync(args)))
        return 0

    seed, clients, therapists, months, end = _clinic_args(args)
    print(
        f"Alert recompute: simulated clinic, seed {seed}, {clients} clients (one episode each), "
        f"{therapists} therapists, {months} months to {end}; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    results: dict[str, Any] = {"clients": clients, "therapists": therapists, "months": months}
    if not args.skip_pure:
        print("(a) pure: simulating and converting ...", flush=True)
        p = pure(args)
        results["pure"] = p
        print(
            f"    {p['episodes']} episodes, {p['sessions']} sessions (simulated in "
            f"{p['simulate_s']} s, converted in {p['convert_s']} s)"
        )
        print(
            f"    compute_norms {p['compute_norms_s']:.2f} s (trajectories: "
            f"{', '.join(f'{k} {v}' for k, v in p['trajectory_sources'].items())}) + "
            f"evaluate_clinic {p['evaluate_clinic_s']:.2f} s = {p['total_s']:.2f} s"
        )
        print(
            f"    {p['findings']} findings "
            f"({', '.join(f'{k} {v}' for k, v in p['findings_by_kind'].items())})"
        )
        if p["tracemalloc_peak_mb"] is not None:
            print(
                f"    peak memory allocated by the step (tracemalloc): {p['tracemalloc_peak_mb']} MB"
            )
        print(f"    process peak RSS (simulated clinic included): {p['process_peak_rss_mb']} MB")
    if not args.skip_app:
        a = app(args)
        results["app"] = a
        load, sync = a["load"], a["sync"]
        print(
            f"    load_clinic: {load['episodes']} episodes, {load['appointments']} appointments, "
            f"{load['responses']} responses in {load['load_s']:.1f} s (migrate "
            f"{load['migrate_s']:.1f} s, simulate {load['simulate_s']:.1f} s)"
        )
        first, second = sync["first"], sync["second"]
        print(
            f"    sync(refit=True): {first['seconds']:.2f} s, {first['created']} alerts created, "
            f"{first['updated']} updated; peak RSS {first['peak_rss_mb']} MB "
            f"({sync['rss_after_setup_mb']} MB after django.setup())"
        )
        print(
            f"    sync() again:     {second['seconds']:.2f} s, {second['created']} created, "
            f"{second['updated']} updated; peak RSS {second['peak_rss_mb']} MB"
        )
        print(
            f"    (of which reading: load_series() alone takes {sync['load_series_s']:.2f} s, once "
            "per sync: the norms are fitted on the same series)"
        )
        if "second_tracemalloc_peak_mb" in sync:
            print(
                f"    sync() under tracemalloc: peak {sync['second_tracemalloc_peak_mb']} MB "
                "allocated by the step"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
            fh.write("\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
