"""How well do the alert rules find what the demo generator planted? (issue #5, "Evaluation")

Pure: no database, no Django settings. Run from the repository root::

    .venv/bin/python benchmarks/alerts_evaluation.py                # 2,500 clients, ~1 minute
    .venv/bin/python benchmarks/alerts_evaluation.py --json out.json

What it does
------------
1. Simulates the evaluation clinic (``--seed``, ``--clients``, ``--months``) and, with another
   seed (``--train-seed``), a separate *training* clinic of the same size. The clinic norms
   (expected-recovery curves for "not on track" and the early-alliance cut-off) are fitted on the
   training clinic with ``compute_norms`` (the same call the app makes nightly), so the rules are
   never scored on the data their yardsticks were fitted on.
2. Converts each simulated episode to an ``EpisodeSeries`` with ``benchmarks/_sim_series.py``,
   which mirrors ``alliance.care.alert_sync.load_series`` (scores via ``alliance.measures``).
3. Evaluates every episode *as of each appointment*: the series truncated to appointments 1..k,
   only what was known then. An alert is "raised at k" when its key first appears as of k, so
   lead times are honest (never computed from a later, fuller series).
4. Scores each alert kind against the planted ground truth (definitions printed below the table
   and in ``docs/alerts-evaluation.md``) and counts alerts per therapist per week.

Everything here comes from *simulated* data calibrated to docs/clinical.md; it checks that the rules do
what they were designed to do on data with known answers. It is not a clinical validation.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
from _sim_series import as_of, clinic_series, past_sessions

from alliance.alerts import (
    KINDS,
    SEVERITIES,
    SEVERITY_RANK,
    AlertSettings,
    ClinicNorms,
    EpisodeSeries,
    Finding,
    TrajectoryModel,
    compute_norms,
    default_norms,
    evaluate_episode,
)
from alliance.alerts.deterioration import reliable_rise
from alliance.alerts.not_on_track import not_on_track_findings
from alliance.alerts.own_course import group_z
from alliance.demo import simulate, texts
from alliance.demo.simulate import DEFAULT_END, SimClinic, SimEpisode


def _heldout_clinic(seed: int, clients: int, therapists: int, months: int, end: date) -> SimClinic:
    # Imported on use: the held-out simulator is another engineer's module (issue 12).
    from alliance.demo import heldout

    return heldout.simulate_clinic(seed, clients, therapists, months, end)


SIMULATORS: dict[str, Callable[[int, int, int, int, date], SimClinic]] = {
    "main": simulate.simulate_clinic,
    "heldout": _heldout_clinic,
}
SIMULATOR_TITLES = {
    "main": "MAIN simulator (alliance.demo.simulate): the rules were tuned on it",
    "heldout": "HELD-OUT simulator (alliance.demo.heldout): written independently, never used for tuning",
}

# Issue 12's targets, on the default settings.
TARGET_NEW_ALERTS = 3.0  # new alerts per therapist per week, risk excluded
TARGET_NOT_BY_3 = 0.85  # not on track: eventual reliable deteriorators flagged by session 3
TARGET_NOT_BY_END = 1.00  # ... and by the end
TARGET_NOT_FALSE = 0.25  # ... clients who never deteriorate flagged at most
TARGET_RUPTURE_SENS = 0.90  # rupture (measured drop or floor): sensitivity at least
TARGET_RUPTURE_PPV = 0.80  # ... and PPV at least
HANNAN_SESSION_3 = 0.85  # Hannan et al. 2005: deteriorators flagged by session 3
HANNAN_END = 1.00  # ... and by the end of treatment
RED = frozenset({"red", "urgent"})
NEUTRAL_TEXTS = frozenset(t for bank in texts.BETTER_NEUTRAL.values() for t in bank)
MILD_TEXTS = frozenset(t for bank in texts.BETTER_MILD.values() for t in bank)


# --------------------------------------------------------------------------- as-of evaluation


class Raised(NamedTuple):
    """One alert (one key) as first raised in the as-of evaluation."""

    key: str
    kind: str
    at: int  # appointment number of the evaluation in which the key first appeared
    day: date  # that appointment's date
    severity: str  # severity when first raised
    red_at: int | None  # appointment number at which it first was red or urgent
    worst: str  # most severe level reached by the end
    session_number: int | None  # Finding.session_number when first raised
    detail: tuple[str, ...]  # rupture rules, disengagement variant, or instrument


class EpisodeResult(NamedTuple):
    episode_id: int
    raised: list[Raised]
    gap_sessions: tuple[int, ...]  # perspective-gap sessions in the final evaluation
    evaluations: int


def _detail(f: Finding) -> tuple[str, ...]:
    if f.kind == "rupture":  # the markers, then the measures that fell ("m:total", "m:bond")
        rules = f.evidence.get("rules")
        markers = tuple(str(r) for r in rules) if isinstance(rules, list) else ()
        return markers + tuple(f"m:{m}" for m in f.dimensions)
    if f.kind == "disengagement":
        return (str(f.evidence.get("variant")),)
    if f.instrument:
        return (f.instrument,)
    return ()


def evaluate_as_of(
    series: EpisodeSeries, settings: AlertSettings, norms: ClinicNorms
) -> EpisodeResult:
    past = past_sessions(series)
    seen: dict[str, Raised] = {}
    final: list[Finding] = []
    for k in range(1, len(past) + 1):
        at = past[k - 1]
        final = evaluate_episode(as_of(series, past, k), settings, norms)
        for f in final:
            old = seen.get(f.key)
            if old is None:
                red_at = at.number if f.severity in RED else None
                seen[f.key] = Raised(
                    f.key, f.kind, at.number, at.date, f.severity, red_at, f.severity,
                    f.session_number, _detail(f),
                )  # fmt: skip
                continue
            if old.red_at is None and f.severity in RED:
                old = old._replace(red_at=at.number)
            if SEVERITY_RANK[f.severity] > SEVERITY_RANK[old.worst]:
                old = old._replace(worst=f.severity)
            seen[f.key] = old
    gaps: tuple[int, ...] = ()
    for f in final:
        rows = f.evidence.get("gap_sessions") if f.kind == "perspective_gap" else None
        if isinstance(rows, list):
            gaps = tuple(int(r["session"]) for r in rows if isinstance(r, dict))  # type: ignore[arg-type]
    return EpisodeResult(series.episode_id, list(seen.values()), gaps, len(past))


_WORK: tuple[Sequence[EpisodeSeries], AlertSettings, ClinicNorms] | None = None


def _work_chunk(bounds: tuple[int, int]) -> list[EpisodeResult]:
    assert _WORK is not None
    series, settings, norms = _WORK
    return [evaluate_as_of(s, settings, norms) for s in series[bounds[0] : bounds[1]]]


def evaluate_all(
    series: Sequence[EpisodeSeries], settings: AlertSettings, norms: ClinicNorms, jobs: int
) -> list[EpisodeResult]:
    """As-of evaluation of every episode, in ``jobs`` forked worker processes."""
    global _WORK
    _WORK = (series, settings, norms)
    try:
        size = 50
        chunks = [(i, min(i + size, len(series))) for i in range(0, len(series), size)]
        if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [r for c in chunks for r in _work_chunk(c)]
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return [r for part in pool.imap(_work_chunk, chunks) for r in part]
    finally:
        _WORK = None


# --------------------------------------------------------------------------- scoring


@dataclass
class Row:
    """One line of the accuracy table."""

    kind: str
    event: str
    unit: str
    positives: int | None = None
    negatives: int | None = None
    alerts: int = 0
    sens_by_event: float | None = None  # flagged at (or before) the event
    sens_any: float | None = None  # flagged at any time up to the end
    specificity: float | None = None
    ppv: float | None = None
    lead_median: float | None = None
    lead_q1: float | None = None
    lead_q3: float | None = None
    per_therapist_week: float = 0.0
    note: str = ""


@dataclass
class Context:
    """Everything the scoring functions need about the evaluation clinic."""

    clinic: SimClinic
    series: dict[int, EpisodeSeries]
    episodes: dict[int, SimEpisode]
    results: dict[int, EpisodeResult]
    window_start: date
    window_end: date
    therapist_weeks: float
    settings: AlertSettings
    by_kind: dict[str, list[tuple[int, Raised]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[tuple[int, Raised]]] = defaultdict(list)
        for episode_id, result in self.results.items():
            for r in result.raised:
                by_kind[r.kind].append((episode_id, r))
        self.by_kind = dict(by_kind)

    def rate(self, raised: Iterable[Raised]) -> float:
        """Alerts raised within the steady-state window per therapist per week."""
        n = sum(self.window_start <= r.day < self.window_end for r in raised)
        return n / self.therapist_weeks if self.therapist_weeks else 0.0


def _session_row(
    ctx: Context,
    raised: list[tuple[Any, Any]],
    *,
    kind: str,
    event: str,
    unit: str,
    note: str,
    positives: int,
    negatives: int,
    hits: int,
    true_negatives: int,
    matched: int,
    flags: int,
    leads: list[float],
) -> Row:
    """A row for a kind scored session by session: sensitivity in time and at any time coincide, and
    `flags` is the denominator of the PPV (alerts, or flagged sessions where one alert is updated)."""
    med, q1, q3 = _quantiles(leads)
    return Row(
        kind=kind,
        event=event,
        unit=unit,
        positives=positives,
        negatives=negatives,
        alerts=len(raised),
        sens_by_event=_share(hits, positives),
        sens_any=_share(hits, positives),
        specificity=_share(true_negatives, negatives),
        ppv=_share(matched, flags),
        lead_median=med,
        lead_q1=q1,
        lead_q3=q3,
        per_therapist_week=ctx.rate(r for _, r in raised),
        note=note,
    )


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def _quantiles(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return med, q1, q3


# --- session-level kinds


def score_risk(ctx: Context) -> Row:
    positives = negatives = hits = true_negatives = 0
    raised = ctx.by_kind.get("risk", [])
    flagged: dict[int, set[int]] = defaultdict(set)
    for episode_id, r in raised:
        if r.session_number is not None and r.at == r.session_number:
            flagged[episode_id].add(r.session_number)
    matched = 0
    for episode_id, episode in ctx.episodes.items():
        events = set(episode.truth.risk_sessions)
        matched += len(flagged[episode_id] & events)
        for a in episode.appointments:
            if not any(resp.instrument == "phq9" for resp in a.responses):
                continue
            if a.number in events:
                positives += 1
                hits += a.number in flagged[episode_id]
            else:
                negatives += 1
                true_negatives += a.number not in flagged[episode_id]
    return _session_row(
        ctx,
        raised,
        kind="risk",
        event="PHQ-9 item 9 > 0",
        unit="session (PHQ-9 answered)",
        note="by construction (checks the data path; item 9 is the rule)",
        positives=positives,
        negatives=negatives,
        hits=hits,
        true_negatives=true_negatives,
        matched=matched,
        flags=len(raised),
        leads=[0.0] * hits,
    )


def _fallen(r: Raised) -> set[str]:
    """Check-in measures that fell (drop or floor) in a rupture alert."""
    return {d[2:] for d in r.detail if d.startswith("m:")}


def concern_texts(ctx: Context) -> Counter[str]:
    """Concern-only rupture alerts by the simulated comment behind them (ground-truth side:
    the rules never see the text)."""
    kinds: Counter[str] = Counter()
    for episode_id, r in ctx.by_kind.get("rupture", []):
        if _fallen(r) or "concern" not in r.detail:
            continue
        appointment = next(a for a in ctx.episodes[episode_id].appointments if a.number == r.at)
        text = next(
            (x.answers.get("better") for x in appointment.responses if x.instrument == "checkin"),
            None,
        )
        if text in NEUTRAL_TEXTS:
            kinds["neutral"] += 1
        elif text in MILD_TEXTS:
            kinds["mild"] += 1
        else:
            kinds["critical"] += 1
    return kinds


def _rupture_windows(episode: SimEpisode, width: int) -> dict[int, int]:
    """Appointment number -> planted rupture session, for s..s+width."""
    out: dict[int, int] = {}
    for rupture in episode.truth.ruptures:
        for n in range(rupture.session, rupture.session + width + 1):
            out.setdefault(n, rupture.session)
    return out


def _rupture_units(series: EpisodeSeries) -> list[int]:
    """Appointments where a rupture marker can fire: a client check-in, or a no-show."""
    return [
        s.number
        for s in series.sessions
        if s.client_checkin is not None or s.attendance == "no_show"
    ]


def score_rupture(
    ctx: Context, name: str = "rupture", accept: Callable[[Raised], bool] | None = None
) -> Row:
    window = ctx.settings.repair_window_sessions
    raised = [(e, r) for e, r in ctx.by_kind.get("rupture", []) if accept is None or accept(r)]
    flags: dict[int, set[int]] = defaultdict(set)
    for episode_id, r in raised:
        flags[episode_id].add(r.at)
    positives = hits = negatives = true_negatives = matched = 0
    leads: list[float] = []
    for episode_id, episode in ctx.episodes.items():
        mine = flags[episode_id]
        near = _rupture_windows(episode, 1)
        matched += sum(n in near for n in mine)
        for rupture in episode.truth.ruptures:
            positives += 1
            found = [n for n in (rupture.session, rupture.session + 1) if n in mine]
            if found:
                hits += 1
                leads.append(float(rupture.session - found[0]))
        excluded = _rupture_windows(episode, window)
        for n in _rupture_units(ctx.series[episode_id]):
            if n not in excluded:
                negatives += 1
                true_negatives += n not in mine
    return _session_row(
        ctx,
        raised,
        kind=name,
        event="planted rupture",
        unit="session (check-in or no-show)",
        note="hit = alert at the rupture session or the next appointment",
        positives=positives,
        negatives=negatives,
        hits=hits,
        true_negatives=true_negatives,
        matched=matched,
        flags=len(raised),
        leads=leads,
    )


def _therapist_missed(series: EpisodeSeries, session: int) -> bool | None:
    """Did the therapist's own rating miss most of the client's fall at ``session``?

    ``None`` when it cannot be told (either rating missing now or before). Missed = the
    therapist's total fell by less than half as much as the client's, each against their own
    previous rating. This uses changes, not the therapist-minus-client level the gap rule uses.
    """
    prev_c = prev_t = None
    for s in series.sessions:
        if s.number == session:
            c, t = s.client_checkin, s.therapist_checkin
            if c is None or t is None or c.total is None or t.total is None:
                return None
            if prev_c is None or prev_t is None:
                return None
            return (prev_t - t.total) < 0.5 * (prev_c - c.total)
        if s.client_checkin is not None and s.client_checkin.total is not None:
            prev_c = s.client_checkin.total
        if s.therapist_checkin is not None and s.therapist_checkin.total is not None:
            prev_t = s.therapist_checkin.total
    return None


def score_perspective_gap(ctx: Context) -> tuple[Row, dict[str, Any]]:
    window = ctx.settings.repair_window_sessions
    raised = ctx.by_kind.get("perspective_gap", [])
    positives = hits = negatives = true_negatives = matched = gap_total = 0
    noticed = noticed_hits = 0
    leads: list[float] = []
    for episode_id, episode in ctx.episodes.items():
        series = ctx.series[episode_id]
        gaps = set(ctx.results[episode_id].gap_sessions)
        gap_total += len(gaps)
        missed_sessions: list[int] = []
        for rupture in episode.truth.ruptures:
            missed = _therapist_missed(series, rupture.session)
            found = [n for n in (rupture.session, rupture.session + 1) if n in gaps]
            if missed is None:
                continue
            if missed:
                missed_sessions.append(rupture.session)
                positives += 1
                if found:
                    hits += 1
                    leads.append(float(rupture.session - found[0]))
            else:
                noticed += 1
                noticed_hits += bool(found)
        matched += sum(any(n in (s, s + 1) for s in missed_sessions) for n in gaps)
        excluded = _rupture_windows(episode, window)
        for s in series.sessions:
            rated = s.client_checkin is not None and s.therapist_checkin is not None
            if rated and s.number not in excluded:
                negatives += 1
                true_negatives += s.number not in gaps
    extra = {
        "gap_sessions": gap_total,
        "noticed_ruptures": noticed,
        "noticed_ruptures_with_gap": noticed_hits,
        "escalated_to_yellow": sum(r.worst == "yellow" for _, r in raised),
    }
    row = _session_row(
        ctx,
        raised,
        kind="perspective_gap",
        event="rupture the therapist missed",
        unit="session (rated by both)",
        note="flag = a gap session (one alert per episode, updated per gap); PPV per gap session",
        positives=positives,
        negatives=negatives,
        hits=hits,
        true_negatives=true_negatives,
        matched=matched,
        flags=gap_total,
        leads=leads,
    )
    return row, extra


# --- episode-level kinds


@dataclass
class EpisodeOutcome:
    """One episode in an episode-level evaluation."""

    event: bool
    event_session: int | None
    first_flag: int | None  # appointment number of the first alert of the kind(s)
    first_red: int | None


def _first(raised: Iterable[Raised], red: bool = False) -> int | None:
    values = [r.red_at if red else r.at for r in raised]
    present = [v for v in values if v is not None]
    return min(present) if present else None


def episode_outcomes(
    ctx: Context,
    kinds: Sequence[str],
    universe: Callable[[SimEpisode, EpisodeSeries], bool],
    event: Callable[[SimEpisode], tuple[bool, int | None]],
    accept: Callable[[Raised], bool] | None = None,
) -> dict[int, EpisodeOutcome]:
    out: dict[int, EpisodeOutcome] = {}
    for episode_id, episode in ctx.episodes.items():
        if not universe(episode, ctx.series[episode_id]):
            continue
        mine = [
            r
            for r in ctx.results[episode_id].raised
            if r.kind in kinds and (accept is None or accept(r))
        ]
        happened, at = event(episode)
        out[episode_id] = EpisodeOutcome(happened, at, _first(mine), _first(mine, red=True))
    return out


def episode_row(
    ctx: Context,
    name: str,
    event_name: str,
    unit: str,
    outcomes: dict[int, EpisodeOutcome],
    raised: Sequence[Raised],
    note: str = "",
) -> Row:
    events = [o for o in outcomes.values() if o.event]
    others = [o for o in outcomes.values() if not o.event]
    flagged_any = [o for o in events if o.first_flag is not None]
    by_event = [
        o
        for o in flagged_any
        if o.event_session is None or (o.first_flag is not None and o.first_flag <= o.event_session)
    ]
    leads = [
        float(o.event_session - o.first_flag)
        for o in flagged_any
        if o.event_session is not None and o.first_flag is not None
    ]
    flagged = [o for o in outcomes.values() if o.first_flag is not None]
    med, q1, q3 = _quantiles(leads)
    return Row(
        kind=name,
        event=event_name,
        unit=unit,
        positives=len(events),
        negatives=len(others),
        alerts=len(raised),
        sens_by_event=_share(len(by_event), len(events)),
        sens_any=_share(len(flagged_any), len(events)),
        specificity=_share(sum(o.first_flag is None for o in others), len(others)),
        ppv=_share(sum(o.event for o in flagged), len(flagged)),
        lead_median=med,
        lead_q1=q1,
        lead_q3=q3,
        per_therapist_week=ctx.rate(raised),
        note=note,
    )


def _ended_with_scores(episode: SimEpisode, series: EpisodeSeries) -> bool:
    return episode.status == "ended" and sum("phq9" in s.outcome for s in series.sessions) >= 2


def _ended_attended(episode: SimEpisode, series: EpisodeSeries) -> bool:
    return episode.status == "ended" and any(s.attendance == "attended" for s in series.sessions)


def _deteriorated(episode: SimEpisode) -> tuple[bool, int | None]:
    return episode.truth.deteriorated, episode.truth.deterioration_session


def _planted_deteriorator(episode: SimEpisode) -> tuple[bool, int | None]:
    return episode.truth.trajectory == "deteriorator", episode.truth.deterioration_session


def _dropout(episode: SimEpisode) -> tuple[bool, int | None]:
    return episode.truth.dropped_out, episode.truth.dropout_session


def _phq9_totals(episode: SimEpisode) -> list[int]:
    totals = []
    for a in episode.appointments:
        for r in a.responses:
            if r.instrument == "phq9":
                totals.append(sum(int(r.answers[str(i)]) for i in range(1, 10)))
    return totals


def _poor_outcome(episode: SimEpisode) -> tuple[bool, int | None]:
    """Reliable deterioration, or no reliable improvement by the end (PHQ-9 fell by < 6)."""
    totals = _phq9_totals(episode)
    improved = len(totals) >= 2 and totals[-1] <= totals[0] - 6
    if episode.truth.deteriorated:
        return True, episode.truth.deterioration_session
    return not improved, None


def hannan_table(outcomes: dict[int, EpisodeOutcome]) -> dict[str, Any]:
    """Share of deteriorators / non-deteriorators flagged by session 3 and by the end."""
    det = [o for o in outcomes.values() if o.event]
    non = [o for o in outcomes.values() if not o.event]

    def share(group: list[EpisodeOutcome], red: bool, by: int | None) -> float | None:
        hits = 0
        for o in group:
            at = o.first_red if red else o.first_flag
            hits += at is not None and (by is None or at <= by)
        return _share(hits, len(group))

    def before(group: list[EpisodeOutcome], red: bool, strict: bool) -> float | None:
        hits = 0
        for o in group:
            at = o.first_red if red else o.first_flag
            if at is not None and o.event_session is not None:
                hits += at < o.event_session if strict else at <= o.event_session
        return _share(hits, len(group))

    return {
        "deteriorators": len(det),
        "non_deteriorators": len(non),
        "rows": {
            severity: {
                "det_by_3": share(det, red, 3),
                "det_by_end": share(det, red, None),
                "det_at_or_before_event": before(det, red, strict=False),
                "det_before_event": before(det, red, strict=True),
                "non_by_3": share(non, red, 3),
                "non_by_end": share(non, red, None),
            }
            for severity, red in (("any", False), ("red", True))
        },
    }


# --------------------------------------------------------------------------- output


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}"


def _lead(row: Row) -> str:
    if row.lead_median is None:
        return "n/a"
    return f"{row.lead_median:+.0f} [{row.lead_q1:+.0f},{row.lead_q3:+.0f}]"


def print_table(rows: Sequence[Row]) -> None:
    head = (
        f"{'kind':<33} {'scored against':<30} {'unit':<29} {'events':>6} {'non-ev':>7} "
        f"{'alerts':>7} {'sens%':>6} {'sens-any%':>9} {'spec%':>6} {'PPV%':>6} "
        f"{'lead med [IQR]':>15} {'/th/wk':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.kind:<33} {r.event:<30} {r.unit:<29} {r.positives or 0:>6} "
            f"{r.negatives or 0:>7} {r.alerts:>7} {_pct(r.sens_by_event):>6} "
            f"{_pct(r.sens_any):>9} {_pct(r.specificity):>6} {_pct(r.ppv):>6} "
            f"{_lead(r):>15} {r.per_therapist_week:>7.2f}"
        )


DEFINITIONS = """\
Definitions (every alert is taken at the appointment where its key first appeared when the
rules were run on appointments 1..k only):
  sens%      events flagged in time: session-level kinds at the event's appointment or the next;
             episode-level kinds at or before the event's session (lead >= 0)
  sens-any%  events flagged at any time up to the end of the simulation
  spec%      units without the event that were never flagged (session-level: appointments
             outside the event and the repair window after it)
  PPV%       alerts (episode-level: flagged episodes) that belong to an event
  lead       event session - first alert session, in appointments (positive = before the
             event; session-level kinds: 0 = same appointment, -1 = the next)
  /th/wk     alerts raised per therapist per week in the steady-state window
  risk                 unit: appointment with a PHQ-9; event: item 9 > 0 (GroundTruth.risk_sessions)
  rupture              unit: appointment with a client check-in or a no-show; event: a planted
                       rupture (GroundTruth.ruptures); the variants below split the alerts by marker
  perspective_gap      unit: appointment rated by client and therapist; event: a planted rupture
                       the therapist missed (their own total fell by less than half the client's
                       fall, each against their previous rating). The rule fires on the level
                       (therapist total - client total >= gap_min_points), so this is not circular
  early_weak_alliance  unit: ended episode with an attended session; event: dropout; lead before
                       the dropout session (the last attended session)
  disengagement        same unit and event as early_weak_alliance
  not_on_track         unit: ended episode with >= 2 PHQ-9 scores; event: reliable deterioration
                       (GroundTruth.deteriorated: a PHQ-9 >= 6 above the first); lead before the
                       first such session. Either instrument's alert counts
  deterioration        same unit and event; the rule uses the same PHQ-9 +6 definition (plus GAD-7
                       +4), so its sensitivity against this event is circular by design
  ... (planted class)  the same two rules against the latent trajectory class "deteriorator"
                       (lead measured against the observed deterioration session when there is one)
  ... (poor outcome)   not_on_track against reliable deterioration or no reliable improvement by
                       the end (last PHQ-9 not >= 6 below the first): what "not on track" is
                       meant to anticipate (Lambert); lead only for deteriorations
