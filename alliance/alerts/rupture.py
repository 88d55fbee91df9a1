"""Rule 2 — ruptures in the alliance, and whether they were repaired.

A rupture is a deterioration in the alliance: disagreement on goals, lack of collaboration on
tasks, or a strain in the bond (Eubanks, Muran & Safran 2018). The research has no single
numeric rule, so the markers are configurable (docs/clinical.md#alliance-ruptures-and-repair):

- **drop** — the client's check-in total, or one dimension, falls from the previous check-in by
  at least ``rupture_k`` x the client's own SD of session-to-session change *and* by at least
  ``rupture_min_drop`` points (``rupture_min_drop_dimension`` for a single 0-10 item, which is
  noisier than the mean of four). The SD uses only check-ins *before* the drop, so the drop does
  not inflate its own yardstick and a finding never changes when later sessions arrive. With
  fewer than ``rupture_min_prior_changes`` earlier changes, ``rupture_fallback_sd`` is used; the
  SD is never taken below ``rupture_min_sd``. Adding a constant to every check-in leaves every
  change, hence this rule, unchanged.
- **floor** — the total or a dimension is below ``rupture_floor`` while the previous check-in on
  that measure was not (a first check-in below the floor counts too). Staying below the floor
  does not raise a new alert each session: the open one stays open (and becomes unresolved).
- **concern** — the client wrote something in "What could have been better today?" that is more
  than "nothing to add" (the Django side decides that without passing the text here; see
  ``alliance.care.comments``).
- **no_show** — a missed session without notice is relationship material (docs/clinical.md), so by
  default (``no_show_as = "rupture"``) it is a rupture marker with the same repair tracking.

All markers at one session form one finding, keyed ``rupture:ep<id>:s<n>``. Severity: ``red``
when a drop or floor marker fired (a measured fall), ``yellow`` for a concern or no-show alone.

Repair (docs/clinical.md, default m = 2): within the next ``repair_window_sessions`` sessions that
took place, a client check-in in which every measure that fell is back to at least its
pre-drop level (and, when concerns count as markers, no new concern was written). For a concern
or no-show the target is the previous check-in total; with no previous check-in, any later
check-in without a concern counts. Repaired ruptures go with better outcomes (r = .29, Eubanks
et al. 2018); unrepaired ones predicted worse outcome (McLaughlin 2014).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ._text import EPS, join_words, num, signed
from .findings import JSON, Finding, Severity, make_key
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, Session

RuleName = Literal["drop", "floor", "concern", "no_show"]


@dataclass(frozen=True)
class UsualChange:
    """The client's usual session-to-session variation on one measure."""

    sd: float
    source: Literal["own", "own_minimum", "fallback"]
    n_changes: int


def usual_change(history: Sequence[float], settings: AlertSettings) -> UsualChange:
    """SD of successive differences of ``history`` (sample SD), with the documented guards."""
    changes = [b - a for a, b in itertools.pairwise(history)]
    if len(changes) < settings.rupture_min_prior_changes:
        return UsualChange(settings.rupture_fallback_sd, "fallback", len(changes))
    sd = _sample_sd(changes)
    if sd < settings.rupture_min_sd:
        return UsualChange(settings.rupture_min_sd, "own_minimum", len(changes))
    return UsualChange(sd, "own", len(changes))


