"""The check-in tests itself: psychometrics of Alliance's own client check-in from the clinic's data.

The check-in (instrument `checkin`, client respondent; items bond, goals, tasks, overall, each 0-10;
total = their mean) is labelled "not yet validated". This module recomputes, from whatever data
exists, what a validation study would look at first: internal consistency, whether one factor
explains the four answers, session-to-session stability, ceiling effects, and whether the check-in
predicts the next session's outcome and dropout. Definitions and sources: docs/insights.md, "The
check-in tests itself".

Decisions
  - **Which check-ins.** Client check-ins with all four items answered, each a number in 0-10; any
    other is counted as incomplete and left out. A client is the episode's client (several episodes
    of one client are one cluster); a response whose episode is unknown is its own cluster.
  - **Repeated check-ins.** Estimates use *all* complete check-ins (a clinic with few clients still
    has many check-ins), and every interval comes from a cluster bootstrap that resamples whole
    clients (clusterboot.py; 1000 resamples, fixed seed), because one client's check-ins are not
    independent. The alternative — one check-in per client with Feldt's analytic interval — throws
    most of the data away.
  - **Minimum sample.** Below MIN_CLIENTS (30) clients with a complete check-in a section says "not
    enough data" instead of numbers; each section has its own count (clients with two consecutive
    check-ins, with paired outcomes, episodes that ended as planned or by dropout). Below
    ADEQUATE_CLIENTS (100, Terwee et al. 2007's adequate sample for internal consistency and factor
    analysis) the figures are marked preliminary.
  - **Omega** comes from a one-factor maximum-likelihood fit (onefactor.py); its model-implied total
    variance is the denominator.
  - **One factor.** The eigenvalues of the correlation matrix, the share of variance the factor
    explains, the standardised loadings and the ML chi-square and RMSEA. The chi-square counts
    check-ins as independent observations, which overstates the evidence against one factor when
    clients contribute many check-ins; the RMSEA's interval is from the cluster bootstrap. With four
    items the model has two degrees of freedom, where RMSEA is known to be erratic (Kenny, Kaniskan
    & McCoach 2015), so the eigenvalue ratio and the loadings carry as much weight in the words.
  - **Stability.** The correlation between consecutive check-ins of one episode (in submission
    order, whatever the gap), and the ICC(1) of the total across a client's check-ins (one-way
    random effects, ANOVA estimator; Shrout & Fleiss 1979). Both mix measurement error with real
    change in the relationship, so they are lower bounds for test-retest reliability, not equal to it.
  - **Ceiling.** A check-in is at the ceiling on an item when the answer is 10, on the total when all
    four are 10. Flagged above CEILING_THRESHOLD (15%, Terwee et al. 2007). Also the share of
    clients whose every check-in is at the ceiling (a Wilson interval: clients are independent).
  - **Next outcome.** For each check-in linked to session t with an outcome score (PHQ-9 by default)
    at t, the episode's next later session with a score; OLS of next score on check-in total and the
    score at t, with cluster-robust (by client) standard errors. Check-ins without a session number
    are left out here.
  - **Dropout.** Episodes that ended as planned or by dropout (transfers and "other" are neither);
    the early check-in is the mean total of the episode's first EARLY_CHECKINS (3) complete
    check-ins. A logistic regression of dropout on it (odds ratio per point, cluster-robust by
    client) and the AUC with DeLong's interval (auc.py). Shown with at least MIN_DROPOUTS (10)
    episodes in each group (the ten-events-per-variable rule, Peduzzi et al. 1996).
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import statsmodels.api as sm
from scipy import stats as scipy_stats

from alliance.analytics.phrases import gettext_noop, say
from alliance.measures import UnknownInstrument, get_instrument

from . import onefactor
from .auc import delong_auc
from .clusterboot import (
    RESAMPLES,
    SEED,
    BootstrapInfo,
    Estimate,
    failed,
    percentile_estimate,
    resampled_sums,
)
from .intervals import CONFIDENCE, Rate, rate, z_value
from .jsonable import fields_dict
from .records import ClinicData, EpisodeRecord, ResponseRecord

Array = npt.NDArray[np.float64]

INSTRUMENT = "checkin"
ITEMS: tuple[str, ...] = ("bond", "goals", "tasks", "overall")
ITEM_MIN, ITEM_MAX = 0.0, 10.0
OUTCOME_INSTRUMENT = "phq9"

MIN_CLIENTS = 30  # project default: below it, numbers would mislead more than inform
ADEQUATE_CLIENTS = (
    100  # Terwee et al. 2007: adequate sample for internal consistency/factor analysis
)
CEILING_THRESHOLD = 0.15  # Terwee et al. 2007
MIN_DROPOUTS = 10  # per group; Peduzzi et al. 1996, ten events per variable
EARLY_CHECKINS = 3
# Conventions used only to choose the plain words (docs/insights.md names their sources).
ALPHA_ACCEPTABLE, ALPHA_REDUNDANT = 0.70, 0.95  # Terwee et al. 2007
EIGEN_RATIO_ONE_FACTOR = 3.0  # a rule of thumb, not a test (project default)
LOADING_MIN = 0.40  # a common rule of thumb for a salient loading (project default)
RMSEA_CLOSE, RMSEA_ACCEPTABLE = 0.06, 0.08  # Hu & Bentler 1999; Browne & Cudeck 1993

NOT_VALIDATED = gettext_noop("not yet validated")
CAVEATS: tuple[str, ...] = (
    gettext_noop(
        "Alliance's check-in is not yet validated. These figures describe how it behaves in this clinic; "
        "they are not evidence that it measures the therapeutic alliance."
    ),
    gettext_noop(
        "They come from routine care, not a study: who answers, and when, is not random. Clients who "
        "drop out early leave fewer check-ins, and clients who feel unheard may skip the check-in."
    ),
    gettext_noop(
        "Validity against an established alliance measure (e.g. the WAI-SR) cannot be shown from "
        "Alliance's data alone; it needs a study where clients answer both."
    ),
    gettext_noop(
        "High internal consistency from four short items can mean the questions are redundant or that "
        "clients give one overall impression, not that the check-in is precise."
    ),
    gettext_noop(
        "Stability across sessions mixes measurement error with real change in the relationship."
    ),
    gettext_noop(
        "A check-in that predicts the next outcome or dropout is associated with it; that does not show "
        "that the relationship causes the change."
    ),
)
TOO_FEW_COMPLETE = gettext_noop(
    "not enough data: %(clients)s clients with a complete check-in, %(needed)s needed"
)
TOO_FEW_PAIRS = gettext_noop(
    "not enough data: %(clients)s clients with two consecutive check-ins, %(needed)s needed"
)
TOO_FEW_NEXT = gettext_noop(
    "not enough data: %(clients)s clients with a check-in, a %(outcome)s score in the same "
    "session and a later one, %(needed)s needed"
)
TOO_FEW_DROPOUTS = gettext_noop(
    "not enough data: %(dropouts)s dropouts and %(planned)s planned endings with an early "
    "check-in; %(each)s of each and %(needed)s episodes needed"
)
LOGIT_FAILED = gettext_noop("the logistic model could not be fitted (%(problem)s)")
FEW_CLIENTS = gettext_noop(
    "Below %(min)s clients a section says 'not enough data' instead of numbers; below "
    "%(adequate)s clients the figures are preliminary."
)


def caveats(min_clients: int = MIN_CLIENTS) -> tuple[str, ...]:
    """The plain-words caveats shown with the figures."""
    return (
        *CAVEATS,
        say(FEW_CLIENTS, min=min_clients, adequate=ADEQUATE_CLIENTS),
    )


Status = Literal["not_enough_data", "undefined"]


# ---------------------------------------------------------------------------------------------
# Result types


class _Result:
    """Every result below becomes plain JSON the same way."""

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass(frozen=True)
class NotShown(_Result):
    """A section without figures, and why."""

    reason: str
    have: int
    need: int
    status: Status = "not_enough_data"


@dataclass(frozen=True)
class Sample(_Result):
    checkins: int  # complete client check-ins used
    clients: int
    episodes: int
    incomplete: int  # client check-ins left out for a missing or out-of-range item
    preliminary: bool  # fewer than ADEQUATE_CLIENTS clients


@dataclass(frozen=True)
class InternalConsistency(_Result):
    alpha: Estimate
    omega: Estimate
    checkins: int
    clients: int
    item_means: Mapping[str, float]
    item_sds: Mapping[str, float]
    bootstrap: BootstrapInfo
    interpretation: str
    status: str = "ok"


@dataclass(frozen=True)
class OneFactor(_Result):
    items: tuple[str, ...]
    loadings: Mapping[str, float]  # standardised
    uniquenesses: Mapping[str, float]
    eigenvalues: tuple[float, ...]  # of the correlation matrix, largest first
    eigenvalue_ratio: float  # first / second
    explained_variance: float  # by the factor: mean squared standardised loading
    first_component_share: float  # first eigenvalue / number of items
    chi_square: float | None
    df: int
    p_value: float | None
    rmsea: Estimate | None
    heywood: bool  # a unique variance at its floor: an item the model takes as error-free
    checkins: int
    clients: int
    interpretation: str
    status: str = "ok"


@dataclass(frozen=True)
class Stability(_Result):
    consecutive_r: Estimate  # Pearson r between consecutive check-in totals of one episode
    pairs: int
    pair_clients: int
    icc: Estimate  # ICC(1) of the total across a client's check-ins
    checkins: int
    clients: int
    interpretation: str
    status: str = "ok"


@dataclass(frozen=True)
class CeilingShare(_Result):
    measure: str  # an item, or "total"
    at_ceiling: int
    checkins: int
    share: Estimate
    flagged: bool


@dataclass(frozen=True)
class Ceiling(_Result):
    threshold: float
    shares: tuple[CeilingShare, ...]  # bond, goals, tasks, overall, total
    clients_always_at_ceiling: Rate
    clients_flagged: bool
    interpretation: str
    status: str = "ok"


@dataclass(frozen=True)
class NextOutcome(_Result):
    instrument: str
    checkin_coefficient: Estimate  # outcome points per check-in point, given this session's score
    checkin_se: float
    checkin_p_value: float
    outcome_now_coefficient: float
    pairs: int
    clients: int
    interpretation: str
    method: str = "OLS: next ~ check-in + outcome now; cluster-robust SEs by client"
    status: str = "ok"


@dataclass(frozen=True)
class Dropout(_Result):
    early_checkins: int
    dropouts: int
    planned: int
    mean_early_dropout: float
    mean_early_planned: float
    odds_ratio: Estimate | None  # per one point higher early check-in
    model_note: str
    auc: Estimate  # P(a dropout's early check-in is lower than a planned ending's), ties ½
    interpretation: str
    status: str = "ok"


@dataclass(frozen=True)
class Psychometrics:
    instrument: str
    validation_status: str
    sample: Sample
    internal_consistency: InternalConsistency | NotShown
    one_factor: OneFactor | NotShown
    stability: Stability | NotShown
    ceiling: Ceiling | NotShown
    next_outcome: NextOutcome | NotShown
    dropout: Dropout | NotShown
    caveats: tuple[str, ...]
    min_clients: int

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


# ---------------------------------------------------------------------------------------------
# Gathering the check-ins


@dataclass(frozen=True)
class _Checkins:
    """Complete client check-ins in (cluster, episode, submission) order, as arrays."""

    items: Array  # (n, 4)
    cluster: npt.NDArray[np.int64]  # (n,) index into `clusters`
    clusters: tuple[str, ...]
    episode: tuple[str, ...]
    episode_code: npt.NDArray[np.int64]  # (n,) the episode as a number shared with _Outcomes
    session: tuple[int | None, ...]
    incomplete: int

    @property
    def totals(self) -> Array:
        return self.items.mean(axis=1)


def _item_values(response: ResponseRecord) -> tuple[float, ...] | None:
    """The four answers, or None when one is missing, not a number, or outside 0-10."""
    try:
        values = tuple(float(response.items[item]) for item in ITEMS)
    except (KeyError, TypeError, ValueError):
        return None
    # The chained comparison is False for NaN and infinities too.
    if all(ITEM_MIN <= v <= ITEM_MAX for v in values):
        return values
    return None


def _is_client_checkin(response: ResponseRecord) -> bool:
    return response.instrument == INSTRUMENT and response.respondent == "client"


@dataclass(frozen=True)
class _Outcomes:
    """Client outcome scores (one instrument) linked to a session, as parallel lists."""

    episode_code: list[int]  # the same numbering as _Checkins.episode_code
    session: list[int]
    submitted: list[float]  # POSIX seconds, for ordering
    total: list[float]


def _collect(data: ClinicData, outcome_instrument: str) -> tuple[_Checkins, _Outcomes]:
    """One pass over the responses: the complete client check-ins and the outcome scores."""
    client_of = {e.episode: e.client for e in data.episodes}
    cluster_of: dict[str, str] = {}
    code_of: dict[str, int] = {}
    rows: list[tuple[str, str, datetime, int | None, tuple[float, ...]]] = []
    outcomes = _Outcomes([], [], [], [])
    incomplete = 0
    for response in data.responses:
        if response.respondent != "client":
            continue
        if response.instrument == INSTRUMENT:
            values = _item_values(response)
            if values is None:
                incomplete += 1
                continue
            episode = response.episode
            cluster = cluster_of.get(episode)
            if cluster is None:
                client = client_of.get(episode)
                cluster = f"client:{client}" if client is not None else f"episode:{episode}"
                cluster_of[episode] = cluster
            rows.append((cluster, episode, response.submitted_at, response.session_number, values))
        elif (
            response.instrument == outcome_instrument
            and response.session_number is not None
            and response.total is not None
            and math.isfinite(response.total)
        ):
            outcomes.episode_code.append(code_of.setdefault(response.episode, len(code_of)))
            outcomes.session.append(response.session_number)
            outcomes.submitted.append(response.submitted_at.timestamp())
            outcomes.total.append(float(response.total))
    # Submission order within an episode; the session and the answers only break exact ties, so
    # that the order in which records arrive never changes a figure.
    rows.sort(key=lambda r: (r[0], r[1], r[2], -1 if r[3] is None else r[3], r[4]))
    clusters = tuple(dict.fromkeys(r[0] for r in rows))
    index = {c: i for i, c in enumerate(clusters)}
    checkins = _Checkins(
        items=np.array([r[4] for r in rows], dtype=float).reshape(len(rows), len(ITEMS)),
        cluster=np.array([index[r[0]] for r in rows], dtype=np.int64),
        clusters=clusters,
        episode=tuple(r[1] for r in rows),
        episode_code=np.array(
            [code_of.setdefault(r[1], len(code_of)) for r in rows], dtype=np.int64
        ),
        session=tuple(r[3] for r in rows),
        incomplete=incomplete,
    )
    return checkins, outcomes


# ---------------------------------------------------------------------------------------------
# Sufficient statistics per client (one row each), for the point estimates and the bootstrap

_K = len(ITEMS)
_N = 0
_SUM = slice(1, 1 + _K)
_CROSS = slice(_SUM.stop, _SUM.stop + _K * _K)
_CEIL = slice(_CROSS.stop, _CROSS.stop + _K + 1)  # items, then the total
_Q = _CEIL.stop  # (Σ total)² / n_c: the ICC's between-client sum of squares
_NSQ = _Q + 1  # n_c²: the ICC's average cluster size n₀
_PAIR = slice(_NSQ + 1, _NSQ + 7)  # n, Σx, Σy, Σx², Σy², Σxy over consecutive pairs
_WIDTH = _PAIR.stop


def _client_stats(checkins: _Checkins) -> Array:
    items, cluster = checkins.items, checkins.cluster
    clients = len(checkins.clusters)
    stats = np.zeros((clients, _WIDTH))
    stats[:, _N] = np.bincount(cluster, minlength=clients)
    stats[:, _SUM] = _group_sum(items, cluster, clients)
    cross = (items[:, :, None] * items[:, None, :]).reshape(len(items), _K * _K)
    stats[:, _CROSS] = _group_sum(cross, cluster, clients)
    at_ceiling = np.column_stack([items >= ITEM_MAX, (items >= ITEM_MAX).all(axis=1)])
    stats[:, _CEIL] = _group_sum(at_ceiling.astype(float), cluster, clients)
    total_sum = stats[:, _SUM].sum(axis=1) / _K
    stats[:, _Q] = total_sum**2 / stats[:, _N]
    stats[:, _NSQ] = stats[:, _N] ** 2
    x, y, pair_cluster = _consecutive(checkins)
    pair_values = np.column_stack([np.ones_like(x), x, y, x * x, y * y, x * y])
    stats[:, _PAIR] = _group_sum(pair_values, pair_cluster, clients)
    return stats


def _group_sum(values: Array, group: npt.NDArray[np.int64], groups: int) -> Array:
    """Column sums per group (bincount per column: far faster than np.add.at)."""
    out = np.empty((groups, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(group, weights=values[:, j], minlength=groups)
    return out


def _consecutive(checkins: _Checkins) -> tuple[Array, Array, npt.NDArray[np.int64]]:
    """(earlier total, later total, cluster) for each pair of consecutive check-ins of an episode."""
    totals = checkins.totals
    # Check-ins are sorted by episode, so an episode's check-ins are adjacent.
    code = checkins.episode_code
    first = np.flatnonzero(code[:-1] == code[1:])
    return totals[first], totals[first + 1], checkins.cluster[first]


# Statistics of summed rows (b, width) -> (b,)


def _covariance(sums: Array) -> Array:
    n = sums[:, _N][:, None, None]
    s = sums[:, _SUM]
    cross = sums[:, _CROSS].reshape(-1, _K, _K)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov: Array = (cross - s[:, :, None] * s[:, None, :] / n) / (n - 1)
    return cov


def _pair_r(sums: Array) -> Array:
    n, sx, sy, sxx, syy, sxy = (sums[:, _PAIR.start + i] for i in range(6))
    with np.errstate(divide="ignore", invalid="ignore"):
        r: Array = (n * sxy - sx * sy) / np.sqrt((n * sxx - sx**2) * (n * syy - sy**2))
    return r


def _icc1(sums: Array, clients: int) -> Array:
    """ICC(1) of the total: (MSB - MSW) / (MSB + (n₀ - 1)·MSW) with n₀ = (N - Σn_c²/N)/(C - 1).

    A client drawn twice in a resample counts as two clusters, so every resample has `clients`.
    """
    n = sums[:, _N]
    total = sums[:, _SUM].sum(axis=1) / _K
    total_sq = sums[:, _CROSS].sum(axis=1) / _K**2
    q = sums[:, _Q]
    n_sq = sums[:, _NSQ]
    with np.errstate(divide="ignore", invalid="ignore"):
        msb = (q - total**2 / n) / (clients - 1)
        msw = (total_sq - q) / (n - clients)
        n0 = (n - n_sq / n) / (clients - 1)
        icc: Array = (msb - msw) / (msb + (n0 - 1) * msw)
    return icc


@dataclass(frozen=True)
class _FactorStats:
    """Reliability and one-factor statistics for a stack of summed rows."""

    alpha: Array
    omega: Array
    rmsea: Array
    fit: onefactor.OneFactorFit
    corr: Array
    sd: Array
    chi_square: Array


def _factor_stats(sums: Array) -> _FactorStats:
    cov = _covariance(sums)
    corr, sd = onefactor.correlation(cov)
    fit = onefactor.fit_one_factor(corr)
    n = sums[:, _N]
    chi2 = onefactor.chi_square(onefactor.ml_discrepancy(corr, fit), n, _K)
    return _FactorStats(
        alpha=onefactor.cronbach_alpha(cov),
        omega=onefactor.mcdonald_omega(fit, sd),
        rmsea=onefactor.rmsea(chi2, onefactor.degrees_of_freedom(_K), n),
        fit=fit,
        corr=corr,
        sd=sd,
        chi_square=chi2,
    )


# ---------------------------------------------------------------------------------------------
# The report


def checkin_psychometrics(
    data: ClinicData,
    *,
    outcome_instrument: str = OUTCOME_INSTRUMENT,
    min_clients: int = MIN_CLIENTS,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Psychometrics:
    """Everything above from the clinic's records (already filtered to what the reader may see)."""
    if min_clients < 3:
        raise ValueError("min_clients must be at least 3 (an ICC needs clusters to compare)")
    checkins, outcomes = _collect(data, outcome_instrument)
    clients = len(checkins.clusters)
    sample = Sample(
        checkins=len(checkins.items),
        clients=clients,
        episodes=len(set(checkins.episode)),
        incomplete=checkins.incomplete,
        preliminary=clients < ADEQUATE_CLIENTS,
    )
    sections: tuple[Any, ...]
    if clients < min_clients:
        too_few = NotShown(
            say(TOO_FEW_COMPLETE, clients=clients, needed=min_clients),
            clients,
            min_clients,
        )
        sections = (too_few, too_few, too_few, too_few)
    else:
        stats = _client_stats(checkins)
        full = stats.sum(axis=0, keepdims=True)
        replicates = resampled_sums(stats, resamples, seed)
        full_factor, replicate_factor = _factor_stats(full), _factor_stats(replicates)
        sections = (
            _internal_consistency(full, full_factor, replicate_factor, resamples, seed, clients),
            _one_factor(full, full_factor, replicate_factor, clients),
            _stability(stats, full, replicates, clients, min_clients),
            _ceiling(checkins, full, replicates),
        )
    consistency, factor, stability, ceiling = sections
    return Psychometrics(
        instrument=INSTRUMENT,
        validation_status=NOT_VALIDATED,
        sample=sample,
        internal_consistency=consistency,
        one_factor=factor,
        stability=stability,
        ceiling=ceiling,
        next_outcome=_next_outcome(checkins, outcomes, outcome_instrument, min_clients),
        dropout=_dropout(data, checkins, min_clients),
        caveats=caveats(min_clients),
        min_clients=min_clients,
    )


