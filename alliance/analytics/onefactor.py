"""Reliability and a one-factor model for a short scale, vectorised over many covariance matrices.

Every function takes a stack of covariance matrices, shape (b, k, k), and returns one value per
matrix, so that the point estimate (b = 1) and every cluster-bootstrap resample (b = 1000) go through
the same code in one pass. docs/insights.md ("The check-in tests itself") has the definitions and
sources.

- Cronbach's alpha (Cronbach 1951): k/(k-1) · (1 - Σ var(item) / var(sum)).
- The one-factor model x = λ·f + e with var(f) = 1 and diagonal unique variances ψ is fitted by
  maximum likelihood to the *correlation* matrix, by Jöreskog's (1967) profile method as R's
  `factanal` does, minimised with Newton steps written as array operations so that a thousand
  bootstrap matrices are fitted at once (see `fit_one_factor`). ML is scale-free, so loadings on
  the raw scale are the standardised ones times the item's standard deviation. Unique variances are kept at or above HEYWOOD_FLOOR (as R's `factanal` does with its
  lower bound of 0.005); a fit that reaches the floor is a Heywood case and is reported as such.
- McDonald's omega (total) from that model, for the *unweighted* sum (the check-in total is the
  items' mean, which has the same reliability): (Σλ)² / ((Σλ)² + Σψ) with raw-scale λ and ψ. The
  denominator is the model-implied variance of the sum (McDonald 1999).
- Fit: the ML discrepancy F = log|Σ̂| + tr(R Σ̂⁻¹) - log|R| - k, the chi-square with Bartlett's
  correction (n - 1 - (2k + 5)/6 - 2/3) · F on k(k+1)/2 - 2k degrees of freedom (2 for four items),
  and RMSEA = √(max(χ² - df, 0) / (df · (n - 1))), the formulas R's `factanal` and most SEM software
  use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

HEYWOOD_FLOOR = 0.005
NEWTON_MAX_ITERATIONS = 100
GRADIENT_TOLERANCE = 1e-10
STEP_TOLERANCE = 1e-13
FD_STEP = 1e-6
LINE_SEARCH_HALVINGS = 40


def cronbach_alpha(cov: Array) -> Array:
    """Alpha for each covariance matrix in a (b, k, k) stack; NaN where the sum does not vary."""
    k = cov.shape[-1]
    item_variance = np.trace(cov, axis1=-2, axis2=-1)
    total_variance = cov.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = k / (k - 1) * (1.0 - item_variance / total_variance)
    return np.where(total_variance > 0, alpha, np.nan)


def correlation(cov: Array) -> tuple[Array, Array]:
    """(correlation matrices, item standard deviations); NaN rows where an item does not vary."""
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / (sd[..., :, None] * sd[..., None, :])
    varies = _all(sd > 0, axis=-1)
    corr = np.where(varies[..., None, None], corr, np.nan)
    return corr, sd


@dataclass(frozen=True)
class OneFactorFit:
    """Standardised loadings and unique variances, one row per fitted matrix."""

    loadings: Array  # (b, k), oriented so that their sum is positive
    uniquenesses: Array  # (b, k)
    converged: npt.NDArray[np.bool_]  # (b,)

    @property
    def heywood(self) -> npt.NDArray[np.bool_]:
        """A unique variance at the floor: an item the model treats as (almost) error-free."""
        at_floor: npt.NDArray[np.bool_] = self.uniquenesses <= HEYWOOD_FLOOR * (1 + 1e-9)
        return np.asarray(at_floor.any(axis=-1), dtype=bool)

    def implied(self) -> Array:
        """The model's correlation matrices λλᵀ + diag(ψ)."""
        lam = self.loadings
        return lam[..., :, None] * lam[..., None, :] + _diag(self.uniquenesses)


def fit_one_factor(corr: Array) -> OneFactorFit:
    """ML one-factor fit of each (k, k) correlation matrix; rows with NaN stay NaN.

    Jöreskog's profile method, as in R's `factanal`: for given unique variances ψ the best loadings
    come from the largest eigenvalue θ₁ and its eigenvector w of S* = Ψ^-1/2 R Ψ^-1/2, namely
    λ = Ψ^1/2 w √max(θ₁ - 1, 0), and the discrepancy is then Σ_{j>1} (θ_j - log θ_j) - (k - 1),
    with gradient diag(λλ' + Ψ - R) / ψ². That leaves k parameters, minimised by projected Newton
    steps (Hessian by central differences of the exact gradient, Armijo backtracking, bounds
    [HEYWOOD_FLOOR, 1]) on all matrices at once; a matrix leaves the batch once it has converged.
    """
    b, k, _ = corr.shape
    valid = _all(np.isfinite(corr), axis=(-2, -1))
    r = np.where(valid[:, None, None], corr, np.eye(k))
    # Start from the squared multiple correlations (as factanal does): psi0 = 1 / diag(R^-1). pinv
    # keeps a singular R (an item that copies another) from failing the whole batch.
    inverse_diagonal = np.diagonal(np.linalg.pinv(r, hermitian=True), axis1=-2, axis2=-1)
    with np.errstate(divide="ignore"):
        psi = np.clip(1.0 / inverse_diagonal, HEYWOOD_FLOOR, 1.0)
    value, gradient, lam = _profile(r, psi)
    converged = np.zeros(b, dtype=bool)
    active = np.arange(b)
    for _ in range(NEWTON_MAX_ITERATIONS):
        moved = _newton_step(r[active], psi[active], value[active], gradient[active])
        step = np.max(np.abs(moved - psi[active]), axis=-1)
        psi[active] = moved
        value[active], gradient[active], lam[active] = _profile(r[active], moved)
        projected = _free(moved, gradient[active]) * gradient[active]
        done = (np.max(np.abs(projected), axis=-1) < GRADIENT_TOLERANCE) | (step < STEP_TOLERANCE)
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    # The sign of a factor is arbitrary; point it the way the items are scored.
    lam = np.where(lam.sum(axis=-1, keepdims=True) < 0, -lam, lam)
    lam = np.where(valid[:, None], lam, np.nan)
    psi = np.where(valid[:, None], psi, np.nan)
    return OneFactorFit(loadings=lam, uniquenesses=psi, converged=converged & valid)


