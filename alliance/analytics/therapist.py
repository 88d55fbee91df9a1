"""Therapist variation: empirical-Bayes therapist intercepts from the relationship model, shrunk
toward the clinic mean and always shown with intervals (issue 11, point 4; docs/clinical.md
"Analytics", "Therapists").

What an estimate means: how far a therapist's clients' outcome (PHQ-9) runs above or below the
clinic's, for clients at the same session with the same check-ins. It is net of the check-in, so a
therapist whose clients do better *because* the relationship is better shows that in the
relationship terms of the model, not here.

Decisions:

- **Empirical Bayes (BLUP)**: u_hat_j = gamma_t 1' H_j^-1 (y_j - X_j beta_hat) from the REML fit
  (`alliance.analytics.reml`); a therapist with few clients or sessions keeps a smaller share of
  their raw deviation (`shrinkage` is the share kept, gamma_t s_j/(1 + gamma_t s_j)).
- **Standard errors** are Henderson's prediction-error variances: the conditional variance of the
  therapist effect given the data plus the part due to the uncertainty of the fixed effects. They
  are never smaller than lme4's condVar, which leaves the second part out.
- **Intervals** are estimate ± 1.96 SE.
- **Order**: by therapist id (numeric ids numerically), never by estimate, so no page can turn into
  a league table by accident.
- **Unstable**: fewer than UNSTABLE_BELOW therapists, or a therapist variance under
  NEAR_ZERO_SHARE of the total (or estimated at zero): the result says the estimates are unstable.
  Both thresholds are project defaults, following docs/clinical.md ("with few therapists,
  therapist-level estimates are unstable"), not published cut-offs.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from alliance.analytics.model import Z95, RelationshipModel, describe_shift

UNSTABLE_BELOW = 10  # therapists
NEAR_ZERO_SHARE = 0.01  # therapist variance / total variance


@dataclass(frozen=True)
class TherapistEstimate:
    therapist: str
    clients: int
    sessions: int
    estimate: float  # points of outcome relative to the clinic mean
    se: float
    low: float
    high: float
    shrinkage: float  # the share of the raw deviation the estimate keeps (0..1)


@dataclass(frozen=True)
class TherapistVariation:
    outcome_label: str
    therapists: tuple[TherapistEstimate, ...]  # by therapist id, never by estimate
    n_therapists: int
    therapist_variance: float | None
    therapist_share: float | None  # of the total (therapist + client + residual) variance
    unstable: bool
    sentences: tuple[str, ...]

    @property
    def therapist_sd(self) -> float | None:
        return math.sqrt(self.therapist_variance) if self.therapist_variance is not None else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["therapist_sd"] = self.therapist_sd
        data["therapists"] = [asdict(t) for t in self.therapists]
        data["sentences"] = list(self.sentences)
        return data


@dataclass(frozen=True)
class TherapistView:
    """One therapist's own figures beside the clinic's spread (for their eyes only)."""

    therapist: str
    outcome_label: str
    estimate: TherapistEstimate | None
    clinic_sd: float | None
    clinic_range_low: float | None  # where the middle 95% of therapists' effects lie
    clinic_range_high: float | None
    n_therapists: int
    unstable: bool
    sentences: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sentences"] = list(self.sentences)
        return data


def id_order(therapist: str) -> tuple[int, int, str]:
    """Sort key: numeric ids as numbers ("2" before "10"), then the rest as text."""
    return (0, int(therapist), "") if re.fullmatch(r"\d+", therapist) else (1, 0, therapist)


def _unstable_reasons(n: int, share: float | None, boundary: bool) -> list[str]:
    reasons = []
    if n < UNSTABLE_BELOW:
        reasons.append(f"there are only {n} therapists (fewer than {UNSTABLE_BELOW})")
    if boundary or share is None or share < NEAR_ZERO_SHARE:
        reasons.append(
            "the differences between therapists are near zero, indistinguishable from noise"
        )
    return reasons


def therapist_variation(model: RelationshipModel) -> TherapistVariation:
    """Every therapist's shrunken estimate with its interval, by therapist id."""
    label = model.outcome_label
    fit = model.fit
    if fit is None or not model.fitted:
        return TherapistVariation(
            label,
            (),
            0,
            None,
            None,
            True,
            (
                "Therapist variation needs the relationship model, which could not be fitted"
                + (f": {model.warning}." if model.warning else "."),
            ),
        )
    total = fit.therapist_variance + fit.client_variance + fit.residual_variance
    share = fit.therapist_variance / total if total > 0 else None
    estimates = []
    for code, name in enumerate(model.therapist_labels):
        se = math.sqrt(max(float(fit.therapist_pev[code]), 0.0))
        est = float(fit.therapist_blup[code])
        estimates.append(
            TherapistEstimate(
                therapist=name,
                clients=int(fit.therapist_clients[code]),
                sessions=int(fit.therapist_observations[code]),
                estimate=est,
                se=se,
                low=est - Z95 * se,
                high=est + Z95 * se,
                shrinkage=float(fit.therapist_reliability[code]),
            )
        )
    estimates.sort(key=lambda t: id_order(t.therapist))
    n = len(estimates)
    reasons = _unstable_reasons(n, share, "therapist" in fit.boundary)
    sentences = [
        f"Each estimate is how far a therapist's clients' {label} runs above or below the "
        "clinic's, for clients at the same session with the same check-ins, pulled toward the "
        "clinic mean the more the fewer clients a therapist has. Read the intervals, not the "
        "points: they are listed by therapist, not ranked."
    ]
    if share is not None:
        sd = math.sqrt(fit.therapist_variance)
        sentences.append(
            f"Therapists account for {100 * share:.1f}% of the variation in {label}; two thirds "
            f"of therapists' effects lie within ±{sd:.1f} points of the clinic mean."
        )
    if reasons:
        sentences.append("The estimates are unstable: " + "; and ".join(reasons) + ".")
    return TherapistVariation(
        outcome_label=label,
        therapists=tuple(estimates),
        n_therapists=n,
        therapist_variance=fit.therapist_variance,
        therapist_share=share,
        unstable=bool(reasons),
        sentences=tuple(sentences),
    )