def _constant_item(full_factor: _FactorStats) -> NotShown | None:
    if bool(np.all(full_factor.sd[0] > 0)):
        return None
    return NotShown(
        gettext_noop(
            "undefined: an item has the same answer in every check-in, so the items cannot be "
            "correlated"
        ),
        0,
        0,
        status="undefined",
    )


def _internal_consistency(
    full: Array,
    full_factor: _FactorStats,
    replicate_factor: _FactorStats,
    resamples: int,
    seed: int,
    clients: int,
) -> InternalConsistency | NotShown:
    constant = _constant_item(full_factor)
    if constant is not None:
        return constant
    alpha = percentile_estimate(float(full_factor.alpha[0]), replicate_factor.alpha)
    omega = percentile_estimate(float(full_factor.omega[0]), replicate_factor.omega)
    checkins = int(full[0, _N])
    means = full[0, _SUM] / checkins
    return InternalConsistency(
        alpha=alpha,
        omega=omega,
        checkins=checkins,
        clients=clients,
        item_means={item: float(m) for item, m in zip(ITEMS, means, strict=True)},
        item_sds={item: float(s) for item, s in zip(ITEMS, full_factor.sd[0], strict=True)},
        bootstrap=BootstrapInfo(
            resamples=resamples,
            seed=seed,
            unit="client",
            failed=max(failed(replicate_factor.alpha), failed(replicate_factor.omega)),
        ),
        interpretation=_consistency_words(alpha, omega, checkins, clients),
    )


