"""The relationship and the outcome: the session-by-session multilevel model of docs/clinical.md
"Analytics", and the same model looking forward (the temporal direction).

    outcome ~ a_within + a_between + log_session + (1 | therapist) + (1 | therapist:client), REML

Input: a DataFrame with one row per session and columns therapist, client, session, outcome
(PHQ-9 total by default) and checkin (the client's check-in total, 0-10) — the per-response CSV
of `alliance report --responses` has them, and `alliance.analytics.frames.session_frame` builds it
from `ClinicData`.

Decisions:

- **Person-mean centring** (docs/clinical.md "Analytics"): a_between is the client's mean check-in
  over the rows the model uses, a_within = checkin - a_between, log_session = log(session).
  A client is a client of one therapist: a client seen by two therapists counts as two clients,
  as lme4's (1 | therapist:client).
- **Rows dropped**: a row without an outcome or a check-in (or with no id, or a session number
  below 1) is not used; `n_dropped` says how many, so a data gap is never silent.
- **The fit** is `alliance.analytics.reml.fit_nested`: exact REML from sufficient statistics, equal
  to statsmodels MixedLM (the reference call in docs/clinical.md) to about 1e-6 and to R's lme4 to
  1e-3 (tests/analytics/test_model.py, test_lme4.py), and fast enough for a million sessions
  (statsmodels needs minutes at 90,000 rows, docs/insights.md). The same code runs at every size.
- **Standard errors**: `se` is lme4's sigma_hat^2 (X' V^-1 X)^-1, which treats the variances as
  known: the figure issue 11 checks against lme4 (to 1e-3), and the usual one in the mixed-model
  literature. `se_joint` follows statsmodels (the inverse of the joint observed information of the
  REML log-likelihood in the fixed effects and the variance ratios). Their expected
  cross-information is zero, so they agree closely, and exactly for the within-client effect; on
  some data sets they differ in the third decimal for the intercept and the between-client effect
  (docs/insights.md gives an example). Both are in the output so a check with either tool can be
  reconciled.
- **Intervals** are Wald intervals, estimate ± 1.96 `se` (lme4 and statsmodels report no degrees
  of freedom for these models either).
- **The temporal direction** (`lagged`): in the app the outcome measure is filled in *before* a
  session and the check-in *after* it, so the concurrent model relates a score to the check-in
  given an hour later. The lagged model uses the check-in given after the client's previous
  session (the previous row of that client in session order; if that session has no check-in the
  row is not used — nothing is carried forward from older sessions) to predict this session's
  outcome, centred the same way on the rows it uses. It is still an association, not proof of
  cause.
- **The published figure**: the alliance-outcome correlation r = .278 (docs/clinical.md "Effect
  sizes") is a between-client correlation of the alliance, usually measured once or twice, with the
  end-of-treatment outcome. Nothing here estimates that quantity. For orientation the result
  gives each alliance effect as a partial correlation, r = t/sqrt(t^2 + df) (Rosenthal 1991; df =
  observations - clients - 2 for the within-client effect, clients - 2 for the between-client
  one; both approximate), and the within-client effect standardised by the within-client standard
  deviations of the check-in and the outcome, and says in words that these are not the same
  quantity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from alliance.analytics.phrases import gettext_noop, say
from alliance.analytics.reml import ModelDataError, NestedFit, fit_nested

TERMS = ("Intercept", "a_within", "a_between", "log_session")
FORMULA = "outcome ~ a_within + a_between + log_session + (1|therapist) + (1|therapist:client)"
REQUIRED_COLUMNS = ("therapist", "client", "session", "outcome", "checkin")
Z95 = 1.959963984540054  # the normal 97.5th percentile
#: docs/clinical.md "Effect sizes": working alliance, Flückiger, Del Re, Wampold & Horvath 2018.
PUBLISHED_ALLIANCE_R = 0.278
PUBLISHED_SOURCE = "Flückiger, Del Re, Wampold & Horvath 2018 (295 studies)"


@dataclass(frozen=True)
class FixedEffect:
    estimate: float
    se: float  # lme4's convention: sigma_hat^2 (X' V^-1 X)^-1, variances taken as known
    low: float
    high: float
    se_joint: float  # statsmodels': the joint observed information of the REML likelihood

    def as_dict(self) -> dict[str, float]:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "low": self.low,
            "high": self.high,
            "se_joint": self.se_joint,
        }


@dataclass(frozen=True)
class RelationshipModel:
    """One fit of the relationship model; `lagged` holds the temporal-direction fit."""

    predictor: str  # "checkin" (same session) or "previous_checkin" (previous session)
    outcome_label: str
    fixed_effects: Mapping[str, FixedEffect]  # empty when the model could not be fitted
    variance_components: Mapping[str, float]  # therapist, client, residual (variances)
    n_observations: int
    n_clients: int
    n_therapists: int
    n_dropped: int
    converged: bool
    warning: str
    comparison: Mapping[str, float | None]
    sentences: tuple[str, ...]
    lagged: RelationshipModel | None = None
    #: The fit itself and the therapist label of each therapist code, for therapist.py.
    fit: NestedFit | None = field(default=None, repr=False, compare=False)
    therapist_labels: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def fitted(self) -> bool:
        return bool(self.fixed_effects)

    def as_dict(self) -> dict[str, Any]:
        return {
            "predictor": self.predictor,
            "outcome": self.outcome_label,
            "formula": FORMULA,
            "method": "REML",
            "fixed_effects": {k: v.as_dict() for k, v in self.fixed_effects.items()},
            "variance_components": dict(self.variance_components),
            "n_observations": self.n_observations,
            "n_clients": self.n_clients,
            "n_therapists": self.n_therapists,
            "n_dropped": self.n_dropped,
            "converged": self.converged,
            "warning": self.warning,
            "comparison": dict(self.comparison),
            "sentences": list(self.sentences),
            "lagged": self.lagged.as_dict() if self.lagged is not None else None,
        }


# ----------------------------------------------------------------------------- data


def _check_columns(df: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"the sessions table lacks column(s): {', '.join(missing)}")


def _ids_present(df: pd.DataFrame) -> pd.Series:
    return df["therapist"].notna() & df["client"].notna() & (df["session"] >= 1)


def _numeric(df: pd.DataFrame) -> pd.DataFrame:
    out = df[list(REQUIRED_COLUMNS)].copy()
    for col in ("session", "outcome", "checkin"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["therapist", "client", "session"], kind="stable")


def lagged_checkin(df: pd.DataFrame) -> pd.Series:
    """The check-in given after the client's previous session (the previous row of the same
    therapist and client in session order); NaN at a first session or when that session has no
    check-in. Index-aligned with `df`."""
    ordered = _sorted(df)
    previous = ordered.groupby(["therapist", "client"], observed=True, sort=False)["checkin"].shift(
        1
    )
    return previous.reindex(df.index)


def _codes(values: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.cat.remove_unused_categories()
        return values.cat.codes.to_numpy().astype(np.intp), tuple(
            str(c) for c in values.cat.categories
        )
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.intp), tuple(str(u) for u in uniques)


# ----------------------------------------------------------------------------- words


def _num(x: float) -> str:
    return f"{x:.2f}"


LOWER = gettext_noop("%(points)s points lower (95%% interval %(low)s to %(high)s lower)")
HIGHER = gettext_noop("%(points)s points higher (95%% interval %(low)s to %(high)s higher)")
UNCLEAR = gettext_noop(
    "not clearly different: %(points)s points (95%% interval %(low)s to %(high)s, "
    "which includes no difference)"
)


def describe_shift(est: float, low: float, high: float) -> str:
    """ "0.80 points lower (95% interval 0.75 to 0.85 lower)", or an honest "no clear change"."""
    if high < 0:
        return say(LOWER, points=_num(-est), low=_num(-high), high=_num(-low))
    if low > 0:
        return say(HIGHER, points=_num(est), low=_num(low), high=_num(high))
    return say(UNCLEAR, points=f"{est:+.2f}", low=f"{low:+.2f}", high=f"{high:+.2f}")


def _partial_r(est: float, se: float, df: int) -> float | None:
    if se <= 0 or df <= 0:
        return None
    t = est / se
    return math.copysign(math.sqrt(t * t / (t * t + df)), t)


LAGGED_WITHIN = gettext_noop(
    "When the check-in a client gave after their previous session was one point above their own "
    "usual check-in, their %(outcome)s before the next session is %(shift)s. This is the temporal "
    "direction: the relationship as the client reported it, then the symptoms that followed. It is "
    "still an association in routine care, not proof that the relationship caused the change."
)
WITHIN = gettext_noop(
    "When a client rates the relationship one point above their own usual check-in, their "
    "%(outcome)s at that session is %(shift)s. The %(outcome)s is filled in before the session and "
    "the check-in after it, so this is how the two move together within a client, not evidence of "
    "which drives which (the lagged model looks at that)."
)
BETWEEN = gettext_noop(
    "Clients whose check-ins are one point higher on average have %(outcome)s scores %(shift)s "
    "across their sessions. Clients differ in many ways besides the relationship, so this "
    "comparison between clients is the more confounded of the two."
)
TIME = gettext_noop(
    "Over time, each doubling of the session number goes with a %(outcome)s %(shift)s, at the same "
    "check-in."
)
SHARE = gettext_noop(
    "Of the variation in %(outcome)s the terms above leave unexplained, %(therapists)s%% lies "
    "between therapists, %(clients)s%% between clients of the same therapist and %(sessions)s%% "
    "from session to session."
)
EXPECTED = gettext_noop("in the expected direction (a better relationship, fewer symptoms)")
NOT_EXPECTED = gettext_noop("NOT in the expected direction")
PUBLISHED = gettext_noop(
    "As a partial correlation the within-client association is r = %(within)s, %(direction)s; the "
    "between-client one is r = %(between)s. "
    "The published alliance-outcome figure, r = .28 (%(source)s), correlates clients' alliance, "
    "mostly measured once or twice, with their outcome at the end of treatment, across clients. A "
    "session-by-session association within clients is a different quantity, so the comparison is "
    "for orientation only, not a replication."
)
PUBLISHED_BETWEEN_AGAINST = gettext_noop(
    "As a partial correlation the within-client association is r = %(within)s, %(direction)s; the "
    "between-client one is r = %(between)s (not in the expected direction). "
    "The published alliance-outcome figure, r = .28 (%(source)s), correlates clients' alliance, "
    "mostly measured once or twice, with their outcome at the end of treatment, across clients. A "
    "session-by-session association within clients is a different quantity, so the comparison is "
    "for orientation only, not a replication."
)
NOT_FITTED = gettext_noop("The model could not be fitted: %(reason)s")
ONE_THERAPIST = gettext_noop(
    "one therapist only: the therapist variance is not estimated (set to 0)"
)
ON_BOUNDARY = gettext_noop("estimated at zero (on the boundary): %(terms)s variance")
NOT_CONVERGED = gettext_noop("the fit did not converge cleanly; treat the estimates with caution")


def _sentences(
    fe: Mapping[str, FixedEffect],
    vc: Mapping[str, float],
    comparison: Mapping[str, float | None],
    label: str,
    lagged: bool,
    lower_is_better: bool,
) -> tuple[str, ...]:
    w, b, t = fe["a_within"], fe["a_between"], fe["log_session"]
    within_shift = describe_shift(w.estimate, w.low, w.high)
    within = (
        say(LAGGED_WITHIN, outcome=label, shift=within_shift)
        if lagged
        else say(WITHIN, outcome=label, shift=within_shift)
    )
    between = say(BETWEEN, outcome=label, shift=describe_shift(b.estimate, b.low, b.high))
    doubling = math.log(2.0)
    time = say(
        TIME,
        outcome=label,
        shift=describe_shift(t.estimate * doubling, t.low * doubling, t.high * doubling),
    )
    total = sum(vc.values())
    share = (
        say(
            SHARE,
            outcome=label,
            therapists=f"{100 * vc['therapist'] / total:.0f}",
            clients=f"{100 * vc['client'] / total:.0f}",
            sessions=f"{100 * vc['residual'] / total:.0f}",
        )
        if total > 0
        else ""
    )
    r_w, r_b = comparison["within_partial_r"], comparison["between_partial_r"]
    better = (
        -1.0 if lower_is_better else 1.0
    )  # sign that means "better relationship, better outcome"
    if r_w is not None and r_b is not None:
        published = say(
            PUBLISHED if better * r_b > 0 else PUBLISHED_BETWEEN_AGAINST,
            within=f"{abs(r_w):.2f}",
            direction=EXPECTED if better * r_w > 0 else NOT_EXPECTED,
            between=f"{abs(r_b):.2f}",
            source=PUBLISHED_SOURCE,
        )
    else:
        published = ""
    return tuple(s for s in (within, between, time, share, published) if s)


# ----------------------------------------------------------------------------- the fit


def _unfitted(
    predictor: str, label: str, n_obs: int, n_dropped: int, warning: str
) -> RelationshipModel:
    return RelationshipModel(
        predictor=predictor,
        outcome_label=label,
        fixed_effects={},
        variance_components={},
        n_observations=n_obs,
        n_clients=0,
        n_therapists=0,
        n_dropped=n_dropped,
        converged=False,
        warning=warning,
        comparison={},
        sentences=(say(NOT_FITTED, reason=warning),),
    )


def _fit(
    used: pd.DataFrame,
    alliance: pd.Series,
    *,
    predictor: str,
    label: str,
    n_dropped: int,
    lower_is_better: bool,
) -> RelationshipModel:
    n_obs = len(used)
    if n_obs == 0:
        return _unfitted(
            predictor, label, 0, n_dropped, gettext_noop("no session has both measures")
        )
    therapist, labels = _codes(used["therapist"])
    client, _ = _codes(used["client"])
    a = alliance.to_numpy(dtype=np.float64)
    y = used["outcome"].to_numpy(dtype=np.float64)
    # Person means by (therapist, client) code pair, vectorised: one bincount per quantity.
    pair = therapist.astype(np.int64) * (int(client.max()) + 1) + client
    _, group = np.unique(pair, return_inverse=True)
    counts = np.bincount(group).astype(np.float64)
    a_between = (np.bincount(group, weights=a) / counts)[group]
    a_within = a - a_between
    log_session = np.log(used["session"].to_numpy(dtype=np.float64))
    X = np.column_stack([np.ones(n_obs), a_within, a_between, log_session])
    try:
        fit = fit_nested(y, X, therapist, client, TERMS, therapist_effect=len(labels) > 1)
    except ModelDataError as exc:
        return _unfitted(predictor, label, n_obs, n_dropped, str(exc))

    se = np.sqrt(np.diag(fit.cov_beta_conditional))
    se_joint = np.sqrt(np.diag(fit.cov_beta))
    fe = {
        term: FixedEffect(
            estimate=float(fit.beta[k]),
            se=float(se[k]),
            low=float(fit.beta[k] - Z95 * se[k]),
            high=float(fit.beta[k] + Z95 * se[k]),
            se_joint=float(se_joint[k]),
        )
        for k, term in enumerate(TERMS)
    }
    vc = {
        "therapist": fit.therapist_variance,
        "client": fit.client_variance,
        "residual": fit.residual_variance,
    }
    y_within = y - (np.bincount(group, weights=y) / counts)[group]
    sd_y_within = float(np.std(y_within))
    comparison: dict[str, float | None] = {
        "within_partial_r": _partial_r(
            fe["a_within"].estimate, fe["a_within"].se, n_obs - fit.n_clients - 2
        ),
        "between_partial_r": _partial_r(
            fe["a_between"].estimate, fe["a_between"].se, fit.n_clients - 2
        ),
        "within_standardised": (
            fe["a_within"].estimate * float(np.std(a_within)) / sd_y_within
            if sd_y_within > 0
            else None
        ),
        "published_r": PUBLISHED_ALLIANCE_R,
    }
    warnings = []
    if len(labels) == 1:
        warnings.append(ONE_THERAPIST)
    if fit.boundary:
        warnings.append(say(ON_BOUNDARY, terms=", ".join(fit.boundary)))
    if not fit.converged:
        warnings.append(NOT_CONVERGED)
    return RelationshipModel(
        predictor=predictor,
        outcome_label=label,
        fixed_effects=fe,
        variance_components=vc,
        n_observations=n_obs,
        n_clients=fit.n_clients,
        n_therapists=fit.n_therapists,
        n_dropped=n_dropped,
        converged=fit.converged,
        warning="; ".join(warnings),
        comparison=comparison,
        sentences=_sentences(fe, vc, comparison, label, predictor != "checkin", lower_is_better),
        fit=fit,
        therapist_labels=labels,
    )


def relationship_model(
    sessions: pd.DataFrame,
    *,
    outcome_label: str = "PHQ-9",
    lower_is_better: bool = True,
    lagged: bool = True,
) -> RelationshipModel:
    """Fit the relationship model (and, unless lagged=False, the lagged one) to a sessions table."""
    _check_columns(sessions)
    df = _numeric(sessions)
    usable = _ids_present(df) & df["outcome"].notna() & df["checkin"].notna()
    used = df[usable]
    result = _fit(
        used,
        used["checkin"],
        predictor="checkin",
        label=outcome_label,
        n_dropped=int(len(df) - usable.sum()),
        lower_is_better=lower_is_better,
    )
    if not lagged:
        return result
    return replace(
        result,
        lagged=lagged_model(sessions, outcome_label=outcome_label, lower_is_better=lower_is_better),
    )


def lagged_model(
    sessions: pd.DataFrame, *, outcome_label: str = "PHQ-9", lower_is_better: bool = True
) -> RelationshipModel:
    """The temporal direction alone: this session's outcome on the previous session's check-in."""
    _check_columns(sessions)
    df = _numeric(sessions)
    clean = df[_ids_present(df)]
    previous = lagged_checkin(clean)
    usable = clean["outcome"].notna() & previous.notna()
    return _fit(
        clean[usable],
        previous[usable],
        predictor="previous_checkin",
        label=outcome_label,
        n_dropped=int(len(df) - usable.sum()),
        lower_is_better=lower_is_better,
    )
