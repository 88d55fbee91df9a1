"""The area under the ROC curve with DeLong's standard error.

AUC = P(score of a random positive > score of a random negative) + ½ P(tie), the Mann-Whitney U
divided by m·n. DeLong, DeLong & Clarke-Pearson (1988) give its variance from the "structural
components": for each positive, the share of negatives it beats (V10); for each negative, the share
of positives that beat it (V01); var(AUC) = var(V10)/m + var(V01)/n. Both components come from
mid-ranks (Sun & Xu 2014), so the cost is a sort, not m·n comparisons.

The 95% interval is AUC ± 1.96·SE, clipped to [0, 1]: the usual report, and adequate for the sample
sizes at which we show it (psychometrics.MIN_DROPOUTS events in each group).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from .intervals import CONFIDENCE, z_value


@dataclass(frozen=True)
class Auc:
    auc: float
    se: float
    low: float
    high: float
    positives: int
    negatives: int


def delong_auc(
    positives: npt.ArrayLike, negatives: npt.ArrayLike, confidence: float = CONFIDENCE
) -> Auc:
    """AUC of a score where higher should mean "positive"; both groups need two or more members."""
    pos = np.asarray(positives, dtype=float)
    neg = np.asarray(negatives, dtype=float)
    m, n = pos.size, neg.size
    if m < 2 or n < 2:
        raise ValueError("DeLong's variance needs at least two positives and two negatives")
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    # A positive's rank among everyone minus its rank among the positives = how many negatives it
    # beats (ties counting ½); likewise for the negatives.
    v10 = (ranks[:m] - stats.rankdata(pos)) / n
    v01 = 1.0 - (ranks[m:] - stats.rankdata(neg)) / m
    auc = float(v10.mean())
    se = math.sqrt(float(v10.var(ddof=1)) / m + float(v01.var(ddof=1)) / n)
    z = z_value(confidence)
    return Auc(
        auc=auc,
        se=se,
        low=max(0.0, auc - z * se),
        high=min(1.0, auc + z * se),
        positives=m,
        negatives=n,
    )
