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
from alliance.analytics.phrases import gettext_noop, say

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


FEW = gettext_noop("there are only %(count)s therapists (fewer than %(needed)s)")
NEAR_ZERO = gettext_noop(
    "the differences between therapists are near zero, indistinguishable from noise"
)
NO_MODEL = gettext_noop(
    "Therapist variation needs the relationship model, which could not be fitted."
)
NO_MODEL_BECAUSE = gettext_noop(
    "Therapist variation needs the relationship model, which could not be fitted: %(reason)s."
)
HOW_TO_READ = gettext_noop(
    "Each estimate is how far a therapist's clients' %(outcome)s runs above or below the clinic's, "
    "for clients at the same session with the same check-ins, pulled toward the clinic mean the "
    "more the fewer clients a therapist has. Read the intervals, not the points: they are listed "
    "by therapist, not ranked."
)
SHARE = gettext_noop(
    "Therapists account for %(share)s%% of the variation in %(outcome)s; two thirds of "
    "therapists' effects lie within ±%(sd)s points of the clinic mean."
)
UNSTABLE = gettext_noop("The estimates are unstable: %(reason)s.")
UNSTABLE_BOTH = gettext_noop("The estimates are unstable: %(first)s; and %(second)s.")
NONE_OF_YOURS = gettext_noop(
    "There are no sessions of yours with both a %(outcome)s and a check-in yet."
)
YOURS_ONE_CLIENT = gettext_noop(
    "Compared with the clinic mean, your clients' %(outcome)s is %(shift)s, for clients at the "
    "same session with the same check-ins (1 client, %(sessions)s sessions)."
)
YOURS = gettext_noop(
    "Compared with the clinic mean, your clients' %(outcome)s is %(shift)s, for clients at the "
    "same session with the same check-ins (%(clients)s clients, %(sessions)s sessions)."
)
CLINIC_RANGE = gettext_noop(
    "Across the clinic's %(count)s therapists, 95%% of therapists' effects would lie between "
    "%(low)s and %(high)s points."
)
UNSTABLE_HERE = gettext_noop(
    "The estimates are unstable here (few therapists, or little difference between them): read "
    "the interval, not the point."
)


def _unstable_reasons(n: int, share: float | None, boundary: bool) -> list[str]:
    reasons = []
    if n < UNSTABLE_BELOW:
        reasons.append(say(FEW, count=n, needed=UNSTABLE_BELOW))
    if boundary or share is None or share < NEAR_ZERO_SHARE:
        reasons.append(NEAR_ZERO)
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
            (say(NO_MODEL_BECAUSE, reason=model.warning) if model.warning else NO_MODEL,),
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
    sentences = [say(HOW_TO_READ, outcome=label)]
    if share is not None:
        sd = math.sqrt(fit.therapist_variance)
        sentences.append(say(SHARE, share=f"{100 * share:.1f}", outcome=label, sd=f"{sd:.1f}"))
    if len(reasons) == 1:
        sentences.append(say(UNSTABLE, reason=reasons[0]))
    elif reasons:
        sentences.append(say(UNSTABLE_BOTH, first=reasons[0], second=reasons[1]))
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
        sentences.append(say(NONE_OF_YOURS, outcome=label))
    else:
        sentences.append(
            say(
                YOURS_ONE_CLIENT if mine.clients == 1 else YOURS,
                outcome=label,
                shift=describe_shift(mine.estimate, mine.low, mine.high),
                clients=mine.clients,
                sessions=mine.sessions,
            )
        )
    if sd is not None and low is not None and high is not None:
        sentences.append(
            say(
                CLINIC_RANGE,
                count=variation.n_therapists,
                low=f"{low:+.1f}",
                high=f"{high:+.1f}",
            )
        )
    if variation.unstable:
        sentences.append(UNSTABLE_HERE)
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