"""


@dataclass
class Workload:
    """Alerts raised, by severity, and how many per therapist-week / per 100 sessions."""

    kind: str
    alerts: int
    at_raise: dict[str, int]
    worst: dict[str, int]
    per_therapist_week: float
    red_per_therapist_week: float
    per_100_sessions: float


def workload(ctx: Context, name: str, raised: Sequence[Raised], attended: int) -> Workload:
    in_window = [r for r in raised if ctx.window_start <= r.day < ctx.window_end]
    return Workload(
        kind=name,
        alerts=len(raised),
        at_raise={s: sum(r.severity == s for r in raised) for s in SEVERITIES},
        worst={s: sum(r.worst == s for r in raised) for s in SEVERITIES},
        per_therapist_week=ctx.rate(raised),
        red_per_therapist_week=ctx.rate(r for r in raised if r.worst in RED),
        per_100_sessions=100 * len(in_window) / attended if attended else 0.0,
    )


def print_workload(rows: Sequence[Workload]) -> None:
    sev = "/".join(s[0] for s in SEVERITIES)
    head = (
        f"{'kind':<33} {'alerts':>7} {'raised as ' + sev:>22} {'worst ' + sev:>22} "
        f"{'/th/wk':>7} {'red+/th/wk':>10} {'/100 sessions':>13}"
    )
    print(head)
    print("-" * len(head))
    for w in rows:
        raised = "/".join(str(w.at_raise[s]) for s in SEVERITIES)
        worst = "/".join(str(w.worst[s]) for s in SEVERITIES)
        print(
            f"{w.kind:<33} {w.alerts:>7} {raised:>22} {worst:>22} {w.per_therapist_week:>7.2f} "
            f"{w.red_per_therapist_week:>10.2f} {w.per_100_sessions:>13.1f}"
        )


CAVEATS: dict[str, str] = {
    "risk": "by construction: the rule is PHQ-9 item 9 > 0 and so is the event; the row checks "
    "the data path (scoring, risk flags, keys), not the rule's clinical value",
    "rupture: no-show only": "cannot be scored against planted ruptures: the simulator plants "
    "ruptures in check-ins only, never at a missed session; read this row as workload",
    "rupture: concern only": "the simulator writes a critical comment at 65% of planted ruptures "
    "and a neutral or mildly critical one at ~12% of other sessions",
    "disengagement: checkins_stopped": "not meaningful against dropouts: simulated clients who "
    "drop out stop attending, and check-ins are skipped at random (~12%), never stopped "
    "before a dropout",
    "disengagement: late_cancel": "the missed appointments after a simulated dropout are mostly "
    "no-shows (75%), which are rupture markers by default; few late cancellations precede one",
    "deterioration": "circular on PHQ-9 (the same +6 rise defines the event); only the GAD-7 +4 "
    "part can add false alarms; lead 0 by construction",
    "not_on_track (planted class)": "the latent class is only part of the observed "
    "deteriorations (noise and unrepaired ruptures make others; counts below the Hannan tables)",
}


def print_caveats(rows: Sequence[Row]) -> None:
    print("Caveats (what the simulated ground truth cannot score meaningfully):")
    for r in rows:
        caveat = CAVEATS.get(r.kind.strip())
        if caveat:
            print(f"  {r.kind.strip()}: {caveat}")


def print_hannan(title: str, table: dict[str, Any]) -> None:
    print(
        f"\n{title}: {table['deteriorators']} deteriorators, "
        f"{table['non_deteriorators']} non-deteriorators"
    )
    head = (
        f"  {'severity':<9} {'by s3':>7} {'by end':>7} {'<=event':>8} {'<event':>7}   "
        f"{'false alarms: by s3':>19} {'by end':>7}"
    )
    print(head)
    for severity, row in table["rows"].items():
        print(
            f"  {severity:<9} {_pct(row['det_by_3']):>7} {_pct(row['det_by_end']):>7} "
            f"{_pct(row['det_at_or_before_event']):>8} {_pct(row['det_before_event']):>7}   "
            f"{_pct(row['non_by_3']):>19} {_pct(row['non_by_end']):>7}"
        )
    print(
        f"  Hannan et al. 2005 (OQ-45, 40 of 550 deteriorated): by session 3 "
        f"{100 * HANNAN_SESSION_3:.0f}%, by the end {100 * HANNAN_END:.0f}%"
    )


# --------------------------------------------------------------------------- summary, trade-off


def summary_values(
    ctx: Context, rows: Sequence[Row], hannan: dict[str, Any], loads: Sequence[Workload]
) -> dict[str, float | None]:
    """The figures issue 12's targets are about."""
    by_name = {r.kind.strip(): r for r in rows}
    load = {w.kind.strip(): w for w in loads}
    either = hannan["either"]["rows"]["any"]
    drop = by_name["rupture: drop/floor, all (red)"]
    return {
        "new_alerts_per_therapist_week": load[
            "all kinds except risk (new alerts)"
        ].per_therapist_week,
        "all_alerts_per_therapist_week": load["all kinds"].per_therapist_week,
        "risk_per_therapist_week": load["risk"].per_therapist_week,
        "not_on_track_by_session_3": either["det_by_3"],
        "not_on_track_by_end": either["det_by_end"],
        "not_on_track_non_deteriorators_flagged": either["non_by_end"],
        "not_on_track_per_therapist_week": load["not_on_track"].per_therapist_week,
        "rupture_measured_sensitivity": drop.sens_by_event,
        "rupture_measured_ppv": drop.ppv,
    }