def _one_factor(
    full: Array, full_factor: _FactorStats, replicate_factor: _FactorStats, clients: int
) -> OneFactor | NotShown:
    constant = _constant_item(full_factor)
    if constant is not None:
        return constant
    eigenvalues = np.sort(np.linalg.eigvalsh(full_factor.corr[0]))[::-1]
    loadings = full_factor.fit.loadings[0]
    uniquenesses = full_factor.fit.uniquenesses[0]
    chi2 = float(full_factor.chi_square[0])
    df = onefactor.degrees_of_freedom(_K)
    finite = math.isfinite(chi2)
    rmsea = (
        percentile_estimate(float(full_factor.rmsea[0]), replicate_factor.rmsea) if finite else None
    )
    ratio = float(eigenvalues[0] / eigenvalues[1]) if eigenvalues[1] > 0 else math.inf
    result = OneFactor(
        items=ITEMS,
        loadings={item: float(v) for item, v in zip(ITEMS, loadings, strict=True)},
        uniquenesses={item: float(v) for item, v in zip(ITEMS, uniquenesses, strict=True)},
        eigenvalues=tuple(float(v) for v in eigenvalues),
        eigenvalue_ratio=ratio,
        explained_variance=float(np.mean(loadings**2)),
        first_component_share=float(eigenvalues[0] / _K),
        chi_square=chi2 if finite else None,
        df=df,
        p_value=float(scipy_stats.chi2.sf(chi2, df)) if finite else None,
        rmsea=rmsea,
        heywood=bool(full_factor.fit.heywood[0]),
        checkins=int(full[0, _N]),
        clients=clients,
        interpretation="",
    )
    return _with_words(result, _factor_words(result))


