"""Server time of the therapist's and supervisor's pages at the architecture budget's size.

Budget (issue #5): "Caseload and client pages: server time p95 under 150 ms with 200 active clients
and two years of sessions, on SQLite, on a 2-core machine." Run::

    .venv/bin/python benchmarks/pages.py                   # ~3-4 minutes, most of it loading
    .venv/bin/python benchmarks/pages.py --requests 500 --json pages.json

What it builds, in a throwaway data directory and SQLite database (migrated, static files
collected as in production, DEBUG off):

- a background clinic simulated with ``alliance.demo.simulate`` (``--clients``, 24 months), so
  the tables hold other therapists' data too;
- one therapist (the benchmark therapist) with exactly ``--active`` (200) active episodes, each
  with about two years (``--weeks``, 104) of weekly appointments. The simulator's episodes last
  ~15 sessions, so each long episode chains the past appointments (and answers) of several
  simulated episodes, renumbered and re-dated weekly up to today, with the next two appointments
  booked. Scores restart at each joint; for page timing only the volume matters;
- every alert, by ``alliance.care.alert_sync.sync(refit=True)``.

Then, in a fresh process (as a server worker would be: the build's objects would otherwise stay
on the heap and lengthen every garbage-collection pause), with Django's test ``Client`` logged in
as that therapist (``force_login``):
a few warm-up requests, then ``--requests`` GETs of each page: caseload, client page, session page,
brief of the next appointment, agenda, journal (cycling over the 200 clients in a seeded random order),
the supervisor's page of that therapist (signed in as their supervisor), and the charts fragment
of each client's active episode (as htmx loads it after the client page; once cold, when its charts
are drawn, and once warm, from the chart cache; at most one request per episode), each beside a reference
measured in the same run (the sign-in page), so the ratio carries to another machine. It prints p50/p95/max server time (the
time ``Client.get`` takes: middleware, view, queries, template; no network or WSGI server) and the
number of SQL queries per page (counted in a separate pass, since counting slows requests down).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

RESULT = "RESULT "


def _setup(data_dir: str) -> None:
    os.environ["ALLIANCE_DATA_DIR"] = data_dir
    os.environ["ALLIANCE_HTTPS"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alliance.settings"
    os.environ.setdefault("ALLIANCE_LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ.pop("DATABASE_URL", None)  # the budget is on SQLite
    import django

    django.setup()


def build_clinic(args: argparse.Namespace, today: date) -> tuple[Any, str, list[str]]:
    """The simulated clinic to load, the benchmark therapist's email and their clients' codes."""
    from django.utils import timezone

    from alliance.demo.simulate import SimAppointment, SimEpisode, SimResponse, simulate_clinic

    tz = timezone.get_current_timezone()
    therapists = max(4, round(args.clients / 100))
    # Enough extra simulated episodes to chain into the long ones (about 14 appointments each).
    sources_needed = args.active * (args.weeks // 10 + 2)
    sim = simulate_clinic(
        args.seed, args.clients + sources_needed, therapists, args.months, today, tz=tz
    )
    background = sim.episodes[: args.clients]
    sources = [
        e
        for e in sim.episodes[args.clients :]
        if any(a.attendance != "scheduled" for a in e.appointments)
    ]
    bench_key, other_key = sim.therapists[0].key, sim.therapists[1].key
    # The benchmark therapist keeps their ended episodes; their active ones go to a colleague so
    # that they have exactly ``--active`` active clients.
    background = [
        dataclasses.replace(e, therapist_key=other_key)
        if e.therapist_key == bench_key and e.status == "active"
        else e
        for e in background
    ]

    rng = random.Random(args.seed)
    long_episodes: list[SimEpisode] = []
    source_iter = iter(sources)
    for index in range(args.active):
        first = next(source_iter)
        chained: list[SimAppointment] = [
            a for a in first.appointments if a.attendance != "scheduled"
        ]
        while len(chained) < args.weeks:
            chained += [a for a in next(source_iter).appointments if a.attendance != "scheduled"]
        chained = chained[: args.weeks]
        weekday, hour = rng.randrange(5), rng.randrange(9, 17)
        # The last past appointment falls in the week before today, at this client's slot.
        last = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
        appointments: list[SimAppointment] = []
        for number, old in enumerate(chained, start=1):
            day = last - timedelta(weeks=len(chained) - number)
            at = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            shift = at - old.scheduled_at
            responses = [
                SimResponse(r.instrument, r.respondent, r.answers, r.submitted_at + shift)
                for r in old.responses
            ]
            appointments.append(dataclasses.replace(old, number=number, scheduled_at=at, responses=responses))  # fmt: skip
        for extra in (1, 2):
            at = appointments[-1].scheduled_at + timedelta(weeks=extra)
            appointments.append(SimAppointment(len(chained) + extra, at, "scheduled", []))
        long_episodes.append(
            dataclasses.replace(
                first,
                key=f"long-{index + 1:04d}",
                therapist_key=bench_key,
                start=appointments[0].scheduled_at.date(),
                end=None,
                status="active",
                end_reason=None,
                appointments=appointments,
            )
        )
    long_clients = {e.client_key for e in long_episodes}
    clients = [c for c in sim.clients[: args.clients]] + [
        c for c in sim.clients[args.clients :] if c.key in long_clients
    ]
    clinic = dataclasses.replace(sim, clients=clients, episodes=background + long_episodes)
    codes = [c.code for c in sim.clients if c.key in long_clients]
    return clinic, sim.therapists[0].email, codes


def handle_past_alerts(now: datetime, weeks: int) -> int:
    """Close the alerts a working therapist would have dealt with: every alert still needing
    attention that was raised at a session more than ``weeks`` weeks before ``now``.

    Without this the simulated clinic keeps every alert of two years open (about 13 per active
    client, 4 of them urgent risk alerts), which no clinic does: a risk alert left unacknowledged
    is escalated to the supervisor within the hour (alliance.care.escalation). Each alert goes
    through the therapist's own steps, checked by alliance.alerts.lifecycle (acknowledged the day
    after its session, closed as "addressed" a week later, with the note the close leaves), so the
    tables hold what a working clinic's would. Alerts without a session and those of the last
    ``weeks`` weeks stay as the recompute left them. Returns how many were closed."""
    from alliance.alerts.lifecycle import apply_action
    from alliance.care.models import Alert, AlertNote, AlertStatus
    from alliance.care.queries import OPEN_ALERT_STATUSES

    past = Alert.objects.filter(
        status__in=OPEN_ALERT_STATUSES,
        appointment__scheduled_at__lt=now - timedelta(weeks=weeks),
    ).select_related("appointment", "episode")
    closed, notes = [], []
    for alert in past.iterator(chunk_size=2000):
        session = alert.appointment.scheduled_at  # type: ignore[union-attr]
        status = alert.status
        if status == AlertStatus.OPEN:
            status = apply_action(status, alert.kind, "acknowledge")  # type: ignore[arg-type]
        if alert.acknowledged_at is None:  # as the alert page stamps it (care.alert_views)
            alert.acknowledged_at = session + timedelta(days=1)
            alert.acknowledged_by_id = alert.episode.therapist_id
        alert.status = apply_action(status, alert.kind, "close", reason="addressed")  # type: ignore[arg-type]
        alert.close_reason, alert.resolved_at = "addressed", session + timedelta(days=7)
        closed.append(alert)
        notes.append(
            AlertNote(
                alert=alert,
                author_id=alert.episode.therapist_id,
                action="close",
                created_at=alert.resolved_at,
            )
        )
    Alert.objects.bulk_update(
        closed,
        ["status", "acknowledged_at", "acknowledged_by", "close_reason", "resolved_at"],
        batch_size=500,
    )
    AlertNote.objects.bulk_create(notes, batch_size=500)
    return len(closed)


def _timed(get: Callable[[], Any], n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = get()
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"unexpected status {response.status_code}")
    return times


def _stats(times: Sequence[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def build(args: argparse.Namespace, data_dir: str) -> dict[str, Any]:
    """Migrate, collect static files, store the clinic and compute every alert."""
    _setup(data_dir)
    from django.core.management import call_command
    from django.utils import timezone

    from alliance.accounts.models import User
    from alliance.care import alert_sync
    from alliance.care.models import Appointment, Episode, Response
    from alliance.demo.loader import load_clinic

    timings: dict[str, float] = {}
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    timings["migrate_collectstatic_s"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    clinic, email, codes = build_clinic(args, timezone.localdate())
    timings["simulate_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    summary = load_clinic(clinic)
    timings["load_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    synced = alert_sync.sync(refit=True)
    timings["alerts_sync_s"] = round(time.perf_counter() - t, 1)

    therapist = User.objects.get(email=email)
    mine = Episode.objects.filter(therapist=therapist)
    sizes = {
        "database_episodes": summary.episodes,
        "database_appointments": summary.appointments,
        "database_responses": summary.responses,
        "alerts": synced.created,
        "therapist_active_episodes": mine.filter(status="active").count(),
        "therapist_ended_episodes": mine.filter(status="ended").count(),
        "therapist_appointments": Appointment.objects.filter(episode__in=mine).count(),
        "therapist_responses": Response.objects.filter(episode__in=mine).count(),
        "therapist_alerts_active_episodes": sum(
            e.alerts.count() for e in mine.filter(status="active")
        ),
        "database_mb": round(os.path.getsize(os.path.join(data_dir, "alliance.sqlite3")) / 1e6, 1),
    }
    return {"timings": timings, "sizes": sizes, "email": email, "codes": codes}


def measure(
    args: argparse.Namespace, data_dir: str, email: str, codes: list[str]
) -> dict[str, Any]:
    """Time the pages. Runs in a fresh process, like a server worker: the build's objects would
    otherwise stay on the heap and lengthen every garbage-collection pause.

    Every page is timed against a reference measured in the same run: the sign-in page (a bare
    Django view with a form, through the same middleware), so the ratio holds on a faster or slower
    machine; the 150 ms budget is for this 2-core machine."""
    _setup(data_dir)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from alliance.accounts.models import Supervision, User
    from alliance.care.models import Appointment, Episode
    from alliance.core.gc_tuning import tune_for_web

    therapist = User.objects.get(email=email)
    client = Client()
    client.force_login(therapist)
    link = Supervision.objects.filter(therapist=therapist).select_related("supervisor").first()
    supervisor = Client()
    if link is not None:
        supervisor.force_login(link.supervisor)
    anonymous = Client()
    # As the WSGI entry point (alliance/wsgi.py) does in every server worker.
    tune_for_web()
    order = list(codes)
    random.Random(args.seed).shuffle(order)
    now = timezone.now()
    next_appointments = dict(
        Appointment.objects.filter(
            episode__client__code__in=order, attendance="scheduled", scheduled_at__gte=now
        )
        .order_by("-scheduled_at")
        .values_list("episode__client__code", "pk")
    )
    last_appointments = dict(
        Appointment.objects.filter(episode__client__code__in=order, attendance="attended")
        .order_by("scheduled_at")
        .values_list("episode__client__code", "pk")
    )

    def cycling(http: Any, urls: list[str]) -> Callable[[], Any]:
        position = 0

        def get() -> Any:
            nonlocal position
            url = urls[position % len(urls)]
            position += 1
            return http.get(url)

        return get

    def named(name: str, *args_: Any) -> str | None:
        try:
            return reverse(name, args=list(args_))
        except Exception:  # the page does not exist in this version
            return None

    plans: list[tuple[str, Any, list[str | None]]] = [
        ("reference", anonymous, [reverse("account_login")]),
        ("caseload", client, [reverse("caseload")]),
        ("client", client, [reverse("client_detail", args=[code]) for code in order]),
        ("session", client, [named("appointment_detail", last_appointments[c]) for c in order]),
        ("brief", client, [named("appointment_brief", next_appointments[c]) for c in order]),
        ("agenda", client, [named("agenda")]),
        ("journal", client, [named("journal")]),
        ("supervisee", supervisor, [named("supervisee_detail", therapist.pk)] if link else []),
    ]
    results: dict[str, Any] = {}
    for page, http, maybe_urls in plans:
        urls = [u for u in maybe_urls if u]
        if not urls:
            continue
        get = cycling(http, urls)
        _timed(get, 5)
        times = _timed(get, args.requests)
        queries: list[int] = []
        sizes: list[float] = []
        for url in urls[:20]:
            with CaptureQueriesContext(connection) as captured:
                response = http.get(url)
            queries.append(len(captured.captured_queries))
            sizes.append(len(response.content) / 1000)
        results[page] = _stats(times) | {
            "queries_min": min(queries),
            "queries_max": max(queries),
            "html_kb_median": round(statistics.median(sizes), 1),
        }
    results |= _measure_charts(args, client, order, dict(
        Episode.objects.filter(client__code__in=order, status="active").values_list("client__code", "pk")
    ))  # fmt: skip
    reference = results["reference"]["p50_ms"]
    for row in results.values():
        row["p95_over_reference_p50"] = round(row["p95_ms"] / reference, 1)
    return results


def _measure_charts(
    args: argparse.Namespace, http: Any, order: list[str], episodes: dict[str, int]
) -> dict[str, Any]:
    """The charts fragment htmx loads after the client page, one per client's active episode.

    Cold: the first request for each episode (the SVGs are drawn); warm: the same episodes again,
    served from the per-process chart cache (alliance.care.chart_svg, 512 charts, up to four an
    episode). One episode outside the measured ones is requested first, so that loading matplotlib
    and its fonts (once per server process) is not counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    urls = [reverse("episode_charts", args=[episodes[c]]) for c in order if c in episodes]
    if len(urls) < 2:
        return {}
    measured, spare = urls[: min(args.requests, len(urls) - 1)], urls[-1]

    def get(url: str) -> Any:
        return http.get(url, headers={"HX-Request": "true"})

    get(spare)
    results: dict[str, Any] = {}
    for name in ("charts_cold", "charts_warm"):
        pending = iter(measured)

        def next_one(pending: Any = pending) -> Any:
            return get(next(pending))

        times = _timed(next_one, len(measured))
        results[name] = _stats(times)
    queries: list[int] = []
    sizes: list[float] = []
    for url in measured[:20]:
        with CaptureQueriesContext(connection) as captured:
            response = get(url)
        queries.append(len(captured.captured_queries))
        sizes.append(len(response.content) / 1000)
    for row in results.values():
        row |= {
            "queries_min": min(queries),
            "queries_max": max(queries),
            "html_kb_median": round(statistics.median(sizes), 1),
        }
    return results