SUMMARY_LINES: tuple[tuple[str, str, str, float, bool], ...] = (
    # label, key, target text, target, higher is better
    ("new alerts /therapist/week (risk excl.)", "new_alerts_per_therapist_week", "<= 3.0",
     TARGET_NEW_ALERTS, False),
    ("not on track: deteriorators by session 3", "not_on_track_by_session_3", ">= 85%",
     TARGET_NOT_BY_3, True),
    ("not on track: deteriorators by the end", "not_on_track_by_end", ">= 100%",
     TARGET_NOT_BY_END, True),
    ("not on track: non-deteriorators flagged", "not_on_track_non_deteriorators_flagged",
     "<= 25%", TARGET_NOT_FALSE, False),
    ("rupture (drop/floor): sensitivity", "rupture_measured_sensitivity", ">= 90%",
     TARGET_RUPTURE_SENS, True),
    ("rupture (drop/floor): PPV", "rupture_measured_ppv", ">= 80%", TARGET_RUPTURE_PPV, True),
)  # fmt: skip


def _met(value: float | None, target: float, higher: bool) -> bool | None:
    if value is None:
        return None
    return value >= target - 1e-9 if higher else value <= target + 1e-9


def print_summary(summaries: dict[str, dict[str, float | None]]) -> None:
    names = list(summaries)
    print(f"\n{'=' * 100}")
    print("Summary against issue 12's targets (default settings unless --settings says otherwise;")
    print("SIMULATED DATA from both simulators, not clinical validation)")
    head = f"{'target':<42} {'goal':>7}"
    for name in names:
        head += f" {name:>8} {'met?':>5}"
    print(head)
    print("-" * len(head))
    for label, key, text, target, higher in SUMMARY_LINES:
        line = f"{label:<42} {text:>7}"
        for name in names:
            value = summaries[name].get(key)
            shown = (
                "n/a"
                if value is None
                else f"{value:.2f}"
                if key.endswith("_week")
                else f"{100 * value:.1f}%"
            )
            met = _met(value, target, higher)
            line += f" {shown:>8} {'n/a' if met is None else 'yes' if met else 'NO':>5}"
        print(line)
    for name in names:
        v = summaries[name]
        print(
            f"{name}: all alerts {v['all_alerts_per_therapist_week']:.2f} /therapist/week "
            f"(risk {v['risk_per_therapist_week']:.2f}, never suppressed); not on track "
            f"{v['not_on_track_per_therapist_week']:.2f}"
        )