def _stability(
    stats: Array, full: Array, replicates: Array, clients: int, min_clients: int
) -> Stability | NotShown:
    pair_clients = int(np.count_nonzero(stats[:, _PAIR.start] > 0))
    if pair_clients < min_clients:
        return NotShown(
            say(TOO_FEW_PAIRS, clients=pair_clients, needed=min_clients),
            pair_clients,
            min_clients,
        )
    r_full = float(_pair_r(full)[0])
    icc_full = float(_icc1(full, clients)[0])
    if not (math.isfinite(r_full) and math.isfinite(icc_full)):
        return NotShown(
            gettext_noop("undefined: the check-in total does not vary"),
            pair_clients,
            min_clients,
            "undefined",
        )
    result = Stability(
        consecutive_r=percentile_estimate(r_full, _pair_r(replicates)),
        pairs=int(full[0, _PAIR.start]),
        pair_clients=pair_clients,
        icc=percentile_estimate(icc_full, _icc1(replicates, clients)),
        checkins=int(full[0, _N]),
        clients=clients,
        interpretation="",
    )
    return _with_words(result, _stability_words(result))


def _ceiling(checkins: _Checkins, full: Array, replicates: Array) -> Ceiling:
    n = int(full[0, _N])
    shares = []
    for i, measure in enumerate((*ITEMS, "total")):
        column = _CEIL.start + i
        count = int(full[0, column])
        with np.errstate(divide="ignore", invalid="ignore"):
            replicate_share = replicates[:, column] / replicates[:, _N]
        share = percentile_estimate(count / n, replicate_share)
        shares.append(CeilingShare(measure, count, n, share, count / n > CEILING_THRESHOLD))
    total_at_ceiling = (checkins.items >= ITEM_MAX).all(axis=1)
    clients = len(checkins.clusters)
    not_at_ceiling = np.zeros(clients, dtype=bool)
    np.logical_or.at(not_at_ceiling, checkins.cluster, ~total_at_ceiling)
    always = rate(int(np.count_nonzero(~not_at_ceiling)), clients)
    result = Ceiling(
        threshold=CEILING_THRESHOLD,
        shares=tuple(shares),
        clients_always_at_ceiling=always,
        clients_flagged=(always.rate or 0.0) > CEILING_THRESHOLD,
        interpretation="",
    )
    return _with_words(result, _ceiling_words(result))