def _profile(r: Array, psi: Array) -> tuple[Array, Array, Array]:
    """(discrepancy, gradient in psi, best loadings) for each matrix at unique variances psi."""
    k = r.shape[-1]
    scale = 1.0 / np.sqrt(psi)
    theta, vectors = np.linalg.eigh(r * scale[:, :, None] * scale[:, None, :])
    lam = np.sqrt(psi) * vectors[:, :, -1] * np.sqrt(np.maximum(theta[:, -1] - 1.0, 0.0))[:, None]
    rest = np.maximum(theta[:, :-1], 1e-300)
    value = np.sum(rest - np.log(rest), axis=-1) - (k - 1)
    gradient = (lam**2 + psi - np.diagonal(r, axis1=-2, axis2=-1)) / psi**2
    return value, gradient, lam


def _free(psi: Array, gradient: Array) -> Array:
    """1.0 where psi may move, 0.0 where a bound holds it (the gradient pushes it outwards)."""
    held = ((psi <= HEYWOOD_FLOOR) & (gradient > 0)) | ((psi >= 1.0) & (gradient < 0))
    return np.where(held, 0.0, 1.0)


def _newton_step(r: Array, psi: Array, value: Array, gradient: Array) -> Array:
    b, k, _ = r.shape
    hessian = np.empty((b, k, k))
    for i in range(k):
        h = np.zeros(k)
        h[i] = FD_STEP
        hessian[:, :, i] = (_profile(r, psi + h)[1] - _profile(r, psi - h)[1]) / (2 * FD_STEP)
    hessian = (hessian + np.swapaxes(hessian, 1, 2)) / 2
    free = _free(psi, gradient)
    g = gradient * free
    held = free == 0.0
    hessian = np.where(held[:, :, None] | held[:, None, :], np.eye(k), hessian)
    # Newton where the Hessian is positive definite, steepest descent elsewhere.
    definite = np.linalg.eigvalsh(hessian)[:, 0] > 1e-10
    direction = -g
    if definite.any():
        direction[definite] = -np.linalg.solve(hessian[definite], g[definite][..., None])[..., 0]
    out = psi.copy()
    pending = np.ones(b, dtype=bool)
    t = np.ones(b)
    for _ in range(LINE_SEARCH_HALVINGS):
        idx = np.flatnonzero(pending)
        candidate = np.clip(psi[idx] + t[idx, None] * direction[idx], HEYWOOD_FLOOR, 1.0)
        candidate_value = _profile(r[idx], candidate)[0]
        decrease = np.sum(gradient[idx] * (candidate - psi[idx]), axis=-1)
        ok = candidate_value <= value[idx] + 1e-4 * decrease
        out[idx[ok]] = candidate[ok]
        pending[idx[ok]] = False
        if not pending.any():
            break
        t[idx[~ok]] /= 2
    return out


def mcdonald_omega(fit: OneFactorFit, sd: Array) -> Array:
    """Omega total of the unweighted sum, from standardised fit and item standard deviations."""
    lam = fit.loadings * sd
    psi = fit.uniquenesses * sd**2
    common = np.sum(lam, axis=-1) ** 2
    return common / (common + np.sum(psi, axis=-1))


def degrees_of_freedom(k: int) -> int:
    """Free moments minus free parameters of a one-factor model: k(k+1)/2 - 2k."""
    return k * (k + 1) // 2 - 2 * k


def ml_discrepancy(corr: Array, fit: OneFactorFit) -> Array:
    """F = log|Σ̂| - log|R| + tr(R Σ̂⁻¹) - k; NaN where R is singular or was not fitted."""
    k = corr.shape[-1]
    valid = _all(np.isfinite(corr), axis=(-2, -1)) & _all(np.isfinite(fit.loadings), axis=-1)
    r = np.where(valid[:, None, None], corr, np.eye(k))
    implied = np.where(valid[:, None, None], fit.implied(), np.eye(k))
    _, logdet_implied = np.linalg.slogdet(implied)
    sign, logdet_r = np.linalg.slogdet(r)
    trace = np.trace(np.linalg.solve(implied, r), axis1=-2, axis2=-1)
    f = logdet_implied - logdet_r + trace - k
    return np.where(valid & (sign > 0), np.maximum(f, 0.0), np.nan)


def chi_square(discrepancy: Array, n: Array | float, k: int) -> Array:
    """Bartlett-corrected likelihood-ratio statistic for n observations."""
    return (np.asarray(n, dtype=float) - 1.0 - (2 * k + 5) / 6.0 - 2.0 / 3.0) * discrepancy


def rmsea(chi2: Array, df: int, n: Array | float) -> Array:
    return np.sqrt(np.maximum(chi2 - df, 0.0) / (df * (np.asarray(n, dtype=float) - 1.0)))


def _all(values: npt.NDArray[np.bool_], axis: int | tuple[int, ...]) -> npt.NDArray[np.bool_]:
    return np.asarray(values.all(axis=axis), dtype=bool)


def _diag(values: Array) -> Array:
    k = values.shape[-1]
    return values[..., :, None] * np.eye(k)
