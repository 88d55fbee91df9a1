"""Exact REML for a linear model with random intercepts for therapists and for clients within
therapists, computed from sufficient statistics.

Why not statsmodels MixedLM (the reference in docs/clinical.md "Analytics")? It builds a dense
client-indicator matrix per therapist and loops over therapists in Python; on the benchmark's
network (100,000 episodes, about a million sessions, see benchmarks/insights_scale.py and
docs/insights.md) it runs far past the report's one-minute budget. For this one covariance
structure the likelihood needs only, per client, the number of sessions and the sums of the
outcome and of each predictor, plus one cross-product matrix for the whole data set. Everything
below is the same REML criterion statsmodels and lme4 maximise, evaluated by exact algebra
(Sherman-Morrison twice: clients within a therapist, then the therapist), so it gives the same
numbers at every size; there is no size threshold at which the method changes. The tests check it
against statsmodels (estimates and standard errors to about 1e-6) and against R's lme4 (1e-3).

The algebra. Write the model as y = X beta + Z_t u_t + Z_c u_c + e with
u_t ~ N(0, sigma^2 gamma_t), u_c ~ N(0, sigma^2 gamma_c), e ~ N(0, sigma^2), and
H = V / sigma^2 = I + gamma_c Z_c Z_c' + gamma_t Z_t Z_t'. For client i of therapist j with n_i
sessions let d_i = 1 / (1 + n_i gamma_c), w_i = n_i d_i, s_j = sum_i w_i and
g_j = gamma_t / (1 + gamma_t s_j). For any two columns a, b (S_a,i is a's sum over client i's
sessions, T_a,j = sum_i d_i S_a,i):

    a' H^-1 b = a'b - sum_i gamma_c d_i S_a,i S_b,i - sum_j g_j T_a,j T_b,j
    log|H|    = sum_i log(1 + n_i gamma_c) + sum_j log(1 + gamma_t s_j)

and the client and therapist sums of H^-1 a are u_a,i = d_i (S_a,i - g_j n_i T_a,j) and
v_a,j = T_a,j / (1 + gamma_t s_j), which give the first and second derivatives of the criterion
in closed form (used for Newton steps and for the standard errors).

The criterion, with sigma^2 profiled out (lme4's REML criterion):

    -2 l_R(gamma) = (N - p) log(Q / (N - p)) + log|H| + log|X' H^-1 X| + (N - p)(1 + log 2 pi)
    Q = min over beta of (y - X beta)' H^-1 (y - X beta),   sigma_hat^2 = Q / (N - p)

Standard errors of the fixed effects. lme4 reports sigma_hat^2 (X' H^-1 X)^-1, which treats the
variance parameters as known (`cov_beta_conditional`); statsmodels inverts the observed
information of the REML log-likelihood in (beta, gamma_t, gamma_c) jointly, so its SEs carry the
cross-information between the fixed effects and the variance ratios (`cov_beta`). That
cross-information has expectation zero, so the two agree closely (exactly for within-client
terms; usually to 1e-4, on some data sets to about 0.5% for the intercept and between-client
terms). `cov_beta` follows statsmodels, the reference named in docs/clinical.md; both are kept.
When a variance ratio is estimated at zero (on the boundary of the parameter space) it is held
fixed there for the standard errors, and the result says so.

The optimiser: L-BFGS-B on (gamma_t, gamma_c) >= 0 with the exact gradient, then Newton steps
with the exact Hessian until every step is below 1e-10 of the ratio it moves (or the Newton
decrement below 1e-12), so the estimates are accurate far beyond the 1e-6 the tests ask for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Variance ratios at or below this are "on the boundary" (estimated as zero).
BOUNDARY = 1e-8
#: Newton stops when every step is below this fraction of the variance ratio it moves.
STEP_TOL = 1e-10
MAX_NEWTON = 50


class ModelDataError(ValueError):
    """The data cannot support the model (too few observations, collinear predictors)."""


@dataclass(frozen=True)
class NestedFit:
    """A fitted nested random-intercept model. Arrays are in the order of the inputs' codes."""

    terms: tuple[str, ...]
    beta: FloatArray
    cov_beta: FloatArray  # statsmodels' convention: joint observed information
    cov_beta_conditional: FloatArray  # lme4's: sigma_hat^2(X'H^-1X)^-1
    residual_variance: float
    therapist_variance: float
    client_variance: float
    n_observations: int
    n_clients: int
    n_therapists: int
    converged: bool
    boundary: tuple[str, ...]  # the variance components estimated at zero
    reml_criterion: float  # -2 x the REML log-likelihood, as lme4 prints it
    #: Empirical-Bayes therapist intercepts, their conditional variances (given beta_hat) and
    #: prediction-error variances (including the uncertainty of beta_hat), one per therapist code.
    therapist_blup: FloatArray = field(repr=False)
    therapist_conditional_variance: FloatArray = field(repr=False)
    therapist_pev: FloatArray = field(repr=False)
    therapist_clients: IntArray = field(repr=False)
    therapist_observations: IntArray = field(repr=False)
    #: The share of a therapist's raw deviation their EB estimate keeps:
    #: gamma_t s_j / (1 + gamma_t s_j).
    therapist_reliability: FloatArray = field(repr=False)