# ---------------------------------------------------------------------------------------------
# Predictive validity


def _outcome_scores(
    responses: Iterable[ResponseRecord], instrument: str
) -> dict[str, dict[int, float]]:
    """episode -> session -> the session's latest client score on `instrument`."""
    latest: dict[tuple[str, int], tuple[datetime, float]] = {}
    for r in responses:
        if (
            r.instrument != instrument
            or r.respondent != "client"
            or r.session_number is None
            or r.total is None
            or not math.isfinite(r.total)
        ):
            continue
        key = (r.episode, r.session_number)
        if key not in latest or r.submitted_at >= latest[key][0]:
            latest[key] = (r.submitted_at, float(r.total))
    scores: dict[str, dict[int, float]] = defaultdict(dict)
    for (episode, session), (_, total) in latest.items():
        scores[episode][session] = total
    return scores


def _next_outcome(
    checkins: _Checkins, outcomes: _Outcomes, instrument: str, min_clients: int
) -> NextOutcome | NotShown:
    rows = _next_outcome_rows(checkins, outcomes)
    clients = len(np.unique(rows[:, 3]))
    if clients < min_clients:
        return NotShown(
            say(TOO_FEW_NEXT, clients=clients, outcome=_label(instrument), needed=min_clients),
            clients,
            min_clients,
        )
    table = rows
    design = sm.add_constant(table[:, :2], has_constant="add")
    if np.linalg.matrix_rank(design) < 3:
        return NotShown(
            gettext_noop("undefined: the check-in or the outcome does not vary"),
            clients,
            min_clients,
            "undefined",
        )
    fitted = sm.OLS(table[:, 2], design).fit(
        cov_type="cluster", cov_kwds={"groups": table[:, 3].astype(np.int64)}
    )
    coefficient, se = float(fitted.params[1]), float(fitted.bse[1])
    z = z_value(CONFIDENCE)
    result = NextOutcome(
        instrument=instrument,
        checkin_coefficient=Estimate(
            coefficient, coefficient - z * se, coefficient + z * se, "cluster-robust (client)"
        ),
        checkin_se=se,
        checkin_p_value=float(fitted.pvalues[1]),
        outcome_now_coefficient=float(fitted.params[2]),
        pairs=int(rows.shape[0]),
        clients=clients,
        interpretation="",
    )
    return _with_words(result, _next_outcome_words(result))


