"""How long does the Insights report take on a network of 100,000 episodes (about a million
sessions), and does the relationship model recover the simulation's effects there? (issue 11,
point 8: the whole report under a minute and under 4 GB on a 2-core machine.)

    .venv/bin/python benchmarks/insights_scale.py                     # 100,000 episodes
    .venv/bin/python benchmarks/insights_scale.py --episodes 20000 --json out.json

The clinic comes from `alliance.analytics.simulate` (seeded; known effects). Every part of the
analytics is timed on its own, in the order a report computes them:

- **relationship model**: `relationship_model(..., lagged=False)` on the sessions table;
- **lagged model**: `lagged_model` (previous session's check-in → this session's outcome);
- **therapist EB**: `therapist_variation` from the fitted model;
- when their modules are present (they are imported optionally): the **outcomes report**
  (`alliance.analytics.outcomes.outcomes_report`), the **check-in psychometrics**
  (`alliance.analytics.psychometrics.checkin_psychometrics`) and the **ruptures and
  perspective gap** (`alliance.analytics.ruptures`) — these read `ClinicData` records, which the
  script builds from the simulation first (`to_clinic_data`, the stand-in for loading the
  clinic from the database, timed and listed as input, not as report). `--skip-records` leaves
  them out.
- the sessions table from those records (`session_frame`), as the database route would build it,
  and, with `--csv`, the per-response CSV read (`alliance.analytics.responses_csv`), as
  `alliance report --responses FILE.csv` would (of a copy with scores rounded and clipped to the
  instruments' ranges; the models keep the exact simulated table).

Peak memory is the process's peak resident set (VmHWM, as `ru_maxrss`), so it includes the
simulation and the records; `--tracemalloc` adds the traced peak of the model parts alone (in a
second, untimed run: tracing slows allocation-heavy code several times).

Where the time goes (measured with this script, figures in docs/insights.md): the REML fit is
under a second per model at a million sessions — it works from per-client sums
(`alliance.analytics.reml`), so the cost is a few passes over the rows to build them (pandas
grouping, np.unique on the client keys) and about 40 evaluations of a criterion over 100,000
clients. The lagged model adds the sort that finds each client's previous session. statsmodels
MixedLM, for comparison, needs about 40 s at 9,000 sessions and 280 s at 87,000 (docs/insights.md):
it is the reference in the tests, not the engine. The rest of the report works on Python records:
building about five million of them dominates the input side.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from alliance.analytics.frames import session_frame
from alliance.analytics.model import lagged_model, relationship_model
from alliance.analytics.simulate import SimulationSettings, simulate, to_clinic_data
from alliance.analytics.therapist import therapist_variation


def _peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (VmHWM; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _optional(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


class Timer:
    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def run(self, name: str, kind: str, fn: Callable[[], Any]) -> Any:
        # Millions of small records hold no reference cycles: a collection pass in the middle
        # of a part measures the garbage collector, not the analysis. Collect before each part.
        gc.collect()
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        self.parts.append(
            {"part": name, "kind": kind, "seconds": round(seconds, 2), "peak_mb": round(_peak_mb())}
        )
        print(f"  {name:<38} {seconds:7.2f} s   peak so far {_peak_mb():7.0f} MB", flush=True)
        return result


def _coverage(model: Any, truth: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for term, value in truth.items():
        fe = model.fixed_effects[term]
        rows.append(
            {
                "term": term,
                "true": value,
                "estimate": round(fe.estimate, 4),
                "low": round(fe.low, 4),
                "high": round(fe.high, 4),
                "inside": bool(fe.low <= value <= fe.high),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description="Time the Insights analytics at scale (issue 11.8).")
    p.add_argument("--episodes", type=int, default=100_000, help="episodes = clients (100,000)")
    p.add_argument("--therapists", type=int, default=None, help="default episodes/150")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--lagged-truth",
        action="store_true",
        help="simulate the previous session's check-in as the cause (the lagged model's truth)",
    )
    p.add_argument("--skip-records", action="store_true", help="only the DataFrame parts")
    p.add_argument("--csv", action="store_true", help="also time reading the per-response CSV")
    p.add_argument("--tracemalloc", action="store_true", help="traced peak of the model parts")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON as well")
    args = p.parse_args(argv)

    settings = SimulationSettings(
        episodes=args.episodes,
        therapists=args.therapists,
        seed=args.seed,
        lagged=args.lagged_truth,
        items=True,
        round_scores=False,  # unrounded: the data follow the model exactly (simulate.py)
    )
    print(f"Insights at scale: {args.episodes:,} episodes, seed {args.seed}")
    print(f"  python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    timer = Timer()
    clinic = timer.run("simulate (input)", "input", lambda: simulate(settings))
    sessions = clinic.responses
    print(
        f"  {len(sessions):,} sessions, {settings.n_therapists():,} therapists, "
        f"{sessions['outcome'].notna().sum():,} outcomes, {sessions['checkin'].notna().sum():,} "
        "check-ins"
    )

    if args.csv and (csv_module := _optional("alliance.analytics.responses_csv")) is not None:
        # The reader refuses scores outside the instruments' ranges, which the unrounded
        # simulation has; the file gets them rounded and clipped as a real export would, and the
        # model parts keep the simulation's own table so the truth check stays exact.
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "responses.csv")
            columns = ["therapist", "client", "episode", "session", "outcome", "checkin"]
            export = sessions[columns].assign(
                outcome=sessions["outcome"].round().clip(0, 27),
                checkin=(sessions["checkin"] * 4).round().clip(0, 40) / 4,
            )
            export.to_csv(path, index=False)
            timer.run(
                "per-response CSV read (input)", "input", lambda: csv_module.read_responses(path)
            )

    model = timer.run(
        "relationship model", "report", lambda: relationship_model(sessions, lagged=False)
    )
    lagged = timer.run("lagged model", "report", lambda: lagged_model(sessions))
    variation = timer.run("therapist EB", "report", lambda: therapist_variation(model))

    optional: dict[str, Any] = {}
    if not args.skip_records:
        outcomes = _optional("alliance.analytics.outcomes")
        psychometrics = _optional("alliance.analytics.psychometrics")
        ruptures = _optional("alliance.analytics.ruptures")
        gc.disable()  # see Timer.run: building millions of records, no cycles among them
        try:
            data = timer.run(
                "records from the simulation (input)", "input", lambda: to_clinic_data(clinic)
            )
        finally:
            gc.enable()
        gc.freeze()  # the records live to the end: keep them out of later collections
        timer.run("sessions table from records", "report", lambda: session_frame(data))
        if outcomes is not None:
            optional["outcomes"] = timer.run(
                "outcomes report", "report", lambda: outcomes.outcomes_report(data)
            )
        if psychometrics is not None:
            optional["psychometrics"] = timer.run(
                "check-in psychometrics",
                "report",
                lambda: psychometrics.checkin_psychometrics(data),
            )
        if ruptures is not None:

            def rupture_parts() -> Any:
                changes = ruptures.episode_changes(data)
                gaps = ruptures.checkin_gaps(data.responses)
                return (
                    ruptures.rupture_outcomes(changes, data.alerts),
                    ruptures.perspective_gap_outcomes(changes, data.alerts, gaps),
                )

            optional["ruptures"] = timer.run(
                "ruptures and perspective gap", "report", rupture_parts
            )

    report_seconds = sum(p["seconds"] for p in timer.parts if p["kind"] == "report")
    input_seconds = sum(p["seconds"] for p in timer.parts if p["kind"] == "input")
    peak = _peak_mb()
    print(f"  {'report total':<38} {report_seconds:7.2f} s")
    print(f"  {'input (simulation, records, CSV)':<38} {input_seconds:7.2f} s")
    print(f"  peak resident memory {peak:,.0f} MB (target: report under 60 s and 4,096 MB)")

    traced = None
    if args.tracemalloc:
        tracemalloc.start()
        relationship_model(sessions, lagged=False)
        lagged_model(sessions)
        traced = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"  tracemalloc peak of the two model fits: {traced:,.0f} MB")

    truth = settings.truth()["fixed_effects"]
    # The simulation plants its effects in one model: the same-session check-in, or with
    # --lagged-truth the previous session's. The other model has no truth to be checked against.
    checked, unchecked = (lagged, "relationship") if args.lagged_truth else (model, "lagged")
    coverage = _coverage(checked, truth)
    print(f"  {checked.predictor} model against the planted truth (95% intervals):")
    for row in coverage:
        mark = "inside" if row["inside"] else "OUTSIDE"
        print(
            f"    {row['term']:<12} true {row['true']:7.3f}  estimate {row['estimate']:8.4f}  "
            f"[{row['low']:8.4f}, {row['high']:8.4f}]  {mark}"
        )
    vc = checked.variance_components
    true_vc = settings.truth()["variance_components"]
    print(
        "  variance components (true): "
        + ", ".join(
            f"{k} {vc[k]:.3f} ({true_vc[k]:.3f})" for k in ("therapist", "client", "residual")
        )
    )
    print(f"  {unchecked} model: no planted truth in this simulation")
    print(f"  therapists: {variation.n_therapists}, unstable: {variation.unstable}")
    print("  in words:")
    for sentence in (*model.sentences[:1], *variation.sentences[1:]):
        print(f"    {sentence}")

    result = {
        "episodes": args.episodes,
        "sessions": len(clinic.responses),
        "therapists": settings.n_therapists(),
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "parts": timer.parts,
        "report_seconds": round(report_seconds, 2),
        "input_seconds": round(input_seconds, 2),
        "peak_mb": round(peak),
        "tracemalloc_model_mb": round(traced) if traced is not None else None,
        "model": model.as_dict(),
        "coverage_of": checked.predictor,
        "coverage": coverage,
        "optional_parts": sorted(optional),
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