TRADEOFF_PERCENTILES: tuple[tuple[float, float], ...] = (
    (60.0, 70.0),
    (70.0, 75.0),
    (75.0, 80.0),
    (80.0, 85.0),
    (82.0, 87.0),
    (83.0, 88.0),
    (84.0, 89.0),
    (85.0, 90.0),
    (90.0, 95.0),
)


def _recalibrated(
    model: TrajectoryModel, train: Sequence[EpisodeSeries], yellow: float, red: float
) -> TrajectoryModel:
    """``model`` with its own-deviation boundaries taken at other percentiles of the training
    clinic (what ``fit_trajectory`` would give with those settings; the curve is unchanged)."""
    residuals: list[float] = []
    groups: list[int] = []
    for series in sorted((s for s in train if s.completed), key=lambda s: s.episode_id):
        intake = series.intake_score(model.instrument)
        points = series.outcome_after_intake(model.instrument)
        if intake is None or not points:
            continue
        expected = model.expected([s.number for s, _ in points], intake[0])
        residuals += [v - e for (_, v), e in zip(points, expected.tolist(), strict=True)]
        groups += [series.episode_id] * len(points)
    z = group_z(residuals, groups, model.random_intercept_var or 0.0, model.residual_var or 0.0)
    return replace(
        model,
        yellow_percentile=yellow,
        red_percentile=red,
        own_yellow_z=float(np.percentile(z, yellow)),
        own_red_z=float(np.percentile(z, red)),
    )