def _next_outcome_rows(checkins: _Checkins, outcomes: _Outcomes) -> Array:
    """(check-in at t, score at t, next later score, cluster) per linked check-in, as an array.

    A session's score and check-in are its last submitted ones.
    """
    scores = pd.DataFrame(
        {
            "episode": outcomes.episode_code,
            "session": outcomes.session,
            "submitted": outcomes.submitted,
            "now": outcomes.total,
        }
    )
    scores = scores.sort_values(["episode", "session", "submitted", "now"], kind="stable")
    scores = scores.drop_duplicates(["episode", "session"], keep="last")
    scores["next"] = scores.groupby("episode", sort=False)["now"].shift(-1)
    linked = pd.DataFrame(
        {
            "episode": checkins.episode_code,
            "session": pd.array(checkins.session, dtype="Int64"),
            "checkin": checkins.totals,
            "cluster": checkins.cluster,
        }
    ).dropna(subset=["session"])
    # Check-ins are in submission order within an episode: the last of a session wins.
    linked = linked.drop_duplicates(["episode", "session"], keep="last")
    linked["session"] = linked["session"].astype(np.int64)
    # An inner merge keeps the check-ins' order, which does not depend on the records' order.
    merged = linked.merge(scores.dropna(subset=["next"]), on=["episode", "session"])
    return merged[["checkin", "now", "next", "cluster"]].to_numpy(dtype=float).reshape(-1, 4)


def _dropout(data: ClinicData, checkins: _Checkins, min_clients: int) -> Dropout | NotShown:
    ended = {
        e.episode: e.end_reason for e in data.episodes if e.end_reason in ("dropout", "planned")
    }
    early: dict[str, list[float]] = defaultdict(list)
    cluster_of: dict[str, int] = {}
    for episode, total, cluster in zip(
        checkins.episode, checkins.totals.tolist(), checkins.cluster.tolist(), strict=True
    ):
        if episode in ended and len(early[episode]) < EARLY_CHECKINS:
            early[episode].append(total)
            cluster_of[episode] = cluster
    episodes = sorted(early)
    means = np.array([sum(early[e]) / len(early[e]) for e in episodes], dtype=float)
    dropped = np.array([ended[e] == "dropout" for e in episodes], dtype=bool)
    dropouts, planned = int(dropped.sum()), int((~dropped).sum())
    if min(dropouts, planned) < MIN_DROPOUTS or len(episodes) < min_clients:
        return NotShown(
            say(
                TOO_FEW_DROPOUTS,
                dropouts=dropouts,
                planned=planned,
                each=MIN_DROPOUTS,
                needed=min_clients,
            ),
            min(dropouts, planned),
            MIN_DROPOUTS,
        )
    # Lower early check-in, higher risk: the AUC of the negated score.
    auc = delong_auc(-means[dropped], -means[~dropped])
    odds_ratio, note = _dropout_odds_ratio(
        means, dropped, np.array([cluster_of[e] for e in episodes])
    )
    result = Dropout(
        early_checkins=EARLY_CHECKINS,
        dropouts=dropouts,
        planned=planned,
        mean_early_dropout=float(means[dropped].mean()),
        mean_early_planned=float(means[~dropped].mean()),
        odds_ratio=odds_ratio,
        model_note=note,
        auc=Estimate(auc.auc, auc.low, auc.high, "DeLong"),
        interpretation="",
    )
    return _with_words(result, _dropout_words(result))


def _dropout_odds_ratio(
    means: Array, dropped: npt.NDArray[np.bool_], clusters: npt.NDArray[np.int64]
) -> tuple[Estimate | None, str]:
    """Odds ratio of dropout per point of early check-in, or None and why."""
    if float(np.ptp(means)) == 0.0:
        return None, gettext_noop("every episode had the same early check-in")
    design = sm.add_constant(means, has_constant="add")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitted = sm.Logit(dropped.astype(float), design).fit(
                disp=0, cov_type="cluster", cov_kwds={"groups": clusters}
            )
        except (np.linalg.LinAlgError, ValueError) as problem:
            return None, say(LOGIT_FAILED, problem=problem)
    trouble = [w for w in caught if "separation" in str(w.message).lower()]
    if trouble or not fitted.mle_retvals.get("converged", False):
        return None, gettext_noop(
            "the logistic model did not converge (the early check-in separates dropouts from "
            "planned endings almost perfectly); the AUC still applies"
        )
    b, se = float(fitted.params[1]), float(fitted.bse[1])
    z = z_value(CONFIDENCE)
    return (
        Estimate(math.exp(b), math.exp(b - z * se), math.exp(b + z * se), "logit, cluster-robust"),
        "",
    )


# ---------------------------------------------------------------------------------------------
# Plain words


def _with_words(result: Any, words: str) -> Any:
    return replace(result, interpretation=words)


