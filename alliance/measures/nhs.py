"""NHS Talking Therapies (formerly IAPT) outcome flags for one episode.

Definitions follow docs/clinical.md#nhs-talking-therapies-definitions. Every number or combination rule is
a named module-level constant; the ones docs/clinical.md marks UNVERIFIED say so
and are listed in docs/measures.md.

Which scores are compared ("first" and "last")
  The first and last *paired dates*: dates on which both a PHQ-9 and a GAD-7
  total were recorded. Pairing keeps caseness (which looks at both measures at
  once) about one moment in time. If a date has more than one score for the
  same measure, the last one given (input order) counts. With fewer than two
  paired dates no change can be judged: the change flags are None and
  ``note`` says why.

Who gets outcome flags
  Only an episode that *finished a course of treatment* (at least
  MIN_ATTENDED_FOR_FINISHED attended treatment appointments) with two paired
  dates is "eligible". Recovery and reliable recovery further need caseness at
  the first paired date. Otherwise the flags are None (not False), so a
  "not measured" is never counted as a "did not recover".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

PHQ9 = "phq9"
GAD7 = "gad7"

PHQ9_CASENESS = 10  # a case at PHQ-9 >= 10
GAD7_CASENESS = 8  # a case at GAD-7 >= 8
MIN_ATTENDED_FOR_FINISHED = 2  # finished a course: >= 2 attended treatment appointments
PHQ9_RELIABLE_IMPROVEMENT = 6  # PHQ-9 falls by >= 6
GAD7_RELIABLE_IMPROVEMENT = 4  # GAD-7 falls by >= 4
# UNVERIFIED (docs/clinical.md): deterioration thresholds assumed to mirror improvement.
PHQ9_RELIABLE_DETERIORATION = 6
GAD7_RELIABLE_DETERIORATION = 4
# UNVERIFIED (docs/clinical.md): reliable improvement also requires that neither
# measure reliably deteriorates.
IMPROVEMENT_REQUIRES_NO_DETERIORATION = True
# UNVERIFIED: docs/clinical.md states deterioration as "PHQ-9 rises >= 6 or GAD-7
# rises >= 4" with no exclusion, so a mixed episode (one measure reliably
# better, the other reliably worse) counts as deteriorated and not improved.
# That errs on the side of showing deterioration.
DETERIORATION_REQUIRES_NO_IMPROVEMENT = False
RECOVERY_TARGET = 0.50  # national target for the recovery rate

UNVERIFIED_RULES = (
    "PHQ9_RELIABLE_DETERIORATION",
    "GAD7_RELIABLE_DETERIORATION",
    "IMPROVEMENT_REQUIRES_NO_DETERIORATION",
    "DETERIORATION_REQUIRES_NO_IMPROVEMENT",
)


@dataclass(frozen=True)
class Measurement:
    when: date
    instrument: str  # "phq9" or "gad7"
    total: float


def is_case(phq9: float, gad7: float) -> bool:
    return phq9 >= PHQ9_CASENESS or gad7 >= GAD7_CASENESS


@dataclass(frozen=True)
class EpisodeOutcome:
    episode: str
    attended: int
    finished_course: bool
    paired_dates: int
    first_date: date | None
    last_date: date | None
    phq9_first: float | None
    phq9_last: float | None
    gad7_first: float | None
    gad7_last: float | None
    case_at_start: bool | None
    case_at_end: bool | None
    eligible: bool
    recovery: bool | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    reliable_recovery: bool | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_date", "last_date"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data


def paired_series(measurements: Iterable[Measurement]) -> list[tuple[date, float, float]]:
    """(date, PHQ-9, GAD-7) for each date that has both, oldest first."""
    by_date: dict[date, dict[str, float]] = {}
    for m in measurements:
        if m.instrument not in (PHQ9, GAD7):
            raise ValueError(f"only {PHQ9} and {GAD7} count here, not {m.instrument!r}")
        by_date.setdefault(m.when, {})[m.instrument] = m.total
    return [
        (day, scores[PHQ9], scores[GAD7])
        for day, scores in sorted(by_date.items())
        if PHQ9 in scores and GAD7 in scores
    ]


def episode_outcome(
    measurements: Sequence[Measurement], attended: int, episode: str = ""
) -> EpisodeOutcome:
    if attended < 0:
        raise ValueError("attended appointments cannot be negative")
    pairs = paired_series(measurements)
    finished = attended >= MIN_ATTENDED_FOR_FINISHED
    first = pairs[0] if pairs else None
    last = pairs[-1] if len(pairs) >= 2 else None
    base: dict[str, Any] = {
        "episode": episode,
        "attended": attended,
        "finished_course": finished,
        "paired_dates": len(pairs),
        "first_date": first[0] if first else None,
        "last_date": last[0] if last else None,
        "phq9_first": first[1] if first else None,
        "phq9_last": last[1] if last else None,
        "gad7_first": first[2] if first else None,
        "gad7_last": last[2] if last else None,
        "case_at_start": is_case(first[1], first[2]) if first else None,
        "case_at_end": is_case(last[1], last[2]) if last else None,
    }
    none: dict[str, Any] = {
        "eligible": False,
        "recovery": None,
        "reliable_improvement": None,
        "reliable_deterioration": None,
        "reliable_recovery": None,
    }
    if not finished:
        return EpisodeOutcome(
            **base,
            **none,
            note=f"not a finished course (attended {attended}, needs {MIN_ATTENDED_FOR_FINISHED})",
        )
    if first is None or last is None:
        return EpisodeOutcome(
            **base,
            **none,
            note=f"{len(pairs)} paired PHQ-9 + GAD-7 date(s); two are needed to judge change",
        )

    d_phq = last[1] - first[1]
    d_gad = last[2] - first[2]
    improved_any = d_phq <= -PHQ9_RELIABLE_IMPROVEMENT or d_gad <= -GAD7_RELIABLE_IMPROVEMENT
    worse_any = d_phq >= PHQ9_RELIABLE_DETERIORATION or d_gad >= GAD7_RELIABLE_DETERIORATION
    improvement = improved_any and not (IMPROVEMENT_REQUIRES_NO_DETERIORATION and worse_any)
    deterioration = worse_any and not (DETERIORATION_REQUIRES_NO_IMPROVEMENT and improved_any)
    case_start = bool(base["case_at_start"])
    recovery = (not base["case_at_end"]) if case_start else None
    return EpisodeOutcome(
        **base,
        eligible=True,
        recovery=recovery,
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        reliable_recovery=(recovery and improvement) if case_start else None,
        note="" if case_start else "not a case at the first paired date: recovery does not apply",
    )


@dataclass(frozen=True)
class OutcomeSummary:
    episodes: int
    finished_course: int
    eligible: int
    case_at_start: int
    recovered: int
    recovery_rate: float | None
    reliable_improvement: int
    reliable_improvement_rate: float | None
    reliable_deterioration: int
    reliable_deterioration_rate: float | None
    reliable_recovery: int
    reliable_recovery_rate: float | None
    recovery_target: float = RECOVERY_TARGET

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["definitions"] = definitions()
        return data


def _rate(count: int, denominator: int) -> float | None:
    return round(count / denominator, 4) if denominator else None


def summarise(outcomes: Iterable[EpisodeOutcome]) -> OutcomeSummary:
    """Rates with the NHS denominators: recovery and reliable recovery over
    eligible episodes that were a case at the start; reliable improvement and
    deterioration over all eligible episodes."""
    items = list(outcomes)
    eligible = [o for o in items if o.eligible]
    cases = [o for o in eligible if o.case_at_start]
    recovered = sum(1 for o in cases if o.recovery)
    improved = sum(1 for o in eligible if o.reliable_improvement)
    deteriorated = sum(1 for o in eligible if o.reliable_deterioration)
    reliably_recovered = sum(1 for o in cases if o.reliable_recovery)
    return OutcomeSummary(
        episodes=len(items),
        finished_course=sum(1 for o in items if o.finished_course),
        eligible=len(eligible),
        case_at_start=len(cases),
        recovered=recovered,
        recovery_rate=_rate(recovered, len(cases)),
        reliable_improvement=improved,
        reliable_improvement_rate=_rate(improved, len(eligible)),
        reliable_deterioration=deteriorated,
        reliable_deterioration_rate=_rate(deteriorated, len(eligible)),
        reliable_recovery=reliably_recovered,
        reliable_recovery_rate=_rate(reliably_recovered, len(cases)),
    )


def definitions() -> dict[str, Any]:
    """The constants in force, for reports to print next to the numbers."""
    return {
        "PHQ9_CASENESS": PHQ9_CASENESS,
        "GAD7_CASENESS": GAD7_CASENESS,
        "MIN_ATTENDED_FOR_FINISHED": MIN_ATTENDED_FOR_FINISHED,
        "PHQ9_RELIABLE_IMPROVEMENT": PHQ9_RELIABLE_IMPROVEMENT,
        "GAD7_RELIABLE_IMPROVEMENT": GAD7_RELIABLE_IMPROVEMENT,
        "PHQ9_RELIABLE_DETERIORATION": PHQ9_RELIABLE_DETERIORATION,
        "GAD7_RELIABLE_DETERIORATION": GAD7_RELIABLE_DETERIORATION,
        "IMPROVEMENT_REQUIRES_NO_DETERIORATION": IMPROVEMENT_REQUIRES_NO_DETERIORATION,
        "DETERIORATION_REQUIRES_NO_IMPROVEMENT": DETERIORATION_REQUIRES_NO_IMPROVEMENT,
        "RECOVERY_TARGET": RECOVERY_TARGET,
        "pairing": "first and last dates with both PHQ-9 and GAD-7",
        "unverified": list(UNVERIFIED_RULES),
    }