@dataclass(frozen=True)
class _Stats:
    """Per-client sufficient statistics, clients grouped by therapist."""

    n: FloatArray  # sessions per client
    sums: FloatArray  # (clients, p + 1): per-client sums of [X, y]
    cross: FloatArray  # (p + 1, p + 1): [X, y]'[X, y]
    therapist_of: IntArray  # therapist index of each client (non-decreasing)
    starts: IntArray  # first client of each therapist
    n_therapists: int
    N: int
    p: int


@dataclass(frozen=True)
class _Eval:
    """The criterion and its pieces at one (gamma_t, gamma_c)."""

    value: float  # -2l_R without the constant
    grad: FloatArray  # of the profiled criterion in (gamma_t, gamma_c)
    hess_profiled: FloatArray  # of the profiled criterion in (gamma_t, gamma_c)
    hess_joint: FloatArray  # of f(beta, gamma) = (N-p) log Q + log|H| + log|C| at beta_hat, (p+2)^2
    beta: FloatArray
    C: FloatArray  # X'H^-1X
    Q: float


def _sum_by_therapist(values: FloatArray, stats: _Stats) -> FloatArray:
    return np.add.reduceat(values, stats.starts, axis=0)


def _stats(
    y: FloatArray, X: FloatArray, therapist: IntArray, client: IntArray, n_therapists: int
) -> _Stats:
    W = np.column_stack([X, y])
    # A client is a (therapist, client) pair, as lme4's (1 | therapist:client).
    pair = therapist.astype(np.int64) * (int(client.max()) + 1) + client.astype(np.int64)
    keys, inverse = np.unique(pair, return_inverse=True)
    n_clients = keys.size
    n = np.bincount(inverse, minlength=n_clients).astype(np.float64)
    sums: FloatArray = np.column_stack(
        [np.bincount(inverse, weights=W[:, k], minlength=n_clients) for k in range(W.shape[1])]
    )
    # np.unique sorts, so clients come grouped by therapist; every therapist code is present
    # (the caller passes dense codes).
    therapist_of = (keys // (int(client.max()) + 1)).astype(np.intp)
    starts = np.flatnonzero(np.r_[True, therapist_of[1:] != therapist_of[:-1]]).astype(np.intp)
    return _Stats(
        n=n,
        sums=sums,
        cross=W.T @ W,
        therapist_of=therapist_of,
        starts=starts,
        n_therapists=n_therapists,
        N=y.size,
        p=X.shape[1],
    )


def _evaluate(gamma: FloatArray, st: _Stats) -> _Eval:
    g_t, g_c = float(gamma[0]), float(gamma[1])
    p, N = st.p, st.N
    n, S, th = st.n, st.sums, st.therapist_of

    d = 1.0 / (1.0 + n * g_c)
    w = n * d
    s = _sum_by_therapist(w, st)
    g = g_t / (1.0 + g_t * s)
    inv_t = 1.0 / (1.0 + g_t * s)
    T = _sum_by_therapist(S * d[:, None], st)  # (J, p+1)

    WHW = st.cross - (S * (g_c * d)[:, None]).T @ S - (T * g[:, None]).T @ T
    u = d[:, None] * (S - (g[th] * n)[:, None] * T[th])  # client sums of H^-1W
    v = T * inv_t[:, None]  # therapist sums of H^-1W
    U = _sum_by_therapist(u * w[:, None], st)

    # W'H^-1G_kH^-1W (k = therapist, client) and W'H^-1G_kH^-1G_lH^-1W.
    D = (v.T @ v, u.T @ u)
    E_cc = (u * w[:, None]).T @ u - (U * g[:, None]).T @ U
    E_ct = (U * inv_t[:, None]).T @ v
    E_tt = (v * (s * inv_t)[:, None]).T @ v
    E = ((E_tt, E_ct.T), (E_ct, E_cc))  # E[k][l] = W'H^-1G_kH^-1G_lH^-1W

    w2 = _sum_by_therapist(w * w, st)
    w3 = _sum_by_therapist(w * w * w, st)
    trace1 = (float(np.sum(s * inv_t)), float(np.sum(w) - np.sum(g * w2)))
    trace2 = (
        (float(np.sum((s * inv_t) ** 2)), float(np.sum(w2 * inv_t**2))),
        (float(np.sum(w2 * inv_t**2)), float(np.sum(w2 - 2 * g * w3 + g * g * w2 * w2))),
    )
    logdet_H = float(np.sum(np.log1p(n * g_c)) + np.sum(np.log1p(g_t * s)))

    C = WHW[:p, :p]
    b = WHW[:p, p]
    try:
        C_chol = np.linalg.cholesky(C)
    except np.linalg.LinAlgError as exc:
        raise ModelDataError("the predictors are collinear (X'V^-1X is singular)") from exc
    beta = np.asarray(np.linalg.solve(C, b), dtype=np.float64)
    Q = float(WHW[p, p] - b @ beta)
    if not Q > 0:
        raise ModelDataError("the model fits the data exactly: no residual variance")
    Ci = np.linalg.inv(C)
    a = np.r_[-beta, 1.0]  # r = W a
    df = N - p
    value = df * math.log(Q / df) + logdet_H + 2.0 * float(np.sum(np.log(np.diag(C_chol))))

    grad = np.empty(2)
    H_bb = 2.0 * df * C / Q
    H_bg = np.empty((p, 2))
    H_gg = np.empty((2, 2))
    for k in range(2):
        Dk = D[k]
        Q_k = -float(a @ Dk @ a)
        grad[k] = df * Q_k / Q + trace1[k] - float(np.sum(Ci * Dk[:p, :p]))
        # ∂^2Q/∂beta∂gamma_k = 2 X'H^-1G_kH^-1r
        H_bg[:, k] = df * 2.0 * (Dk[:p, :] @ a) / Q
        for m in range(2):
            Dm = D[m]
            Q_m = -float(a @ Dm @ a)
            Q_km = 2.0 * float(a @ E[k][m] @ a)
            L_km = -trace2[k][m]
            M_km = float(np.sum(Ci * (E[k][m] + E[m][k])[:p, :p])) - float(
                np.trace(Ci @ Dm[:p, :p] @ Ci @ Dk[:p, :p])
            )
            H_gg[k, m] = df * (Q_km / Q - Q_k * Q_m / Q**2) + L_km + M_km
    hess_joint = np.block([[H_bb, H_bg], [H_bg.T, H_gg]])
    hess_profiled = H_gg - H_bg.T @ np.linalg.solve(H_bb, H_bg)
    return _Eval(
        value=value,
        grad=grad,
        hess_profiled=0.5 * (hess_profiled + hess_profiled.T),
        hess_joint=0.5 * (hess_joint + hess_joint.T),
        beta=beta,
        C=C,
        Q=Q,
    )


def _free(gamma: FloatArray, grad: FloatArray, active: Sequence[bool]) -> NDArray[np.bool_]:
    """Coordinates not held at the zero bound (a zero ratio whose gradient pushes it negative)."""
    return np.array(
        [bool(active[k]) and not (gamma[k] <= BOUNDARY and grad[k] > 0) for k in range(2)]
    )


def _optimise(
    st: _Stats, start: FloatArray, active: Sequence[bool]
) -> tuple[FloatArray, _Eval, bool]:
    bounds = [(0.0, None) if on else (0.0, 0.0) for on in active]

    def fun(x: FloatArray) -> tuple[float, FloatArray]:
        ev = _evaluate(np.maximum(x, 0.0), st)
        return ev.value, ev.grad

    res = optimize.minimize(
        fun,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500},
    )
    gamma = np.maximum(np.asarray(res.x, dtype=np.float64), 0.0)
    ev = _evaluate(gamma, st)
    # Newton polish with the exact Hessian, projected onto gamma >= 0. It stops when the Newton
    # step is negligible against gamma itself: at a million rows the criterion (about 10⁶) cannot
    # resolve changes much below 1e-9, so a test on its decrease alone would never be met.
    converged = False
    for _ in range(MAX_NEWTON):
        free = _free(gamma, ev.grad, active)
        if not free.any():
            converged = True
            break
        Hf = ev.hess_profiled[np.ix_(free, free)]
        gf = ev.grad[free]
        try:
            step_f = -np.linalg.solve(Hf, gf)
        except np.linalg.LinAlgError:
            break
        decrement = float(-gf @ step_f)
        if decrement < 0:  # not a descent direction: the Hessian is not positive definite here
            break
        step = np.zeros(2)
        step[free] = step_f
        if decrement < 1e-12 or np.all(np.abs(step) <= STEP_TOL * np.maximum(gamma, 1e-4)):
            converged = True
            break
        t = 1.0
        for _halving in range(30):
            trial = np.maximum(gamma + t * step, 0.0)
            trial_ev = _evaluate(trial, st)
            if trial_ev.value <= ev.value + 1e-4 * float(ev.grad @ (trial - gamma)):
                break
            # Within the criterion's rounding (about 1e-15 of its size) the value cannot tell
            # the points apart; the gradient can.
            flat = abs(trial_ev.value - ev.value) <= 1e-13 * max(1.0, abs(ev.value))
            if flat and np.linalg.norm(trial_ev.grad[free]) < np.linalg.norm(gf):
                break
            t /= 2
        else:
            break
        gamma, ev = trial, trial_ev
    return gamma, ev, converged