NO_INTERVAL = gettext_noop("%(value)s (no interval)")
WITH_INTERVAL = gettext_noop("%(value)s (95%% interval %(low)s to %(high)s)")
BELOW = gettext_noop(
    "Below %(acceptable)s: the four answers agree less than the items of one scale usually do; the "
    "check-in may be capturing different things."
)
BETWEEN = gettext_noop(
    "Between %(acceptable)s and %(redundant)s, the range usually called adequate for a scale."
)
ABOVE = gettext_noop(
    "Above %(redundant)s: the four answers nearly repeat each other; clients may be giving one "
    "overall impression rather than four separate ratings."
)
CONSISTENCY = gettext_noop(
    "Cronbach's alpha %(alpha)s, McDonald's omega %(omega)s, from %(checkins)s check-ins of "
    "%(clients)s clients."
)
ONE_SCALE = gettext_noop(
    "The four answers behave like one scale: the first eigenvalue is %(ratio)s times the second (a "
    "ratio of %(rule)s or more is the usual rule of thumb), one factor explains %(explained)s%% of "
    "the variance, and the weakest loading is %(weakest)s."
)
NOT_ONE_SCALE = gettext_noop(
    "The four answers do not clearly behave like one scale: the first eigenvalue is %(ratio)s "
    "times the second (a ratio of %(rule)s or more is the usual rule of thumb), one factor explains "
    "%(explained)s%% of the variance, and the weakest loading is %(weakest)s."
)
CLOSE_FIT = gettext_noop("close fit")
ACCEPTABLE_FIT = gettext_noop("acceptable fit")
POOR_FIT = gettext_noop("poor fit")
RMSEA = gettext_noop(
    "RMSEA %(rmsea)s would usually be read as %(fit)s, but with %(df)s degrees of freedom it is "
    "unstable; trust the loadings more."
)
HEYWOOD = gettext_noop(
    "One item's unique variance reached its lower bound (a Heywood case): the model treats it as "
    "almost error-free, which usually means it nearly duplicates the others."
)
STABILITY = gettext_noop(
    "Consecutive check-ins of one episode correlate %(r)s, over %(pairs)s pairs from "
    "%(pair_clients)s clients. The ICC %(icc)s is the share of the total's variance that lies "
    "between clients rather than between one client's sessions (%(checkins)s check-ins, "
    "%(clients)s clients). The relationship really changes from session to session, so both are "
    "lower bounds for the check-in's test-retest reliability."
)
NONE = gettext_noop("none")
AT_TEN = gettext_noop(
    "%(share)s%% of check-ins have every answer at 10; %(always)s of clients (%(numerator)s of "
    "%(denominator)s) answered 10 throughout."
)
ALWAYS_AT_TEN = gettext_noop("clients always at 10")
CEILING = gettext_noop(
    "Ceiling effect (%(names)s): more than %(threshold)s%% at the maximum, the usual threshold. For "
    "these answers the check-in cannot show improvement, and it can miss a strain that has not yet "
    "pulled the score below 10."
)
NO_CEILING = gettext_noop("No measure is at the maximum in more than %(threshold)s%%.")
LOWER, HIGHER = gettext_noop("lower"), gettext_noop("higher")
NEXT_OUTCOME = gettext_noop(
    "Given the same %(outcome)s score this session, each check-in point higher went with a next "
    "%(outcome)s score %(points)s points %(direction)s (95%% interval %(low)s to %(high)s; "
    "%(pairs)s session pairs, %(clients)s clients)."
)
INCLUDES_ZERO = gettext_noop("The interval includes zero: this data does not show a prediction.")
AS_EXPECTED = gettext_noop(
    "A better check-in predicts a better next score, the direction the research on the alliance "
    "leads one to expect. This is an association, not proof of cause."
)
AGAINST = gettext_noop(
    "A better check-in predicts a worse next score, against the research; look for a data problem "
    "before reading anything into it."
)
EARLY_MEANS = gettext_noop(
    "Mean early check-in (first %(first)s): %(dropout_mean)s for the %(dropouts)s episodes that "
    "ended in dropout, %(planned_mean)s for the %(planned)s that ended as planned."
)
AUC = gettext_noop(
    "AUC %(auc)s: the chance that a client who dropped out had a lower early check-in than one who "
    "finished as planned (0.5 is a coin toss)."
)
ODDS = gettext_noop("The odds of dropout change by a factor of %(odds)s per check-in point.")
AUC_INCLUDES_HALF = gettext_noop(
    "The AUC's interval includes 0.5: this data does not show that the early check-in predicts "
    "dropout."
)


def _fmt(estimate: Estimate, digits: int = 2) -> str:
    if estimate.low is None or estimate.high is None:
        return say(NO_INTERVAL, value=f"{estimate.value:.{digits}f}")
    return say(
        WITH_INTERVAL,
        value=f"{estimate.value:.{digits}f}",
        low=f"{estimate.low:.{digits}f}",
        high=f"{estimate.high:.{digits}f}",
    )


def _consistency_words(alpha: Estimate, omega: Estimate, checkins: int, clients: int) -> str:
    limits = {"acceptable": f"{ALPHA_ACCEPTABLE:.2f}", "redundant": f"{ALPHA_REDUNDANT:.2f}"}
    if alpha.value < ALPHA_ACCEPTABLE:
        verdict = say(BELOW, **limits)
    elif alpha.value <= ALPHA_REDUNDANT:
        verdict = say(BETWEEN, **limits)
    else:
        verdict = say(ABOVE, **limits)
    counts = say(
        CONSISTENCY, alpha=_fmt(alpha), omega=_fmt(omega), checkins=checkins, clients=clients
    )
    return f"{counts} {verdict}"


def _factor_words(result: OneFactor) -> str:
    weakest = min(result.loadings.values())
    one_scale = result.eigenvalue_ratio >= EIGEN_RATIO_ONE_FACTOR and weakest >= LOADING_MIN
    words = [
        say(
            ONE_SCALE if one_scale else NOT_ONE_SCALE,
            ratio=f"{result.eigenvalue_ratio:.1f}",
            rule=f"{EIGEN_RATIO_ONE_FACTOR:.0f}",
            explained=f"{100 * result.explained_variance:.0f}",
            weakest=f"{weakest:.2f}",
        )
    ]
    if result.rmsea is not None:
        if result.rmsea.value <= RMSEA_CLOSE:
            fit = CLOSE_FIT
        elif result.rmsea.value <= RMSEA_ACCEPTABLE:
            fit = ACCEPTABLE_FIT
        else:
            fit = POOR_FIT
        words.append(say(RMSEA, rmsea=_fmt(result.rmsea, 3), fit=fit, df=result.df))
    if result.heywood:
        words.append(HEYWOOD)
    return " ".join(words)


def _stability_words(result: Stability) -> str:
    return say(
        STABILITY,
        r=_fmt(result.consecutive_r),
        pairs=result.pairs,
        pair_clients=result.pair_clients,
        icc=_fmt(result.icc),
        checkins=result.checkins,
        clients=result.clients,
    )