def _first_not_on_track(
    series: EpisodeSeries, settings: AlertSettings, models: Sequence[TrajectoryModel]
) -> tuple[int | None, date | None]:
    """Appointment (and its date) at which the not-on-track alert first appears as of then."""
    past = past_sessions(series)
    for k in range(1, len(past) + 1):
        if not_on_track_findings(as_of(series, past, k), models, settings):
            return past[k - 1].number, past[k - 1].date
    return None, None


def _by(first: int | None, session: int) -> bool:
    return first is not None and first <= session


def not_on_track_tradeoff(
    ctx: Context,
    series_list: Sequence[EpisodeSeries],
    train: Sequence[EpisodeSeries],
    norms: ClinicNorms,
    settings: AlertSettings,
) -> list[dict[str, Any]]:
    """Not on track with its yellow/red percentiles moved together: deteriorators caught by
    session 3 and by the end against non-deteriorators flagged and alerts per therapist-week."""
    curve: list[dict[str, Any]] = []
    universe = {i: e for i, e in ctx.episodes.items() if _ended_with_scores(e, ctx.series[i])}
    for yellow, red in TRADEOFF_PERCENTILES:
        point = replace(
            settings, not_on_track_yellow_percentile=yellow, not_on_track_red_percentile=red
        )
        models = [
            _recalibrated(norms.trajectory(i, settings), train, yellow, red)
            for i in settings.trajectory_instruments
        ]
        firsts = {s.episode_id: _first_not_on_track(s, point, models) for s in series_list}
        det = [i for i, e in universe.items() if e.truth.deteriorated]
        non = [i for i, e in universe.items() if not e.truth.deteriorated]
        in_window = sum(
            d is not None and ctx.window_start <= d < ctx.window_end for _, d in firsts.values()
        )
        curve.append(
            {
                "yellow_percentile": yellow,
                "red_percentile": red,
                "by_session_3": _share(sum(_by(firsts[i][0], 3) for i in det), len(det)),
                "by_end": _share(sum(firsts[i][0] is not None for i in det), len(det)),
                "non_deteriorators_flagged": _share(
                    sum(firsts[i][0] is not None for i in non), len(non)
                ),
                "per_therapist_week": in_window / ctx.therapist_weeks,
            }
        )
    return curve