def run(args: argparse.Namespace, data_dir: str) -> dict[str, Any]:
    built = build(args, data_dir)
    plan = os.path.join(data_dir, "pages-benchmark.json")
    with open(plan, "w", encoding="utf-8") as fh:
        json.dump({"email": built["email"], "codes": built["codes"]}, fh)
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--phase",
        "measure",
        "--data-dir",
        data_dir,
    ]
    command += ["--requests", str(args.requests), "--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    sys.stderr.write(done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return {"timings": built["timings"], "sizes": built["sizes"]} | json.loads(
                line[len(RESULT) :]
            )
        print(line)
    raise SystemExit(f"the measuring process failed (exit status {done.returncode})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Server time of the caseload and client pages.")
    p.add_argument("--clients", type=int, default=1000, help="background clinic size (1000)")
    p.add_argument("--active", type=int, default=200, help="the therapist's active clients (200)")
    p.add_argument("--weeks", type=int, default=104, help="weekly appointments per client (104)")
    p.add_argument("--months", type=int, default=24, help="background clinic months (24)")
    p.add_argument("--requests", type=int, default=200, help="requests per page (200)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--phase", choices=["measure"], help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase == "measure":
        with open(os.path.join(args.data_dir, "pages-benchmark.json"), encoding="utf-8") as fh:
            plan = json.load(fh)
        print(RESULT + json.dumps(measure(args, args.data_dir, plan["email"], plan["codes"])))
        return 0
    data_dir = tempfile.mkdtemp(prefix="alliance-pages-")
    try:
        print(
            f"Pages benchmark: SQLite in {data_dir}; one therapist with {args.active} active "
            f"clients x {args.weeks} weekly appointments; background clinic of {args.clients} "
            f"clients; {os.cpu_count()} CPUs, Python {platform.python_version()}",
            flush=True,
        )
        result = run(args, data_dir)
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    s, tm = result["sizes"], result["timings"]
    print(
        f"Built in {sum(tm.values()):.0f} s ({', '.join(f'{k} {v}' for k, v in tm.items())}): "
        f"{s['database_episodes']} episodes, {s['database_appointments']} appointments, "
        f"{s['database_responses']} responses, {s['alerts']} alerts; {s['database_mb']} MB"
    )
    print(
        f"The therapist: {s['therapist_active_episodes']} active and "
        f"{s['therapist_ended_episodes']} ended episodes, {s['therapist_appointments']} "
        f"appointments, {s['therapist_responses']} responses; "
        f"{s['therapist_alerts_active_episodes']} alerts on the active episodes"
    )
    print(f"\n{'page':<11} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'HTML kB':>8} {'p95/ref':>8}")  # fmt: skip
    budget = 150.0
    pages = {k: v for k, v in result.items() if k not in ("timings", "sizes")}
    for name, row in pages.items():
        queries = (
            str(row["queries_min"])
            if row["queries_min"] == row["queries_max"]
            else f"{row['queries_min']}-{row['queries_max']}"
        )
        print(
            f"{name:<11} {row['n']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['max_ms']:>8} "
            f"{queries:>8} {row['html_kb_median']:>8} {row['p95_over_reference_p50']:>8}"
        )
    print("\nreference: the sign-in page (a bare Django view and form through the same middleware)")
    for name, row in pages.items():
        if name == "reference":
            continue
        verdict = "within" if row["p95_ms"] < budget else "OVER"
        print(f"{name}: p95 {row['p95_ms']} ms — {verdict} the {budget:.0f} ms budget")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