def _ceiling_words(result: Ceiling) -> str:
    flagged = [s for s in result.shares if s.flagged]
    total = next(s for s in result.shares if s.measure == "total")
    always = result.clients_always_at_ceiling
    always_share = f"{100 * always.rate:.1f}%" if always.rate is not None else NONE
    words = [
        say(
            AT_TEN,
            share=f"{100 * total.share.value:.1f}",
            always=always_share,
            numerator=always.numerator,
            denominator=always.denominator,
        )
    ]
    if flagged or result.clients_flagged:
        names = ", ".join(s.measure for s in flagged) or ALWAYS_AT_TEN
        words.append(say(CEILING, names=names, threshold=f"{100 * result.threshold:.0f}"))
    else:
        words.append(say(NO_CEILING, threshold=f"{100 * result.threshold:.0f}"))
    return " ".join(words)


_LABELS = {"phq9": "PHQ-9", "gad7": "GAD-7"}


def _label(instrument: str) -> str:
    return _LABELS.get(instrument, instrument)


def _higher_is_worse(instrument: str) -> bool:
    try:
        return bool(get_instrument(instrument).direction == "higher_is_worse")
    except UnknownInstrument:
        return True


def _next_outcome_words(result: NextOutcome) -> str:
    label = _label(result.instrument)
    b = result.checkin_coefficient
    words = [
        say(
            NEXT_OUTCOME,
            outcome=label,
            points=f"{abs(b.value):.2f}",
            direction=LOWER if b.value < 0 else HIGHER,
            low=f"{b.low:.2f}",
            high=f"{b.high:.2f}",
            pairs=result.pairs,
            clients=result.clients,
        )
    ]
    low, high = b.low or 0.0, b.high or 0.0
    better_when_negative = _higher_is_worse(result.instrument)
    if low <= 0.0 <= high:
        words.append(INCLUDES_ZERO)
    elif (high < 0.0) == better_when_negative:
        words.append(AS_EXPECTED)
    else:
        words.append(AGAINST)
    return " ".join(words)


def _dropout_words(result: Dropout) -> str:
    words = [
        say(
            EARLY_MEANS,
            first=result.early_checkins,
            dropout_mean=f"{result.mean_early_dropout:.1f}",
            dropouts=result.dropouts,
            planned_mean=f"{result.mean_early_planned:.1f}",
            planned=result.planned,
        ),
        say(AUC, auc=_fmt(result.auc)),
    ]
    if result.odds_ratio is not None:
        words.append(say(ODDS, odds=_fmt(result.odds_ratio)))
    else:
        words.append(result.model_note[:1].upper() + result.model_note[1:] + ".")
    low, high = result.auc.low, result.auc.high
    if low is not None and high is not None and low <= 0.5 <= high:
        words.append(AUC_INCLUDES_HALF)
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Export for a validation study

VALIDATION_COLUMNS: tuple[str, ...] = (
    "client",
    "episode",
    "session",
    "day",
    *ITEMS,
    "total",
    "outcome",
    "outcome_instrument",
    "episode_end",
)


@dataclass(frozen=True)
class ValidationRow:
    """One client check-in, item by item, with no identifying detail.

    `client` is the caller's pseudonym; `episode` numbers the client's episodes 1, 2, … in start
    order; `day` counts days from the start of the client's first episode (so no calendar date
    leaves); an item is None when unanswered or out of range, and so is the total then.
    """

    client: str
    episode: int
    session: int | None
    day: int
    bond: float | None
    goals: float | None
    tasks: float | None
    overall: float | None
    total: float | None
    outcome: float | None  # the same session's outcome score, when there is one
    outcome_instrument: str
    episode_end: str  # "" while active, else the end reason

    def as_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def validation_rows(
    data: ClinicData,
    *,
    pseudonym: Callable[[str], str],
    outcome_instrument: str = OUTCOME_INSTRUMENT,
) -> list[ValidationRow]:
    """Item-level rows of every client check-in whose episode is known, for a validation study.

    `pseudonym` maps a client id to the export pseudonym; it is required so that no internal id
    leaves by default. Check-ins of an episode that is not in `data.episodes` are left out: their
    client is unknown.
    """
    by_client: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for episode in data.episodes:
        by_client[episode.client].append(episode)
    number: dict[str, int] = {}
    first_day: dict[str, date] = {}
    for client, episodes in by_client.items():
        ordered = sorted(episodes, key=lambda e: (e.started_on, e.episode))
        first_day[client] = ordered[0].started_on
        for i, episode in enumerate(ordered, start=1):
            number[episode.episode] = i
    episodes_by_id = {e.episode: e for e in data.episodes}
    scores = _outcome_scores(data.responses, outcome_instrument)
    rows = []
    for response in data.responses:
        record = episodes_by_id.get(response.episode)
        if record is None or not _is_client_checkin(response):
            continue
        values = {item: _one_item(response.items.get(item)) for item in ITEMS}
        complete = all(v is not None for v in values.values())
        session = response.session_number
        rows.append(
            ValidationRow(
                client=pseudonym(record.client),
                episode=number[record.episode],
                session=session,
                day=(response.submitted_at.date() - first_day[record.client]).days,
                bond=values["bond"],
                goals=values["goals"],
                tasks=values["tasks"],
                overall=values["overall"],
                total=(
                    sum(v for v in values.values() if v is not None) / len(ITEMS)
                    if complete
                    else None
                ),
                outcome=scores.get(record.episode, {}).get(session) if session else None,
                outcome_instrument=outcome_instrument,
                episode_end=record.end_reason,
            )
        )
    rows.sort(key=lambda r: (r.client, r.episode, r.day, r.session or 0))
    return rows


def _one_item(raw: object) -> float | None:
    if raw is None or isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) and ITEM_MIN <= value <= ITEM_MAX else None


def validation_dicts(rows: Sequence[ValidationRow]) -> list[dict[str, Any]]:
    """The rows as dicts in VALIDATION_COLUMNS order (for csv.DictWriter)."""
    return [{column: getattr(row, column) for column in VALIDATION_COLUMNS} for row in rows]