def _therapist_blups(
    gamma: FloatArray, st: _Stats, beta: FloatArray, sigma2: float, cov_conditional: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    g_t, g_c = float(gamma[0]), float(gamma[1])
    p = st.p
    d = 1.0 / (1.0 + st.n * g_c)
    s = _sum_by_therapist(st.n * d, st)
    inv_t = 1.0 / (1.0 + g_t * s)
    T = _sum_by_therapist(st.sums * d[:, None], st)
    resid_sum = T[:, p] - T[:, :p] @ beta  # sum_i d_i x (client's sum of y - X beta_hat)
    blup = g_t * resid_sum * inv_t
    conditional = sigma2 * g_t * inv_t
    # Henderson's prediction-error variance adds the uncertainty of beta_hat:
    # a_j Cov(beta_hat) a_j' with a_j = gamma_t 1' H_j^-1 X_j.
    A = (g_t * inv_t)[:, None] * T[:, :p]
    pev = conditional + np.einsum("jp,pq,jq->j", A, cov_conditional, A)
    reliability = g_t * s * inv_t
    return blup, conditional, pev, reliability


def fit_nested(
    y: FloatArray,
    X: FloatArray,
    therapist: IntArray,
    client: IntArray,
    terms: Sequence[str],
    *,
    therapist_effect: bool = True,
) -> NestedFit:
    """REML fit of y ~ X + (1 | therapist) + (1 | therapist:client).

    `therapist` and `client` are integer codes; `therapist` must be dense (0..J-1, each used).
    The first column of X should be the intercept. `therapist_effect=False` fixes the therapist
    variance at zero (a single therapist cannot have one).
    """
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    therapist = np.asarray(therapist, dtype=np.intp)
    client = np.asarray(client, dtype=np.intp)
    N, p = X.shape
    if len(terms) != p:
        raise ValueError("one term name per column of X")
    n_therapists = int(therapist.max()) + 1 if N else 0
    if p + 2 >= N:
        raise ModelDataError(f"{N} observations are too few for {p} fixed effects and 3 variances")
    if np.unique(therapist).size != n_therapists:
        raise ValueError("therapist codes must be dense: 0..J-1, each used")

    # Centre the non-intercept columns and y: the same model, better conditioned sums of
    # squares at a million rows. beta and its covariance are mapped back below.
    shift = X.mean(axis=0)
    has_intercept = bool(np.allclose(X[:, 0], 1.0))
    if not has_intercept:
        raise ValueError("the first column of X must be the intercept")
    shift[0] = 0.0
    y_shift = float(y.mean())
    st = _stats(y - y_shift, X - shift, therapist, client, n_therapists)
    if np.linalg.matrix_rank(st.cross[:p, :p]) < p:
        raise ModelDataError("the predictors are collinear")

    active = (therapist_effect and n_therapists > 1, True)
    # Start from modest variance ratios; the criterion is smooth in (gamma_t, gamma_c) and the
    # bounds keep both at or above zero.
    start = np.array([0.1 if active[0] else 0.0, 0.5])
    gamma, ev, converged = _optimise(st, start, active)

    df = N - p
    sigma2 = ev.Q / df
    free_var = np.array([active[k] and gamma[k] > BOUNDARY for k in range(2)])
    keep = np.r_[np.ones(p, dtype=bool), free_var]
    # l = -f/2, so the observed information is f''/2 and the covariance 2 (f'')^-1.
    cov_joint = 2.0 * np.linalg.inv(ev.hess_joint[np.ix_(keep, keep)])
    cov_beta_c = cov_joint[:p, :p]
    cov_cond_c = sigma2 * np.linalg.inv(ev.C)

    # Back from centred columns: beta_0 = beta_0c + ȳ - sum_k beta_k x̄_k; Cov maps through the same
    # linear map.
    Lmap = np.eye(p)
    Lmap[0, 1:] = -shift[1:]
    beta = Lmap @ ev.beta
    beta[0] += y_shift
    cov_beta = Lmap @ cov_beta_c @ Lmap.T
    cov_cond = Lmap @ cov_cond_c @ Lmap.T

    blup, cond_var, pev, reliability = _therapist_blups(gamma, st, ev.beta, sigma2, cov_cond_c)
    hess_free = ev.hess_profiled[np.ix_(free_var, free_var)]
    if free_var.any() and np.any(np.linalg.eigvalsh(hess_free) <= 0):
        converged = False
    boundary = tuple(
        name for name, k in (("therapist", 0), ("client", 1)) if active[k] and gamma[k] <= BOUNDARY
    )
    constant = df * (1.0 + math.log(2.0 * math.pi))
    return NestedFit(
        terms=tuple(terms),
        beta=beta,
        cov_beta=0.5 * (cov_beta + cov_beta.T),
        cov_beta_conditional=0.5 * (cov_cond + cov_cond.T),
        residual_variance=sigma2,
        therapist_variance=float(gamma[0]) * sigma2,
        client_variance=float(gamma[1]) * sigma2,
        n_observations=N,
        n_clients=int(st.n.size),
        n_therapists=n_therapists,
        converged=converged,
        boundary=boundary,
        reml_criterion=ev.value + constant,
        therapist_blup=blup,
        therapist_conditional_variance=cond_var,
        therapist_pev=pev,
        therapist_clients=np.bincount(st.therapist_of, minlength=n_therapists).astype(np.intp),
        therapist_observations=np.bincount(therapist, minlength=n_therapists).astype(np.intp),
        therapist_reliability=reliability,
    )