def _sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation in plain floats.

    ``statistics.stdev`` computes with exact fractions, which made it most of the cost of a
    whole-clinic recompute; check-in values are tenths on 0-10, where floats are exact enough.
    """
    n = len(values)
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


@dataclass(frozen=True)
class MeasureFall:
    """How one measure (``total`` or a dimension) fell at a session."""

    measure: str
    previous: float | None
    current: float
    rules: tuple[RuleName, ...]
    usual: UsualChange | None
    threshold: float | None

    @property
    def drop(self) -> float | None:
        return None if self.previous is None else self.previous - self.current

    @property
    def target(self) -> float:
        """Level the measure must return to for repair."""
        return self.previous if self.previous is not None else self.current

    def as_json(self) -> dict[str, JSON]:
        return {
            "previous": self.previous,
            "current": self.current,
            "drop": None if self.drop is None else round(self.drop, 3),
            "usual_change_sd": None if self.usual is None else round(self.usual.sd, 3),
            "sd_source": None if self.usual is None else self.usual.source,
            "ratio": (
                None
                if self.usual is None or self.drop is None
                else round(self.drop / self.usual.sd, 3)
            ),
            "threshold": None if self.threshold is None else round(self.threshold, 3),
            "rules": list(self.rules),
        }


def _measures(settings: AlertSettings) -> tuple[str, ...]:
    return ("total", *settings.rupture_dimensions)


def _min_drop(measure: str, settings: AlertSettings) -> float:
    """One item is noisier than the mean of four, so a single dimension must fall further."""
    return settings.rupture_min_drop if measure == "total" else settings.rupture_min_drop_dimension


def _measure_falls(
    history: Mapping[str, list[float]], session: Session, settings: AlertSettings
) -> list[MeasureFall]:
    checkin = session.client_checkin
    assert checkin is not None
    falls: list[MeasureFall] = []
    for measure in _measures(settings):
        current = checkin.value(measure)
        if current is None:
            continue
        past = history.get(measure, [])
        previous = past[-1] if past else None
        rules: list[RuleName] = []
        usual: UsualChange | None = None
        threshold: float | None = None
        below = current < settings.rupture_floor - EPS
        was_below = previous is not None and previous < settings.rupture_floor - EPS
        crosses_floor = below and not was_below
        # The threshold is never below the minimum drop, so the client's usual variation (the costly
        # part) is only needed when the drop could qualify or the measure is reported anyway.
        min_drop = _min_drop(measure, settings)
        if previous is not None and (previous - current >= min_drop - EPS or crosses_floor):
            usual = usual_change(past, settings)
            threshold = max(settings.rupture_k * usual.sd, min_drop)
            drop = previous - current
            if drop > 0 and drop >= threshold - EPS:
                rules.append("drop")
        if crosses_floor:
            rules.append("floor")
        if rules:
            falls.append(MeasureFall(measure, previous, current, tuple(rules), usual, threshold))
    return falls


def rupture_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    """One finding per session with at least one rupture marker."""
    findings: list[Finding] = []
    history: dict[str, list[float]] = {m: [] for m in _measures(settings)}
    for session in series.sessions:
        rules: list[RuleName] = []
        falls: list[MeasureFall] = []
        checkin = session.client_checkin
        if session.attendance == "no_show" and settings.no_show_as == "rupture":
            rules.append("no_show")
        if checkin is not None:
            falls = _measure_falls(history, session, settings)
            for fall in falls:
                rules.extend(r for r in fall.rules if r not in rules)
            if checkin.concern and settings.concern_is_rupture:
                rules.append("concern")
        if rules:
            previous_total = history["total"][-1] if history["total"] else None
            findings.append(_finding(series, session, rules, falls, previous_total, settings))
        if checkin is not None:
            for measure in history:
                value = checkin.value(measure)
                if value is not None:
                    history[measure].append(float(value))
    return findings


def _order(rules: Sequence[RuleName]) -> list[RuleName]:
    canonical: tuple[RuleName, ...] = ("drop", "floor", "concern", "no_show")
    return [r for r in canonical if r in rules]


def _finding(
    series: EpisodeSeries,
    session: Session,
    rules: Sequence[RuleName],
    falls: Sequence[MeasureFall],
    previous_total: float | None,
    settings: AlertSettings,
) -> Finding:
    rules = _order(rules)
    measured = bool(falls)
    severity: Severity = "red" if measured else "yellow"
    targets: dict[str, float] = {f.measure: f.target for f in falls}
    if not targets and previous_total is not None:
        targets["total"] = previous_total
    if measured:
        variant = None
    elif "no_show" in rules and "concern" not in rules:
        variant = "no_show"
    else:
        variant = "concern"

    sentences = _falls_text(falls, settings)
    if "concern" in rules:
        sentences.append(
            "The client wrote something in answer to \u201cWhat could have been better "
            "today?\u201d (read it in the client's record)."
        )
    if "no_show" in rules:
        sentences.append(
            f"Session {session.number} was missed without notice; a missed session is "
            "relationship material, not only an administrative event, so it is treated as a "
            "rupture marker."
        )
    window = settings.repair_window_sessions
    if targets:
        levels = join_words([f"{m} {num(v)}" for m, v in targets.items()])
        sentences.append(
            f"It counts as repaired if the check-in returns to at least its earlier level "
            f"({levels}) within the next {window} session{'s' if window > 1 else ''} that take "
            "place."
        )
    else:
        sentences.append(
            f"It counts as repaired if a check-in without a new concern follows within the "
            f"next {window} session{'s' if window > 1 else ''} that take place."
        )
    fallen = tuple(f.measure for f in falls)
    title = {
        "red": "Possible rupture: the check-in fell",
        "yellow": (
            "Possible rupture: missed session without notice"
            if variant == "no_show"
            else "Possible rupture: the client named a concern"
        ),
    }[severity]
    evidence: dict[str, JSON] = {
        "session": session.number,
        "rules": list(rules),
        "measures": {f.measure: f.as_json() for f in falls},
        "previous_total": previous_total,
        "repair_targets": dict(targets),
        "repair_window_sessions": window,
        "concern": bool(session.client_checkin and session.client_checkin.concern),
    }
    return Finding(
        kind="rupture",
        severity=severity,
        key=make_key("rupture", series.episode_id, f"s{session.number}"),
        session_number=session.number,
        appointment_id=session.appointment_id,
        title=title,
        explanation=" ".join(sentences),
        evidence=evidence,
        suggestion=suggestion_for("rupture", variant).text,
        pre_drop_level=previous_total,
        episode_id=series.episode_id,
        dimensions=fallen,
    )


def _lead_name(measure: str) -> str:
    return "The check-in total" if measure == "total" else f"The {measure} rating"


def _falls_text(falls: Sequence[MeasureFall], settings: AlertSettings) -> list[str]:
    """One full sentence for the main drop, a compact list for the rest, then the floor."""
    sentences: list[str] = []
    drops = [f for f in falls if "drop" in f.rules and f.usual is not None]
    if drops:
        lead = next((f for f in drops if f.measure == "total"), None) or max(
            drops, key=lambda f: (f.drop or 0) / f.usual.sd if f.usual else 0
        )
        sentences.append(_drop_sentence(lead, settings))
        others = [f for f in drops if f is not lead]
        if others:
            sentences.append(
                "Also fell by at least the threshold: "
                + join_words(
                    [
                        f"{f.measure} {num(f.previous or 0)} \u2192 {num(f.current)} "
                        f"({num((f.drop or 0) / f.usual.sd)}\u00d7)"
                        for f in others
                        if f.usual is not None
                    ]
                )
                + "."
            )
    floors = [f for f in falls if "floor" in f.rules]
    if floors:
        sentences.append(
            f"Now below the floor of {num(settings.rupture_floor)}: "
            + join_words(
                [
                    f"{f.measure} {num(f.current)}"
                    + ("" if f.previous is None or f in drops else f" (was {num(f.previous)})")
                    for f in floors
                ]
            )
            + "."
        )
    return sentences


def _drop_sentence(fall: MeasureFall, settings: AlertSettings) -> str:
    assert fall.previous is not None and fall.usual is not None
    drop = fall.previous - fall.current
    ratio = drop / fall.usual.sd
    text = (
        f"{_lead_name(fall.measure)} fell from {num(fall.previous)} to {num(fall.current)} "
        f"({signed(-drop)} points); "
    )
    if fall.usual.source == "fallback":
        text += (
            f"there are too few earlier check-ins to know this client's usual variation "
            f"({fall.usual.n_changes} earlier change{'' if fall.usual.n_changes == 1 else 's'}, "
            f"{settings.rupture_min_prior_changes} needed), so a default of "
            f"\u00b1{num(fall.usual.sd)} was used; the drop is {num(ratio)} times that"
        )
    else:
        minimum = " (the minimum assumed)" if fall.usual.source == "own_minimum" else ""
        text += (
            f"this client's usual session-to-session change is \u00b1{num(fall.usual.sd)}"
            f"{minimum}, so the drop is {num(ratio)} times their usual variation"
        )
    return text + (
        f" (threshold {num(settings.rupture_k)}\u00d7, and at least "
        f"{num(_min_drop(fall.measure, settings))} points)."
    )


RepairState = Literal["pending", "repaired", "unresolved"]


@dataclass(frozen=True)
class RepairOutcome:
    """Whether a rupture was repaired; ``session_number`` is where that was decided."""

    state: RepairState
    session_number: int | None
    sessions_checked: tuple[int, ...]


def repair_outcome(
    series: EpisodeSeries,
    rupture_session: int,
    targets: Mapping[str, float],
    settings: AlertSettings,
) -> RepairOutcome:
    """Repaired / unresolved / still pending, looking at the sessions after the rupture."""
    window = settings.repair_window_sessions
    after = [s for s in series.sessions if s.number > rupture_session and s.took_place][:window]
    for session in after:
        checkin = session.client_checkin
        if checkin is None:
            continue
        if settings.concern_is_rupture and checkin.concern:
            continue
        if all(_at_least(checkin.value(m), level) for m, level in targets.items()):
            return RepairOutcome("repaired", session.number, tuple(s.number for s in after))
    if len(after) >= window:
        return RepairOutcome("unresolved", after[-1].number, tuple(s.number for s in after))
    return RepairOutcome("pending", None, tuple(s.number for s in after))


def _at_least(value: float | None, level: float) -> bool:
    return value is not None and value >= level - EPS


def repair_targets(evidence: Mapping[str, JSON]) -> dict[str, float] | None:
    """Read ``repair_targets`` back from stored or fresh evidence (``None`` if malformed)."""
    raw = evidence.get("repair_targets")
    if not isinstance(raw, dict):
        return None
    out: dict[str, float] = {}
    for measure, level in raw.items():
        if isinstance(level, bool) or not isinstance(level, int | float):
            return None
        out[measure] = float(level)
    return out
