"""Reliable and clinically significant change (Jacobson & Truax 1991).

SE = s1 * sqrt(1 - r); S_diff = sqrt(2) * SE; RC = (x2 - x1) / S_diff;
reliable when |RC| > 1.96. The literature disputes which standard error to
use (Jacobson & Truax's S_diff, Christensen & Mendoza's, Speer's...), so every
result records ``se_variant``; only the Jacobson-Truax variant is implemented.

Cut-offs for clinical significance, with direction = +1 where higher is better:
a = M_clin + 2 SD_clin dir; b = M_func - 2 SD_func dir;
c = (SD_clin M_func + SD_func M_clin) / (SD_clin + SD_func).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Z_RELIABLE = 1.96
SE_VARIANT_JT = "jacobson-truax-1991: SE = s1*sqrt(1-r), S_diff = sqrt(2)*SE"

Outcome = Literal["reliable improvement", "reliable deterioration", "no reliable change"]


def standard_error(sd: float, reliability: float) -> float:
    if sd <= 0:
        raise ValueError("the standard deviation must be positive")
    if not 0 <= reliability < 1:
        raise ValueError("the reliability must be at least 0 and below 1")
    return sd * math.sqrt(1 - reliability)


def _outcome(change: float, reliable: bool, higher_is_better: bool) -> Outcome:
    if not reliable or change == 0:
        return "no reliable change"
    better = change > 0 if higher_is_better else change < 0
    return "reliable improvement" if better else "reliable deterioration"


@dataclass(frozen=True)
class ReliableChange:
    before: float
    after: float
    change: float
    sd: float
    reliability: float
    se: float
    s_diff: float
    rci: float
    z: float
    smallest_reliable_change: float
    reliable: bool
    outcome: Outcome
    higher_is_better: bool
    se_variant: str = SE_VARIANT_JT
    method: str = "jacobson-truax"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reliable_change(
    before: float,
    after: float,
    sd: float,
    reliability: float,
    *,
    higher_is_better: bool = False,
    z: float = Z_RELIABLE,
) -> ReliableChange:
    se = standard_error(sd, reliability)
    s_diff = math.sqrt(2) * se
    change = after - before
    rci = change / s_diff
    reliable = abs(rci) > z
    return ReliableChange(
        before=before,
        after=after,
        change=change,
        sd=sd,
        reliability=reliability,
        se=se,
        s_diff=s_diff,
        rci=rci,
        z=z,
        smallest_reliable_change=z * s_diff,
        reliable=reliable,
        outcome=_outcome(change, reliable, higher_is_better),
        higher_is_better=higher_is_better,
    )


@dataclass(frozen=True)
class ThresholdChange:
    """Reliable change judged by a published points threshold (e.g. PHQ-9: 6)."""

    before: float
    after: float
    change: float
    threshold: float
    reliable: bool
    outcome: Outcome
    higher_is_better: bool
    source: str = ""
    unverified: bool = False
    method: str = "threshold"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def threshold_change(
    before: float,
    after: float,
    threshold: float,
    *,
    higher_is_better: bool = False,
    source: str = "",
    unverified: bool = False,
) -> ThresholdChange:
    if threshold <= 0:
        raise ValueError("the threshold must be positive")
    change = after - before
    # ">=" because the NHS Talking Therapies rules read "falls by 6 or more".
    reliable = abs(change) >= threshold
    return ThresholdChange(
        before=before,
        after=after,
        change=change,
        threshold=threshold,
        reliable=reliable,
        outcome=_outcome(change, reliable, higher_is_better),
        higher_is_better=higher_is_better,
        source=source,
        unverified=unverified,
    )


@dataclass(frozen=True)
class Cutoffs:
    a: float
    b: float
    c: float
    higher_is_better: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cutoffs(
    m_clin: float,
    sd_clin: float,
    m_func: float,
    sd_func: float,
    *,
    higher_is_better: bool = True,
) -> Cutoffs:
    """Jacobson-Truax cut-offs a (out of the clinical range), b (into the
    functional range) and c (closer to the functional than the clinical mean)."""
    if sd_clin <= 0 or sd_func <= 0:
        raise ValueError("standard deviations must be positive")
    direction = 1.0 if higher_is_better else -1.0
    return Cutoffs(
        a=m_clin + 2 * sd_clin * direction,
        b=m_func - 2 * sd_func * direction,
        c=(sd_clin * m_func + sd_func * m_clin) / (sd_clin + sd_func),
        higher_is_better=higher_is_better,
    )


def crossed_cutoff(before: float, after: float, cutoff: float, *, higher_is_better: bool) -> bool:
    """True when the score moved from the clinical to the functional side of ``cutoff``."""
    if higher_is_better:
        return before < cutoff <= after
    return before >= cutoff > after


def classify(
    change: ReliableChange | ThresholdChange, cutoff: float, *, higher_is_better: bool
) -> str:
    """Jacobson & Truax categories: recovered, improved, unchanged, deteriorated."""
    if change.outcome == "reliable deterioration":
        return "deteriorated"
    if change.outcome == "reliable improvement":
        crossed = crossed_cutoff(
            change.before, change.after, cutoff, higher_is_better=higher_is_better
        )
        return "recovered" if crossed else "improved"
    return "unchanged"