def print_tradeoff(curve: Sequence[dict[str, Any]]) -> None:
    print(
        "\nTrade-off: not on track with its percentiles moved together (either instrument; "
        "jump, persistence and red at a reliable deterioration as set)"
    )
    head = (
        f"  {'yellow/red pct':>14} {'det by s3':>10} {'det by end':>11} "
        f"{'non-det flagged':>16} {'NOT /th/wk':>11}"
    )
    print(head)
    for p in curve:
        print(
            f"  {p['yellow_percentile']:>6.0f}/{p['red_percentile']:<7.0f} "
            f"{_pct(p['by_session_3']):>10} {_pct(p['by_end']):>11} "
            f"{_pct(p['non_deteriorators_flagged']):>16} {p['per_therapist_week']:>11.2f}"
        )
    print(
        f"  targets: by s3 >= {100 * TARGET_NOT_BY_3:.0f}%, by end {100 * TARGET_NOT_BY_END:.0f}%, "
        f"non-deteriorators flagged <= {100 * TARGET_NOT_FALSE:.0f}%"
    )


def _settings_lines(settings: AlertSettings) -> list[str]:
    items = [f"{k}={v}" for k, v in settings.as_dict().items()]
    lines, line = [], ""
    for item in items:
        if len(line) + len(item) + 2 > 100:
            lines.append(line)
            line = ""
        line += ("; " if line else "") + item
    return [*lines, line]


def _norms_summary(norms: ClinicNorms) -> dict[str, Any]:
    return {
        "early_alliance_cutoff": round(norms.early_alliance_q25, 3),
        "early_alliance_source": norms.early_alliance_source,
        "early_alliance_episodes": norms.early_alliance_n,
        "trajectories": {
            k: {
                "source": m.source,
                "reason": m.reason,
                "b0": round(m.b0, 3),
                "b1": round(m.b1, 3),
                "b_intake": round(m.b_intake, 3),
                "b_intake_log": round(m.b_intake_log, 3),
                "q_yellow": round(m.q_yellow, 3),
                "q_red": round(m.q_red, 3),
                "max_session": m.max_session,
            }
            for k, m in sorted(norms.trajectories.items())
        },
    }


# --------------------------------------------------------------------------- main