def therapist_view(variation: TherapistVariation, therapist: str) -> TherapistView:
    """One therapist's estimate and interval beside the clinic's spread — never others' figures."""
    label = variation.outcome_label
    mine = next((t for t in variation.therapists if t.therapist == therapist), None)
    sd = variation.therapist_sd
    low = -Z95 * sd if sd is not None else None
    high = Z95 * sd if sd is not None else None
    sentences = []
    if mine is None:
        sentences.append(f"There are no sessions of yours with both a {label} and a check-in yet.")
    else:
        sentences.append(
            f"Compared with the clinic mean, your clients' {label} is "
            f"{describe_shift(mine.estimate, mine.low, mine.high)}, for clients at the same "
            f"session with the same check-ins ({mine.clients} client"
            f"{'s' if mine.clients != 1 else ''}, {mine.sessions} sessions)."
        )
    if sd is not None and low is not None and high is not None:
        sentences.append(
            f"Across the clinic's {variation.n_therapists} therapists, 95% of therapists' effects "
            f"would lie between {low:+.1f} and {high:+.1f} points."
        )
    if variation.unstable:
        sentences.append(
            "The estimates are unstable here (few therapists, or little difference between "
            "them): read the interval, not the point."
        )
    return TherapistView(
        therapist=therapist,
        outcome_label=label,
        estimate=mine,
        clinic_sd=sd,
        clinic_range_low=low,
        clinic_range_high=high,
        n_therapists=variation.n_therapists,
        unstable=variation.unstable,
        sentences=tuple(sentences),
    )
