"""Proportions and means with their denominators and 95% intervals.

Every rate the insights pages show goes through `rate()`, so that a rate never travels without its
numerator, its denominator and its uncertainty (issue 11: "every rate shows its denominator and an
interval").

Decisions
  - Proportions use the Wilson score interval (Wilson 1927; recommended over the Wald interval by
    Brown, Cai & DasGupta 2001 because it keeps its coverage for small denominators and for rates near
    0 or 1, which is exactly where a small clinic's rates live). It is written out here rather than
    called from statsmodels so the formula is visible; tests check it against
    `statsmodels.stats.proportion.proportion_confint(method="wilson")`.
  - A denominator of 0 gives `rate`, `low` and `high` of None, never 0: "nobody was measured" must
    not read as "nobody recovered".
  - Means use the t interval (mean ± t(n-1) · sd/√n, sd with n - 1). With fewer than two values there
    is no spread to judge, so the interval is None.
  - Bounds are clamped to [0, 1] and to contain the estimate, which only removes floating-point dust
    (the Wilson interval always contains the observed proportion).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

from scipy import stats

from alliance.analytics.phrases import gettext_noop

CONFIDENCE = 0.95


def z_value(confidence: float = CONFIDENCE) -> float:
    """The two-sided normal quantile, 1.959964... for 95%."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(
    numerator: int, denominator: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval for numerator/denominator.

    centre = (p + z²/2n) / (1 + z²/n); half-width = z / (1 + z²/n) · √(p(1-p)/n + z²/4n²).
    """
    _check_counts(numerator, denominator)
    if denominator == 0:
        raise ValueError("a proportion needs a denominator above 0")
    z = z_value(confidence)
    n = float(denominator)
    p = numerator / n
    z2 = z * z
    scale = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / scale
    half = (z / scale) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = min(max(centre - half, 0.0), p)
    high = max(min(centre + half, 1.0), p)
    return low, high


@dataclass(frozen=True)
class Rate:
    """numerator / denominator with a Wilson interval; all None when the denominator is 0."""

    numerator: int
    denominator: int
    rate: float | None
    low: float | None
    high: float | None
    confidence: float = CONFIDENCE
    method: str = "wilson"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rate(numerator: int, denominator: int, confidence: float = CONFIDENCE) -> Rate:
    _check_counts(numerator, denominator)
    if denominator == 0:
        return Rate(numerator, denominator, None, None, None, confidence)
    low, high = wilson_interval(numerator, denominator, confidence)
    return Rate(numerator, denominator, numerator / denominator, low, high, confidence)


def _check_counts(numerator: int, denominator: int) -> None:
    # bool is an int subclass; a True numerator is a bug upstream, not a count.
    for name, value in (("numerator", numerator), ("denominator", denominator)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int count, not {value!r}")
    if not 0 <= numerator <= denominator:
        raise ValueError(
            f"a proportion needs 0 <= numerator <= denominator (got {numerator}/{denominator})"
        )


@dataclass(frozen=True)
class MeanInterval:
    """A mean with its t interval; `sd` uses n - 1. None where the data cannot say."""

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None
    confidence: float = CONFIDENCE
    method: str = "t"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mean_interval(values: Iterable[float], confidence: float = CONFIDENCE) -> MeanInterval:
    data = [float(v) for v in values]
    if any(not math.isfinite(v) for v in data):
        raise ValueError("a mean needs finite values")
    n = len(data)
    if n == 0:
        return MeanInterval(0, None, None, None, None, confidence)
    mean = math.fsum(data) / n
    if n == 1:
        return MeanInterval(1, mean, None, None, None, confidence)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in data) / (n - 1))
    z_value(confidence)  # validates confidence with the same message as the proportions
    t = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))
    half = t * sd / math.sqrt(n)
    return MeanInterval(n, mean, sd, mean - half, mean + half, confidence)


@dataclass(frozen=True)
class PrePostEffect:
    """Standardised mean change d = mean(first - last) / sd(first), positive when scores fell.

    For PHQ-9 and GAD-7 (higher is worse) a positive d is improvement. The interval is the normal
    approximation with Becker's (1988) large-sample variance of the standardised mean change, written
    with the variance of the differences so that it does not assume equal pre and post spread:

        var(d) ≈ s_diff² / (n · s_first²) + d² / (2n)

    which is 2(1 - r)/n + d²/(2n) when the two standard deviations are equal (r the pre-post
    correlation). No small-sample bias correction is applied (it shrinks d by under 4% once n ≥ 20);
    benchmarks for practice-based evidence (Minami et al. 2008) are quoted for samples far larger.
    """

    n: int
    d: float | None
    low: float | None
    high: float | None
    mean_first: float | None
    mean_last: float | None
    sd_first: float | None
    se: float | None
    confidence: float = CONFIDENCE
    method: str = "standardised mean change (sd of first score), Becker 1988 variance"
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepost_effect(
    pairs: Iterable[tuple[float, float]], confidence: float = CONFIDENCE
) -> PrePostEffect:
    """d from (first, last) score pairs, one pair per client episode."""
    data = [(float(a), float(b)) for a, b in pairs]
    if any(not (math.isfinite(a) and math.isfinite(b)) for a, b in data):
        raise ValueError("scores must be finite")
    n = len(data)
    z = z_value(confidence)
    if n < 2:
        first = data[0][0] if data else None
        last = data[0][1] if data else None
        return PrePostEffect(
            n,
            None,
            None,
            None,
            first,
            last,
            None,
            None,
            confidence,
            note=gettext_noop("needs two or more pairs"),
        )
    firsts = [a for a, _ in data]
    diffs = [a - b for a, b in data]
    mean_first = math.fsum(firsts) / n
    mean_last = math.fsum(b for _, b in data) / n
    mean_diff = math.fsum(diffs) / n
    sd_first = math.sqrt(math.fsum((a - mean_first) ** 2 for a in firsts) / (n - 1))
    if sd_first == 0.0:
        return PrePostEffect(
            n,
            None,
            None,
            None,
            mean_first,
            mean_last,
            0.0,
            None,
            confidence,
            note=gettext_noop("every first score is the same: no spread to standardise by"),
        )
    var_diff = math.fsum((x - mean_diff) ** 2 for x in diffs) / (n - 1)
    d = mean_diff / sd_first
    se = math.sqrt(var_diff / (n * sd_first**2) + d * d / (2.0 * n))
    return PrePostEffect(
        n, d, d - z * se, d + z * se, mean_first, mean_last, sd_first, se, confidence
    )