def train_norms(
    simulator: str,
    seed: int,
    clients: int,
    therapists: int,
    months: int,
    settings: AlertSettings,
) -> tuple[ClinicNorms, int, dict[str, float], list[EpisodeSeries]]:
    """Simulate the training clinic and fit the clinic norms on it (the app's nightly step)."""
    t0 = time.perf_counter()
    train = SIMULATORS[simulator](seed, clients, therapists, months, DEFAULT_END)
    t1 = time.perf_counter()
    series = clinic_series(train, first_id=1_000_000)
    t2 = time.perf_counter()
    norms = compute_norms(series, settings)
    t3 = time.perf_counter()
    timings = {
        "train_simulate": round(t1 - t0, 2),
        "train_convert": round(t2 - t1, 2),
        "train_norms": round(t3 - t2, 2),
    }
    return norms, sum(s.completed for s in series), timings, series


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=2500, help="clients (= episodes), default 2500")
    p.add_argument(
        "--therapists",
        type=int,
        default=None,
        help="therapists (default clients/150: about 20 appointments a week each over 24 months)",
    )
    p.add_argument("--months", type=int, default=24, help="simulated months (default 24)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the evaluation clinic")
    p.add_argument("--train-seed", type=int, default=None, help="seed of the training clinic")
    p.add_argument("--train-clients", type=int, default=None, help="default: --clients")
    p.add_argument(
        "--burn-in-months",
        type=int,
        default=6,
        help="months at the start left out of alerts per therapist per week (caseloads fill up)",
    )
    p.add_argument(
        "--norms",
        choices=["train", "default"],
        default="train",
        help="fit the norms on the training clinic (default) or use the documented defaults",
    )
    p.add_argument("--settings", default="{}", help="JSON object of AlertSettings overrides")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument(
        "--simulator",
        choices=["main", "heldout", "both"],
        default="both",
        help="which simulated clinics to score (default both, side by side)",
    )
    p.add_argument(
        "--tradeoff",
        action="store_true",
        help="also print not on track's trade-off curve (its percentiles moved together)",
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return p.parse_args(argv)


def run_simulator(
    simulator: str,
    args: argparse.Namespace,
    settings: AlertSettings,
    therapists: int,
    train_seed: int,
    train_clients: int,
) -> dict[str, Any]:
    """Train, evaluate and print the full report for one simulator; the JSON-able results."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        timings[name] = round(time.perf_counter() - t0, 2)
        return time.perf_counter()

    # The training clinic (simulate, convert, fit the norms) runs in a forked process while
    # this one simulates and converts the evaluation clinic.
    train_args = (simulator, train_seed, train_clients, therapists, args.months, settings)
    fork = "fork" in multiprocessing.get_all_start_methods() and args.jobs > 1

    def evaluation_clinic() -> tuple[SimClinic, list[EpisodeSeries]]:
        t = time.perf_counter()
        clinic = SIMULATORS[simulator](
            args.seed, args.clients, therapists, args.months, DEFAULT_END
        )
        t = lap("simulate", t)
        series_list = clinic_series(clinic)
        lap("convert", t)
        return clinic, series_list

    if fork:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            pending = pool.apply_async(train_norms, train_args)
            clinic, series_list = evaluation_clinic()
            t = time.perf_counter()
            norms, train_ended, train_timings, train_series = pending.get()
            t = lap("wait_for_training", t)
    else:
        clinic, series_list = evaluation_clinic()
        t = time.perf_counter()
        norms, train_ended, train_timings, train_series = train_norms(*train_args)
        t = lap("training", t)
    timings.update(train_timings)
    if args.norms == "default":
        norms = default_norms(settings)  # what a clinic without enough data gets
    results = evaluate_all(series_list, settings, norms, args.jobs)
    t = lap("evaluate_as_of", t)
    evaluations = sum(r.evaluations for r in results)

    window_start = min(
        clinic.start + timedelta(days=round(args.burn_in_months * 30.44)), clinic.end
    )
    weeks = (clinic.end - window_start).days / 7
    ctx = Context(
        clinic=clinic,
        series={s.episode_id: s for s in series_list},
        episodes={s.episode_id: e for s, e in zip(series_list, clinic.episodes, strict=True)},
        results={r.episode_id: r for r in results},
        window_start=window_start,
        window_end=clinic.end,
        therapist_weeks=len(clinic.therapists) * weeks,
        settings=settings,
    )
    in_window = [
        s
        for series in series_list
        for s in past_sessions(series)
        if window_start <= s.date < clinic.end
    ]
    attended_in_window = sum(s.attendance == "attended" for s in in_window)

    # ---------------------------------------------------------------- scoring
    rows: list[Row] = [score_risk(ctx), score_rupture(ctx)]
    marker_variants: list[tuple[str, Callable[[Raised], bool]]] = [
        ("  rupture: drop/floor, all (red)", lambda r: bool(_fallen(r))),
        (
            "  rupture: total or 2+ fell (red)",
            lambda r: len(_fallen(r)) >= 2 or "total" in _fallen(r),
        ),
        (
            "  rupture: one dimension (red)",
            lambda r: len(_fallen(r)) == 1 and "total" not in _fallen(r),
        ),
        ("  rupture: concern only", lambda r: not _fallen(r) and "concern" in r.detail),
        ("  rupture: no-show only", lambda r: r.detail == ("no_show",)),
    ]
    rows += [score_rupture(ctx, name, accept) for name, accept in marker_variants]
    gap_row, gap_extra = score_perspective_gap(ctx)
    rows.append(gap_row)

    dropout_unit = "episode (ended, attended)"
    for kind in ("early_weak_alliance", "disengagement"):
        outcomes = episode_outcomes(ctx, [kind], _ended_attended, _dropout)
        raised = [r for _, r in ctx.by_kind.get(kind, [])]
        rows.append(episode_row(ctx, kind, "dropout", dropout_unit, outcomes, raised))
    for variant in ("late_cancel", "checkins_stopped"):

        def accept(r: Raised, v: str = variant) -> bool:
            return r.detail == (v,)

        outcomes = episode_outcomes(ctx, ["disengagement"], _ended_attended, _dropout, accept)
        raised = [r for _, r in ctx.by_kind.get("disengagement", []) if accept(r)]
        rows.append(
            episode_row(
                ctx, f"  disengagement: {variant}", "dropout", dropout_unit, outcomes, raised
            )
        )

    det_unit = "episode (ended, >=2 PHQ-9)"
    hannan: dict[str, Any] = {}
    for kind in ("not_on_track", "deterioration"):
        raised = [r for _, r in ctx.by_kind.get(kind, [])]
        outcomes = episode_outcomes(ctx, [kind], _ended_with_scores, _deteriorated)
        rows.append(
            episode_row(ctx, kind, "reliable deterioration (PHQ-9)", det_unit, outcomes, raised)
        )
        if kind == "not_on_track":
            hannan["either"] = hannan_table(outcomes)
            phq_only = episode_outcomes(
                ctx, [kind], _ended_with_scores, _deteriorated, lambda r: r.detail == ("phq9",)
            )
            hannan["phq9"] = hannan_table(phq_only)
            planted = episode_outcomes(ctx, [kind], _ended_with_scores, _planted_deteriorator)
            hannan["planted"] = hannan_table(planted)
    for kind in ("not_on_track", "deterioration"):
        raised = [r for _, r in ctx.by_kind.get(kind, [])]
        outcomes = episode_outcomes(ctx, [kind], _ended_with_scores, _planted_deteriorator)
        rows.append(
            episode_row(
                ctx, f"{kind} (planted class)", "planted deteriorator", det_unit, outcomes, raised
            )
        )
    raised = [r for _, r in ctx.by_kind.get("not_on_track", [])]
    poor = episode_outcomes(ctx, ["not_on_track"], _ended_with_scores, _poor_outcome)
    rows.append(
        episode_row(
            ctx,
            "not_on_track (poor outcome)",
            "deterioration or no rel. impr.",
            det_unit,
            poor,
            raised,
        )
    )
    # Of the non-deteriorators flagged by the end, how many ended without reliable improvement?
    flagged_non = [
        i
        for i, o in episode_outcomes(
            ctx, ["not_on_track"], _ended_with_scores, _deteriorated
        ).items()
        if not o.event and o.first_flag is not None
    ]
    unimproved = sum(poor[i].event for i in flagged_non)
    hannan["flagged_non_deteriorators"] = len(flagged_non)
    hannan["flagged_non_deteriorators_unimproved"] = unimproved
    # The ground truth is PHQ-9's; a GAD-7 reliable deterioration also makes not on track red.
    gad7_rise = settings.reliable_deterioration.get("gad7")
    hannan["flagged_non_deteriorators_gad7_deteriorated"] = (
        0
        if gad7_rise is None
        else sum(reliable_rise(ctx.series[i], "gad7", gad7_rise) is not None for i in flagged_non)
    )
    all_raised = [r for res in results for r in res.raised]
    loads = [
        workload(ctx, kind, [r for _, r in ctx.by_kind.get(kind, [])], attended_in_window)
        for kind in KINDS
    ]
    rupture_raised = [r for _, r in ctx.by_kind.get("rupture", [])]
    loads[2:2] = [
        workload(ctx, name, [r for r in rupture_raised if accept(r)], attended_in_window)
        for name, accept in marker_variants
    ]
    disengaged = [r for _, r in ctx.by_kind.get("disengagement", [])]
    loads += [
        workload(
            ctx,
            f"  disengagement: {v}",
            [r for r in disengaged if r.detail == (v,)],
            attended_in_window,
        )
        for v in ("late_cancel", "checkins_stopped", "no_show")
    ]
    loads.append(
        workload(
            ctx,
            "all kinds except risk (new alerts)",
            [r for r in all_raised if r.kind != "risk"],
            attended_in_window,
        )
    )
    loads.append(workload(ctx, "all kinds", all_raised, attended_in_window))
    t = lap("score", t)

    # ---------------------------------------------------------------- output
    ended = sum(e.status == "ended" for e in clinic.episodes)
    print(
        f"\n{'=' * 100}\n{SIMULATOR_TITLES[simulator]}\n{'=' * 100}\n"
        "Alert rules against planted ground truth — SIMULATED DATA, not clinical validation"
    )
    print(
        f"Evaluation clinic: seed {args.seed}, {args.clients} clients = {len(clinic.episodes)} "
        f"episodes ({ended} ended), {len(clinic.therapists)} therapists, {args.months} months "
        f"{clinic.start} .. {clinic.end}"
    )
    print(
        f"Training clinic (norms only): seed {train_seed}, {train_clients} clients, "
        f"{train_ended} ended episodes"
        + (" (not used: --norms default)" if args.norms == "default" else "")
    )
    print(
        f"Steady-state window for rates: {window_start} .. {clinic.end} ({weeks:.1f} weeks); "
        f"{len(in_window) / ctx.therapist_weeks:.1f} appointments "
        f"({attended_in_window / ctx.therapist_weeks:.1f} attended) per therapist per week"
    )
    print(
        "\nNorms: "
        + (
            "fitted on the training clinic"
            if args.norms == "train"
            else "the documented defaults (--norms default), as for a clinic without enough data"
        )
    )
    print(
        f"  early alliance cut-off {norms.early_alliance_q25:.2f} "
        f"({norms.early_alliance_source}, {norms.early_alliance_n} episodes)"
    )
    for instrument, model in sorted(norms.trajectories.items()):
        print(f"  {instrument}: trajectory model from the {model.source} — {model.reason}")
    overrides = settings.overrides()
    print(
        f"\nSettings: {'defaults' if not overrides else 'defaults with ' + json.dumps(overrides)}"
    )
    for line in _settings_lines(settings):
        print(f"  {line}")
    print()
    print_table(rows)
    print()
    print_caveats(rows)
    print()
    print(DEFINITIONS)
    print(
        f"perspective_gap: {gap_extra['gap_sessions']} gap sessions in "
        f"{gap_row.alerts} alerts ({gap_extra['escalated_to_yellow']} yellow); ruptures the "
        f"therapist noticed: {gap_extra['noticed_ruptures']}, of which "
        f"{gap_extra['noticed_ruptures_with_gap']} also showed a gap"
    )
    concern = concern_texts(ctx)
    print(
        f"rupture, concern only: {sum(concern.values())} alerts; the simulated comment was "
        f"neutral ('Nothing, it was helpful', 'All good today') in {concern['neutral']}, "
        f"mildly critical in {concern['mild']}, critical (about a strained dimension) in "
        f"{concern['critical']}"
    )
    ewa = episode_outcomes(ctx, ["early_weak_alliance"], _ended_attended, _dropout)
    flagged = [o for o in ewa.values() if o.first_flag is not None]
    unflagged = [o for o in ewa.values() if o.first_flag is None]
    ewa_rates = (
        _share(sum(o.event for o in flagged), len(flagged)),
        _share(sum(o.event for o in unflagged), len(unflagged)),
    )
    print(
        f"early_weak_alliance: dropout rate {_pct(ewa_rates[0]).strip()}% among flagged "
        f"episodes vs {_pct(ewa_rates[1]).strip()}% among the others"
    )
    print_hannan("not_on_track vs reliable deterioration, either instrument", hannan["either"])
    print_hannan(
        "not_on_track vs reliable deterioration, alerts first raised on PHQ-9", hannan["phq9"]
    )
    print_hannan("not_on_track vs planted deteriorator class, either instrument", hannan["planted"])
    print(
        f"  non-deteriorators flagged not on track by the end: "
        f"{hannan['flagged_non_deteriorators']}, of whom "
        f"{hannan['flagged_non_deteriorators_unimproved']} ended without reliable improvement "
        "(PHQ-9 fell by < 6): for them the flag was arguably right"
    )
    print(
        f"  of those flagged, {hannan['flagged_non_deteriorators_gad7_deteriorated']} reliably "
        "deteriorated on GAD-7 (which makes not on track red by definition; the ground truth "
        "here is PHQ-9's, so they count as false alarms)"
    )
    overlap = Counter(
        (e.truth.deteriorated, e.truth.trajectory == "deteriorator")
        for i, e in ctx.episodes.items()
        if _ended_with_scores(e, ctx.series[i])
    )
    print(
        f"  observed deteriorations: {overlap[True, True] + overlap[True, False]}, of which "
        f"{overlap[True, True]} in the planted class; planted deteriorators without an observed "
        f"+6 rise: {overlap[False, True]}"
    )

    print("\nWorkload (alerts raised; severities info/yellow/red/urgent):")
    print_workload(loads)
    kinds = Counter(r.kind for r in all_raised)
    elapsed = time.perf_counter() - started
    print(
        f"\nRun time {elapsed:.1f} s ({evaluations} as-of evaluations; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        + f"; {args.jobs} worker process{'es' if args.jobs != 1 else ''}) on "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )

    payload = {
        "simulated_data": True,
        "note": "Figures from simulated data calibrated to docs/clinical.md; not clinical validation.",
        "arguments": {
            "clients": args.clients,
            "therapists": len(clinic.therapists),
            "months": args.months,
            "seed": args.seed,
            "train_seed": train_seed,
            "train_clients": train_clients,
            "burn_in_months": args.burn_in_months,
            "norms": args.norms,
            "end": clinic.end.isoformat(),
        },
        "episodes": len(clinic.episodes),
        "ended_episodes": ended,
        "window": {
            "start": window_start.isoformat(),
            "end": clinic.end.isoformat(),
            "weeks": round(weeks, 2),
            "appointments_per_therapist_week": round(len(in_window) / ctx.therapist_weeks, 2),
            "attended_per_therapist_week": round(attended_in_window / ctx.therapist_weeks, 2),
        },
        "settings": settings.as_dict(),
        "norms": _norms_summary(norms),
        "rows": [
            asdict(r) | {"kind": r.kind.strip(), "caveat": CAVEATS.get(r.kind.strip())}
            for r in rows
        ],
        "perspective_gap": gap_extra,
        "rupture_concern_only_by_comment": dict(concern),
        "early_weak_alliance_dropout_rate": {
            "flagged": ewa_rates[0],
            "not_flagged": ewa_rates[1],
        },
        "hannan": hannan,
        "alerts_by_kind": dict(kinds),
        "workload": [asdict(w) | {"kind": w.kind.strip()} for w in loads],
        "timings_seconds": timings,
        "run_seconds": round(elapsed, 2),
        "evaluations": evaluations,
    }
    payload["simulator"] = simulator
    payload["summary"] = summary_values(ctx, rows, hannan, loads)
    if args.tradeoff:
        curve = not_on_track_tradeoff(ctx, series_list, train_series, norms, settings)
        print_tradeoff(curve)
        payload["tradeoff"] = curve
    return payload


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = AlertSettings.from_dict(json.loads(args.settings))
    therapists = args.therapists or max(1, round(args.clients / 150))
    train_seed = args.train_seed if args.train_seed is not None else args.seed + 1
    train_clients = args.train_clients or args.clients
    if train_seed == args.seed:
        print("error: --train-seed must differ from --seed", file=sys.stderr)
        return 2
    chosen = ["main", "heldout"] if args.simulator == "both" else [args.simulator]
    payloads = {
        name: run_simulator(name, args, settings, therapists, train_seed, train_clients)
        for name in chosen
    }
    print_summary({name: p["summary"] for name, p in payloads.items()})
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payloads, fh, indent=2, default=str)
            fh.write("\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
