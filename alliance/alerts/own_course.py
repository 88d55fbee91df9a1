"""The client's own deviation from the expected curve, estimated from all their scores so far.

The expected-recovery model (``trajectory.py``) is a mixed model: each client's scores sit
above or below the clinic's curve by a lasting amount of their own (the random intercept,
variance ``tau2``) plus session-to-session noise (variance ``sigma2``). After ``m`` scores with
differences ``r_1..r_m`` from the curve, the best estimate of the client's own deviation (the
random intercept's posterior mean, or BLUP) is the mean difference shrunk towards zero::

    estimate_m = shrink_m · mean(r_1..r_m),   shrink_m = tau2 / (tau2 + sigma2 / m)

One noisy score moves it little; the same difference at several sessions moves it a lot, as in
Lambert's and Finch's expected-recovery methods where the prediction for a client is conditional
on their own earlier scores. Across clients on the clinic's curve the estimate spreads with
SD ``spread_m = tau2 / sqrt(tau2 + sigma2 / m)``, so ``z_m = estimate_m / spread_m`` is compared
with percentiles of the same quantity in the clinic's completed episodes (``trajectory.py``).

Pure numpy; no state. Raising any score raises every later estimate (the weights are positive),
which is what makes "not on track" monotone in the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Level = Literal["on_track", "yellow", "red"]

_RANK: dict[str, int] = {"on_track": 0, "yellow": 1, "red": 2}


@dataclass(frozen=True)
class OwnDeviation:
    """Aligned with the scores given: the estimate after each score, its spread, their ratio."""

    estimate: FloatArray
    spread: FloatArray
    z: FloatArray


def own_deviation(residuals: ArrayLike, tau2: float, sigma2: float) -> OwnDeviation:
    """Running estimate of the client's own deviation after each of ``residuals`` (in order)."""
    r = np.asarray(residuals, dtype=np.float64)
    m = np.arange(1, len(r) + 1, dtype=np.float64)
    if tau2 <= 0 or len(r) == 0:
        zeros = np.zeros_like(r)
        return OwnDeviation(zeros, zeros.copy(), zeros.copy())
    sigma2 = max(sigma2, 0.0)
    scale = np.sqrt(tau2 + sigma2 / m)
    mean = np.cumsum(r) / m
    shrink = tau2 / (tau2 + sigma2 / m)
    return OwnDeviation(shrink * mean, tau2 / scale, mean / scale)


def group_z(residuals: ArrayLike, groups: ArrayLike, tau2: float, sigma2: float) -> FloatArray:
    """``own_deviation(...).z`` for many clients at once: ``groups`` labels each residual with
    its client, and each client's residuals are contiguous and in session order."""
    r = np.asarray(residuals, dtype=np.float64)
    g = np.asarray(groups)
    if len(r) == 0 or tau2 <= 0:
        return np.zeros_like(r)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    lengths = np.diff(np.r_[starts, len(r)])
    position = np.arange(len(r)) - np.repeat(starts, lengths)
    m = position + 1.0
    total = np.cumsum(r)
    before = np.repeat(np.r_[0.0, total][starts], lengths)
    mean = (total - before) / m
    return mean / np.sqrt(tau2 + max(sigma2, 0.0) / m)


def persistent(levels: Sequence[Level], scores_in_a_row: int) -> list[Level]:
    """Levels after persistence: red counts at once; yellow only once the score and the
    ``scores_in_a_row - 1`` before it were all at yellow or worse. Never raises a level."""
    out: list[Level] = []
    run = 0
    for level in levels:
        run = run + 1 if _RANK[level] > 0 else 0
        if level == "red":
            out.append("red")
        elif level == "yellow" and run >= scores_in_a_row:
            out.append("yellow")
        else:
            out.append("on_track")
    return out
