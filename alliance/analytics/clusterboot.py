"""The cluster bootstrap on sufficient statistics: resample clients, not check-ins.

A client's check-ins are not independent of each other, so an interval that treats 400 check-ins
from 40 clients as 400 independent rows is too narrow. The cluster bootstrap (Field & Welsh 2007)
resamples whole clients with replacement and recomputes the statistic on each resample.

Every statistic we need (covariances, shares, correlations, ICC) is a function of sums over
clients, so each client is summarised once as a row of sufficient statistics (C x m), a resample is
a row of counts (how often each client was drawn), and all resamples' sums are one matrix product
counts @ stats. No check-in is copied, which keeps the bootstrap fast and its memory small even for
a large network; the counts are drawn in chunks so that memory stays bounded.

Decisions: RESAMPLES = 1000 with the fixed SEED (the same data always gives the same interval);
95% percentile intervals; resamples where the statistic is undefined (e.g. an item that does not
vary in that resample) are dropped and counted, and with more than MAX_FAILED_SHARE of them no
interval is given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

RESAMPLES = 1000
SEED = 11  # issue 11; any fixed number would do: it makes the intervals reproducible
CONFIDENCE = 0.95
MAX_FAILED_SHARE = 0.1
_CHUNK_CELLS = 4_000_000  # counts held in memory at once (32 MB of float64)


def resampled_sums(stats: Array, resamples: int = RESAMPLES, seed: int = SEED) -> Array:
    """Column sums of `stats` (C clients x m statistics) over `resamples` cluster resamples.

    Row r is Σ_c w_rc · stats_c, where w_r counts how often client c was drawn when drawing C
    clients with replacement.
    """
    clients, width = stats.shape
    if clients == 0:
        raise ValueError("a bootstrap needs at least one client")
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK_CELLS // clients)
    out = np.empty((resamples, width))
    for start in range(0, resamples, rows):
        size = min(rows, resamples - start)
        drawn = rng.integers(0, clients, size=(size, clients))
        offsets = (np.arange(size) * clients)[:, None]
        counts = np.bincount((drawn + offsets).ravel(), minlength=size * clients)
        out[start : start + size] = counts.reshape(size, clients).astype(float) @ stats
    return out


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (None where the data cannot give one) and how it was made."""

    value: float
    low: float | None
    high: float | None
    method: str
    confidence: float = CONFIDENCE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BootstrapInfo:
    resamples: int
    seed: int
    unit: str  # what was resampled
    failed: int  # resamples where the statistic was undefined

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile_estimate(
    value: float,
    replicates: Array,
    method: str = "cluster bootstrap by client, percentile",
    confidence: float = CONFIDENCE,
) -> Estimate:
    """The point estimate with the percentile interval of its bootstrap replicates.

    The interval is widened to contain the estimate: with a skewed statistic near a bound (alpha
    near 1) the percentile interval can, rarely, sit just beside the full-sample value.
    """
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0 or finite.size < (1 - MAX_FAILED_SHARE) * replicates.size:
        return Estimate(value, None, None, method, confidence)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Estimate(value, min(float(low), value), max(float(high), value), method, confidence)


def failed(replicates: Array) -> int:
    return int(np.count_nonzero(~np.isfinite(replicates)))
