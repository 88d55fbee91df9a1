"""How long does `alliance report` take to read a clinic from the database, and then to compute the
report? (issue 11, points 7 and 8: the database route of the report.)

    .venv/bin/python benchmarks/insights_records.py                  # 5,000 episodes, SQLite
    .venv/bin/python benchmarks/insights_records.py --episodes 20000

A throwaway data directory with a fresh SQLite database, migrated; a clinic from
`alliance.analytics.simulate` (seeded, check-in dimensions, rounded scores) bulk-inserted as users,
clients, episodes, one attended appointment per session, client PHQ-9, GAD-7 (0.7 x PHQ-9, capped)
and check-in responses linked to it, and the therapist's own check-in. Then, timed:
`alliance.insights.records.clinic_data()` (the six queries and the records) and
`alliance.insights.report.clinic_report()` on them. Peak resident memory (VmHWM) is the whole
process, loading included. `--profile` prints the reader's ten most expensive functions.

`benchmarks/insights_scale.py` times the report itself at 100,000 episodes from records built in
memory; this script measures what it leaves out, reading them from the database.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import pstats
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

os.environ["ALLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="insights-records-")
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "alliance.settings"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django

django.setup()

from django.core.management import call_command  # noqa: E402 - after django.setup()

from alliance.accounts.models import Role, User  # noqa: E402 - after django.setup()
from alliance.analytics.simulate import simulate  # noqa: E402 - after django.setup()
from alliance.care import models as care  # noqa: E402 - after django.setup()
from alliance.insights.records import clinic_data  # noqa: E402 - after django.setup()
from alliance.insights.report import clinic_report  # noqa: E402 - after django.setup()

ITEMS = ("bond", "goals", "tasks", "overall")


def peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load(episodes: int, seed: int) -> tuple[int, int, int]:
    sim = simulate(episodes=episodes, seed=seed, items=True, round_scores=True)
    therapists = {
        str(t): User(email=f"t{k}@bench.test", role=Role.THERAPIST)
        for k, t in enumerate(sim.episodes["therapist"].cat.categories)
    }
    User.objects.bulk_create(therapists.values())
    rows: list[Any] = list(sim.episodes.itertuples(index=False))
    clients = [care.Client(code=f"C{k:06d}", name="bench") for k in range(len(rows))]
    care.Client.objects.bulk_create(clients, batch_size=2000)
    stored: dict[str, care.Episode] = {}
    for k, row in enumerate(rows):
        start = date(2024, 1, 1) + timedelta(days=k % 500)
        stored[str(row.episode)] = care.Episode(
            client=clients[k],
            therapist=therapists[str(row.therapist)],
            started_on=start,
            ended_on=start + timedelta(days=7 * (int(row.sessions) - 1)),
            status="ended",
            end_reason="dropout" if row.dropout else "planned",
        )
    care.Episode.objects.bulk_create(stored.values(), batch_size=2000)
    sessions: list[Any] = list(sim.responses.itertuples(index=False))
    appointments = []
    for row in sessions:
        episode = stored[str(row.episode)]
        day = episode.started_on + timedelta(days=7 * (int(row.session) - 1))
        appointments.append(
            care.Appointment(
                episode=episode,
                session_number=int(row.session),
                scheduled_at=datetime.combine(day, clock(10), tzinfo=UTC),
                attendance="attended",
            )
        )
    care.Appointment.objects.bulk_create(appointments, batch_size=5000)
    responses = []

    def response(
        appointment: care.Appointment,
        instrument: str,
        total: float,
        hours: int,
        answers: dict[str, int] | None = None,
        respondent: str = "client",
    ) -> None:
        responses.append(
            care.Response(
                episode=appointment.episode,
                appointment=appointment,
                instrument=instrument,
                instrument_version="bench",
                respondent=respondent,
                answers=answers or {},
                total=total,
                submitted_at=appointment.scheduled_at + timedelta(hours=hours),
                source="demo",
            )
        )

    for row, appointment in zip(sessions, appointments, strict=True):
        if not math.isnan(row.outcome):
            response(appointment, "phq9", float(row.outcome), -2)
            response(appointment, "gad7", float(min(21.0, round(0.7 * row.outcome))), -2)
        if not math.isnan(row.checkin):
            answers = {item: int(getattr(row, item)) for item in ITEMS}
            response(appointment, "checkin", float(row.checkin), 1, answers=answers)
        if not math.isnan(row.checkin_therapist):
            rating = float(min(10.0, max(0.0, row.checkin_therapist)))
            response(appointment, "checkin-therapist", rating, 2, respondent="therapist")
    care.Response.objects.bulk_create(responses, batch_size=5000)
    return len(stored), len(appointments), len(responses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    episodes, appointments, responses = load(args.episodes, args.seed)
    print(
        f"loaded {episodes:,} episodes, {appointments:,} appointments, {responses:,} responses "
        f"in {time.perf_counter() - started:.1f} s (SQLite)",
        flush=True,
    )
    gc.collect()
    profile = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profile:
        profile.enable()
    data = clinic_data()
    if profile:
        profile.disable()
    reading = time.perf_counter() - started
    print(f"  clinic_data    {reading:6.1f} s   peak so far {peak_mb():,.0f} MB", flush=True)
    started = time.perf_counter()
    clinic_report(data)
    print(f"  clinic_report  {time.perf_counter() - started:6.1f} s   peak {peak_mb():,.0f} MB")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(10)


if __name__ == "__main__":
    main()
