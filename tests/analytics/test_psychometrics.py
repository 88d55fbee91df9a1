"""The check-in's own psychometrics, each figure checked against an independent calculation.

Independent means: a hand formula written out here (alpha, omega from loadings, ICC from the ANOVA
table, the cluster-robust sandwich, AUC by comparing every pair), another library (statsmodels'
MixedLM for the ICC, scipy's optimiser for the ML factor fit, scipy's Mann-Whitney U), or the
analytic value of a simulated one-factor model. No expected value comes from running the code under
test.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint

from alliance.analytics import onefactor
from alliance.analytics.auc import delong_auc
from alliance.analytics.clusterboot import resampled_sums
from alliance.analytics.psychometrics import (
    ADEQUATE_CLIENTS,
    CEILING_THRESHOLD,
    ITEMS,
    MIN_CLIENTS,
    MIN_DROPOUTS,
    VALIDATION_COLUMNS,
    Ceiling,
    Dropout,
    InternalConsistency,
    NextOutcome,
    NotShown,
    OneFactor,
    Psychometrics,
    Stability,
    checkin_psychometrics,
    validation_dicts,
    validation_rows,
)
from alliance.analytics.records import ClinicData, EpisodeRecord, ResponseRecord

BASE = datetime(2025, 1, 6, 18, tzinfo=UTC)
START = date(2025, 1, 6)
FAST = 200  # bootstrap resamples where the interval's exact width does not matter


def _client(c: int) -> str:
    return f"C{c:04d}"


def build(
    clients: Sequence[Sequence[Sequence[float]]],
    *,
    outcomes: Sequence[Sequence[float | None]] | None = None,
    end_reasons: Sequence[str] | None = None,
) -> ClinicData:
    """clients[c][s] = (bond, goals, tasks, overall) of client c's check-in at session s + 1.

    One episode per client; outcomes[c][s] the PHQ-9 total before session s + 1 (None: none).
    """
    episodes, responses = [], []
    for c, checkins in enumerate(clients):
        episode = f"E{c:04d}"
        episodes.append(
            EpisodeRecord(
                episode=episode,
                client=_client(c),
                therapist=f"T{c % 3}",
                referred_on=START,
                started_on=START,
                ended_on=START + timedelta(days=200) if end_reasons else None,
                end_reason=end_reasons[c] if end_reasons else "",
            )
        )
        for s, answers in enumerate(checkins):
            responses.append(
                ResponseRecord(
                    episode=episode,
                    instrument="checkin",
                    submitted_at=BASE + timedelta(weeks=s, minutes=c),
                    total=float(np.mean(answers)),
                    session_number=s + 1,
                    items=dict(zip(ITEMS, map(float, answers), strict=True)),
                )
            )
        for s, score in enumerate(outcomes[c] if outcomes else ()):
            if score is not None:
                responses.append(
                    ResponseRecord(
                        episode=episode,
                        instrument="phq9",
                        submitted_at=BASE + timedelta(weeks=s, minutes=c) - timedelta(hours=2),
                        total=float(score),
                        session_number=s + 1,
                    )
                )
    return ClinicData(episodes=tuple(episodes), responses=tuple(responses))


def one_factor_items(
    rng: np.random.Generator,
    clients: int,
    sessions: int,
    loadings: Sequence[float],
    unique_sd: Sequence[float],
    client_share: float = 0.6,
) -> np.ndarray:
    """(clients, sessions, 4) answers from x = 5 + λ·f + e with var(f) = 1.

    f = √share·u_client + √(1 - share)·v_session, so the model holds for every check-in while a
    client's check-ins are correlated (clustered), as real ones are.
    """
    u = rng.normal(size=(clients, 1, 1))
    v = rng.normal(size=(clients, sessions, 1))
    f = math.sqrt(client_share) * u + math.sqrt(1 - client_share) * v
    e = rng.normal(size=(clients, sessions, len(loadings))) * np.asarray(unique_sd)
    return 5.0 + f * np.asarray(loadings) + e


def hand_alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    item_var = sum(np.var(x[:, i], ddof=1) for i in range(k))
    return k / (k - 1) * (1 - item_var / np.var(x.sum(axis=1), ddof=1))


def estimates(value: object) -> list[dict]:
    """Every {value, low, high} estimate in a report's dict."""
    found = []
    if isinstance(value, dict):
        if {"value", "low", "high"} <= value.keys():
            found.append(value)
        for v in value.values():
            found += estimates(v)
    elif isinstance(value, list):
        for v in value:
            found += estimates(v)
    return found


@pytest.fixture(scope="module")
def simulated() -> tuple[ClinicData, np.ndarray]:
    rng = np.random.default_rng(20250106)
    x = one_factor_items(rng, 600, 4, [0.8] * 4, [math.sqrt(0.32)] * 4)
    return build(x.tolist()), x


@pytest.fixture(scope="module")
def simulated_report(simulated: tuple[ClinicData, np.ndarray]) -> Psychometrics:
    return checkin_psychometrics(simulated[0])


# --- internal consistency ----------------------------------------------------------------------


def test_alpha_matches_the_hand_formula_on_first_checkins() -> None:
    rng = np.random.default_rng(1)
    x = np.clip(np.round(one_factor_items(rng, 40, 1, [1.2, 1.0, 0.8, 1.4], [0.9] * 4)), 0, 10)
    report = checkin_psychometrics(build(x.tolist()), resamples=FAST)
    assert isinstance(report.internal_consistency, InternalConsistency)
    assert report.internal_consistency.alpha.value == pytest.approx(hand_alpha(x[:, 0, :]), 1e-12)


def test_alpha_of_a_textbook_table() -> None:
    # Five respondents, three items; worked by hand: item variances 6.8/4 = 1.7, 7.2/4 = 1.8 and
    # 6/4 = 1.5 (sum 5.0); the sums 4, 7, 10, 13, 12 have variance 54.8/4 = 13.7; so
    # alpha = 3/2 · (1 - 5/13.7) = 0.952555...
    x = np.array([[1, 2, 1], [2, 2, 3], [3, 4, 3], [4, 5, 4], [4, 4, 4]], dtype=float)
    got = onefactor.cronbach_alpha(np.cov(x.T)[None])[0]
    assert got == pytest.approx(1.5 * (1 - 5.0 / 13.7), abs=1e-12)


def test_alpha_and_omega_recover_the_analytic_value_of_a_one_factor_model(
    simulated_report: Psychometrics,
) -> None:
    # Equal loadings λ, unique variance ψ, k items. The sum has variance (kλ)² + kψ and the items'
    # variances add to k(λ² + ψ), so alpha = k/(k-1) · (1 - k(λ² + ψ)/(k²λ² + kψ)) = kλ²/(kλ² + ψ);
    # omega = (kλ)²/((kλ)² + kψ) is the same. With λ = 0.8, ψ = 0.32, k = 4: 2.56/2.88.
    truth = 4 * 0.8**2 / (4 * 0.8**2 + 0.32)
    consistency = simulated_report.internal_consistency
    assert isinstance(consistency, InternalConsistency)
    for estimate in (consistency.alpha, consistency.omega):
        assert estimate.low is not None and estimate.high is not None
        assert estimate.low <= truth <= estimate.high
        assert estimate.value == pytest.approx(truth, abs=0.01)


def test_omega_exceeds_alpha_for_unequal_loadings_and_recovers_its_analytic_value() -> None:
    # Congeneric items: alpha is then a lower bound of reliability, omega the reliability itself.
    loadings, unique_sd = [0.4, 0.8, 1.2, 1.6], [0.8, 0.8, 0.8, 0.8]
    common = sum(loadings) ** 2
    truth_omega = common / (common + sum(s**2 for s in unique_sd))
    rng = np.random.default_rng(7)
    x = one_factor_items(rng, 1500, 2, loadings, unique_sd)
    report = checkin_psychometrics(build(x.tolist()), resamples=FAST)
    consistency = report.internal_consistency
    assert isinstance(consistency, InternalConsistency)
    assert consistency.omega.value == pytest.approx(truth_omega, abs=0.01)
    assert consistency.omega.value > consistency.alpha.value + 0.01


def test_omega_is_the_hand_formula_of_the_reported_loadings(
    simulated_report: Psychometrics,
) -> None:
    consistency, factor = simulated_report.internal_consistency, simulated_report.one_factor
    assert isinstance(consistency, InternalConsistency) and isinstance(factor, OneFactor)
    lam = [factor.loadings[i] * consistency.item_sds[i] for i in ITEMS]
    psi = [factor.uniquenesses[i] * consistency.item_sds[i] ** 2 for i in ITEMS]
    assert consistency.omega.value == pytest.approx(sum(lam) ** 2 / (sum(lam) ** 2 + sum(psi)))
    # At the ML solution each unique variance is what the factor leaves of the item's variance.
    for item in ITEMS:
        assert factor.uniquenesses[item] == pytest.approx(1 - factor.loadings[item] ** 2, abs=1e-6)


# --- the one-factor model ------------------------------------------------------------------------


def _ml_by_scipy(r: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimise the ML discrepancy over (λ, ψ) with a general optimiser: (λ, F at the minimum)."""
    k = r.shape[0]
    _, logdet_r = np.linalg.slogdet(r)

    def discrepancy(x: np.ndarray) -> float:
        implied = np.outer(x[:k], x[:k]) + np.diag(x[k:])
        _, logdet = np.linalg.slogdet(implied)
        return logdet + np.trace(r @ np.linalg.inv(implied)) - logdet_r - k

    found = optimize.minimize(
        discrepancy,
        np.r_[np.full(k, 0.7), np.full(k, 0.5)],
        method="L-BFGS-B",
        bounds=[(-1.5, 1.5)] * k + [(onefactor.HEYWOOD_FLOOR, 1.0)] * k,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000},
    )
    return found.x[:k], float(found.fun)


@pytest.mark.parametrize(
    "loadings", [[0.8, 0.85, 0.9, 0.95], [0.5, 0.6, 0.7, 0.8], [0.3, 0.4, 0.5, 0.9]]
)
def test_the_newton_fit_finds_the_ml_solution_a_general_optimiser_finds(
    loadings: list[float],
) -> None:
    rng = np.random.default_rng(3)
    lam = np.asarray(loadings)
    x = rng.normal(size=(400, 1)) * lam + rng.normal(size=(400, 4)) * np.sqrt(1 - lam**2)
    r = np.corrcoef(x.T)
    fit = onefactor.fit_one_factor(r[None])
    want_loadings, want_f = _ml_by_scipy(r)
    assert fit.converged[0]
    assert fit.loadings[0] == pytest.approx(want_loadings, abs=1e-5)
    assert onefactor.ml_discrepancy(r[None], fit)[0] == pytest.approx(want_f, abs=1e-9)


def test_one_factor_statistics_from_their_definitions(simulated_report: Psychometrics) -> None:
    factor = simulated_report.one_factor
    assert isinstance(factor, OneFactor)
    eigenvalues = factor.eigenvalues
    assert sum(eigenvalues) == pytest.approx(4.0)  # the trace of a correlation matrix
    assert factor.eigenvalue_ratio == pytest.approx(eigenvalues[0] / eigenvalues[1])
    assert factor.explained_variance == pytest.approx(
        np.mean([v**2 for v in factor.loadings.values()])
    )
    assert factor.df == 2
    assert factor.chi_square is not None and factor.p_value is not None
    assert factor.p_value == pytest.approx(scipy_stats.chi2.sf(factor.chi_square, 2))
    assert factor.rmsea is not None
    n = factor.checkins
    assert factor.rmsea.value == pytest.approx(
        math.sqrt(max(factor.chi_square - 2, 0) / (2 * (n - 1)))
    )
    # The data follow one factor with loadings 0.8/√(0.64 + 0.32) on the standardised scale.
    for value in factor.loadings.values():
        assert value == pytest.approx(0.8 / math.sqrt(0.96), abs=0.03)
    assert factor.eigenvalue_ratio > 3 and not factor.heywood
    assert "behave like one scale" in factor.interpretation


def test_two_factors_are_not_called_one_scale() -> None:
    # bond+tasks on one factor, goals+overall on another, uncorrelated: no single scale.
    rng = np.random.default_rng(5)
    f1, f2 = rng.normal(size=(500, 1, 1)), rng.normal(size=(500, 1, 1))
    e = rng.normal(size=(500, 1, 4)) * 0.5
    x = 5 + np.concatenate([f1, f2, f1, f2], axis=2) + e
    factor = checkin_psychometrics(build(x.tolist()), resamples=FAST).one_factor
    assert isinstance(factor, OneFactor)
    assert factor.eigenvalue_ratio < 3
    assert "do not clearly behave like one scale" in factor.interpretation


def test_a_heywood_case_is_reported() -> None:
    # For three items λ₁² = r₁₂r₁₃/r₂₃; item 1 correlating .95 with items that correlate .8 with
    # each other needs λ₁² = .95²/.8 > 1: its unique variance hits the floor.
    r = np.full((4, 4), 0.8)
    r[0, 1:] = r[1:, 0] = 0.95
    np.fill_diagonal(r, 1.0)
    assert onefactor.fit_one_factor(r[None]).heywood[0]
    r_ok = np.full((4, 4), 0.5)
    np.fill_diagonal(r_ok, 1.0)
    assert not onefactor.fit_one_factor(r_ok[None]).heywood[0]


# --- stability -------------------------------------------------------------------------------------


def test_stability_recovers_the_simulated_client_share(simulated_report: Psychometrics) -> None:
    # The total is 5 + λf + mean(e): variance λ² + ψ/4 = 0.72, of which λ²·0.6 = 0.384 is the
    # client's. Sessions are otherwise independent, so both the ICC and the correlation of
    # consecutive check-ins are 0.384/0.72.
    truth = 0.6 * 0.8**2 / (0.8**2 + 0.32 / 4)
    stability = simulated_report.stability
    assert isinstance(stability, Stability)
    for estimate in (stability.icc, stability.consecutive_r):
        assert estimate.low is not None and estimate.high is not None
        assert estimate.low <= truth <= estimate.high
    assert stability.pairs == 600 * 3 and stability.pair_clients == 600


def test_consecutive_correlation_matches_numpy_on_the_pairs(simulated) -> None:
    data, x = simulated
    totals = x.mean(axis=2)
    earlier, later = totals[:, :-1].ravel(), totals[:, 1:].ravel()
    report = checkin_psychometrics(data, resamples=FAST)
    assert isinstance(report.stability, Stability)
    assert report.stability.consecutive_r.value == pytest.approx(
        np.corrcoef(earlier, later)[0, 1], abs=1e-12
    )


def test_icc_matches_the_anova_table_and_mixedlm_on_balanced_data() -> None:
    rng = np.random.default_rng(11)
    x = np.clip(np.round(one_factor_items(rng, 40, 5, [1.5] * 4, [1.0] * 4)), 0, 10)
    report = checkin_psychometrics(build(x.tolist()), resamples=FAST)
    assert isinstance(report.stability, Stability)
    totals = x.mean(axis=2)  # 40 clients x 5 check-ins
    n_clients, k = totals.shape
    grand = totals.mean()
    msb = k * ((totals.mean(axis=1) - grand) ** 2).sum() / (n_clients - 1)
    msw = ((totals - totals.mean(axis=1, keepdims=True)) ** 2).sum() / (n_clients * (k - 1))
    anova = (msb - msw) / (msb + (k - 1) * msw)  # Shrout & Fleiss ICC(1,1)
    assert report.stability.icc.value == pytest.approx(anova, abs=1e-12)
    # With balanced data and a positive estimate, REML equals the ANOVA estimator.
    groups = np.repeat(np.arange(n_clients), k)
    fitted = sm.MixedLM(totals.ravel(), np.ones((totals.size, 1)), groups).fit(reml=True)
    between = float(np.asarray(fitted.cov_re)[0, 0])
    assert report.stability.icc.value == pytest.approx(between / (between + fitted.scale), abs=1e-4)


def test_icc_uses_the_unbalanced_average_cluster_size() -> None:
    rng = np.random.default_rng(12)
    sizes = [2, 3, 5, 8] * 10
    clients = [
        np.clip(
            np.round(5 + rng.normal() + rng.normal(size=(n, 1)) + rng.normal(size=(n, 4))), 0, 10
        )
        for n in sizes
    ]
    report = checkin_psychometrics(build([c.tolist() for c in clients]), resamples=FAST)
    assert isinstance(report.stability, Stability)
    totals = [c.mean(axis=1) for c in clients]
    big_n, groups = sum(sizes), len(sizes)
    grand = np.concatenate(totals).mean()
    ssb = sum(len(t) * (t.mean() - grand) ** 2 for t in totals)
    ssw = sum(((t - t.mean()) ** 2).sum() for t in totals)
    msb, msw = ssb / (groups - 1), ssw / (big_n - groups)
    n0 = (big_n - sum(n * n for n in sizes) / big_n) / (groups - 1)
    assert report.stability.icc.value == pytest.approx(
        (msb - msw) / (msb + (n0 - 1) * msw), abs=1e-12
    )


# --- ceiling -------------------------------------------------------------------------------------


def _ceiling_clinic(at_ceiling_clients: int, clients: int = 40) -> ClinicData:
    """`at_ceiling_clients` answer 10 throughout; the others 10 on bond only, 7 elsewhere."""
    rows = []
    for c in range(clients):
        if c < at_ceiling_clients:
            rows.append([[10, 10, 10, 10]] * 3)
        else:
            rows.append([[10, 7, 7 + c % 2, 6], [9, 7, 6, 7], [8, 6 + c % 3, 7, 7]])
    return build(rows)


def test_ceiling_shares_and_flags() -> None:
    report = checkin_psychometrics(_ceiling_clinic(8), resamples=FAST)
    ceiling = report.ceiling
    assert isinstance(ceiling, Ceiling)
    shares = {s.measure: s for s in ceiling.shares}
    # 8 clients x 3 check-ins all 10; the 32 others have bond 10 at their first check-in only.
    assert shares["total"].at_ceiling == 24 and shares["total"].checkins == 120
    assert shares["total"].share.value == pytest.approx(0.2)
    assert shares["total"].flagged  # 20% > 15%
    assert shares["bond"].at_ceiling == 24 + 32 and shares["bond"].flagged
    assert shares["goals"].at_ceiling == 24
    always = ceiling.clients_always_at_ceiling
    assert (always.numerator, always.denominator) == (8, 40)
    assert (always.low, always.high) == pytest.approx(
        proportion_confint(8, 40, alpha=0.05, method="wilson")
    )
    assert ceiling.clients_flagged
    assert "Ceiling effect" in ceiling.interpretation


def test_no_ceiling_flag_at_or_below_the_threshold() -> None:
    # 6 of 40 clients = 15%: not above the threshold.
    ceiling = checkin_psychometrics(_ceiling_clinic(6), resamples=FAST).ceiling
    assert isinstance(ceiling, Ceiling)
    total = next(s for s in ceiling.shares if s.measure == "total")
    assert total.share.value == pytest.approx(CEILING_THRESHOLD)
    assert not total.flagged and not ceiling.clients_flagged


def test_the_cluster_bootstrap_widens_intervals_for_clustered_checkins() -> None:
    # 40 clients with 10 identical check-ins each: 400 check-ins but only 40 independent units.
    # A naive interval over 400 check-ins is too narrow; the cluster bootstrap's width should be
    # close to that of a Wilson interval over the 40 clients.
    rows = [[[10] * 4] * 10 if c < 12 else [[7, 8, 7, 8]] * 10 for c in range(40)]
    ceiling = checkin_psychometrics(build(rows)).ceiling
    assert isinstance(ceiling, Ceiling)
    total = next(s for s in ceiling.shares if s.measure == "total")
    assert total.share.value == pytest.approx(0.3)
    width = total.share.high - total.share.low  # type: ignore[operator]
    naive = np.subtract(*reversed(proportion_confint(120, 400, method="wilson")))
    by_client = np.subtract(*reversed(proportion_confint(12, 40, method="wilson")))
    assert width > 2 * naive
    assert width == pytest.approx(by_client, rel=0.25)


def test_a_clinic_at_ceiling_everywhere_has_undefined_reliability() -> None:
    report = checkin_psychometrics(build([[[10] * 4] * 2] * 35), resamples=FAST)
    assert isinstance(report.internal_consistency, NotShown)
    assert report.internal_consistency.status == "undefined"
    assert isinstance(report.ceiling, Ceiling)
    assert report.ceiling.clients_always_at_ceiling.rate == 1.0


# --- too little data -------------------------------------------------------------------------------


def test_below_the_minimum_every_section_says_not_enough_data() -> None:
    rng = np.random.default_rng(2)
    x = np.clip(np.round(one_factor_items(rng, MIN_CLIENTS - 1, 6, [1.5] * 4, [1.0] * 4)), 0, 10)
    outcomes = rng.integers(5, 20, size=(MIN_CLIENTS - 1, 6)).tolist()
    report = checkin_psychometrics(build(x.tolist(), outcomes=outcomes))
    sections = [
        report.internal_consistency,
        report.one_factor,
        report.stability,
        report.ceiling,
        report.next_outcome,
        report.dropout,
    ]
    for section in sections:
        assert isinstance(section, NotShown)
        assert section.status == "not_enough_data"
        assert "not enough data" in section.reason
    as_dict = report.as_dict()
    assert estimates(as_dict) == []  # no number slips through
    assert as_dict["sample"]["clients"] == MIN_CLIENTS - 1
    assert as_dict["validation_status"] == "not yet validated"
    assert as_dict["sample"]["preliminary"]
    assert any("not yet validated" in line for line in as_dict["caveats"])
    assert any(f"Below {MIN_CLIENTS} clients" in line for line in as_dict["caveats"])


def test_at_the_minimum_figures_are_shown_and_marked_preliminary() -> None:
    rng = np.random.default_rng(2)
    x = np.clip(np.round(one_factor_items(rng, MIN_CLIENTS, 3, [1.5] * 4, [1.0] * 4)), 0, 10)
    report = checkin_psychometrics(build(x.tolist()), resamples=FAST)
    assert isinstance(report.internal_consistency, InternalConsistency)
    assert isinstance(report.one_factor, OneFactor)
    assert isinstance(report.stability, Stability)
    assert isinstance(report.ceiling, Ceiling)
    assert report.sample.preliminary and report.sample.clients < ADEQUATE_CLIENTS


def test_incomplete_and_therapist_checkins_are_left_out() -> None:
    rng = np.random.default_rng(4)
    x = np.clip(np.round(one_factor_items(rng, 30, 2, [1.5] * 4, [1.0] * 4)), 0, 10)
    data = build(x.tolist())
    extra = [
        ResponseRecord("E0000", "checkin", BASE, None, 9, items={"bond": 5, "goals": 5}),
        ResponseRecord(
            "E0000", "checkin", BASE, None, 9, items={**dict.fromkeys(ITEMS, 5), "bond": 11}
        ),
        ResponseRecord(
            "E0000", "checkin-therapist", BASE, 5, 9, "therapist", dict.fromkeys(ITEMS, 5.0)
        ),
        ResponseRecord("E0000", "checkin", BASE, 5, 9, "therapist", dict.fromkeys(ITEMS, 5.0)),
    ]
    with_extra = ClinicData(data.episodes, (), (*data.responses, *extra))
    report, plain = (
        checkin_psychometrics(with_extra, resamples=FAST),
        checkin_psychometrics(data, resamples=FAST),
    )
    assert report.sample.incomplete == 2
    assert report.sample.checkins == plain.sample.checkins == 60
    assert report.internal_consistency == plain.internal_consistency


# --- predictive validity ---------------------------------------------------------------------------


def _predictive_clinic(seed: int, clients: int = 300, sessions: int = 6) -> tuple[ClinicData, list]:
    """Next PHQ-9 = 3 + 0.7·PHQ-9 now - 0.5·check-in now + client effect + noise."""
    rng = np.random.default_rng(seed)
    checkins, outcomes = [], []
    for _ in range(clients):
        level, client_effect = rng.normal(7, 1.2), rng.normal(0, 1.5)
        items = np.clip(
            level + rng.normal(0, 1, size=(sessions, 1)) + rng.normal(0, 0.5, size=(sessions, 4)),
            0,
            10,
        )
        totals = items.mean(axis=1)
        phq = [float(rng.normal(16, 4))]
        for s in range(1, sessions):
            phq.append(3 + 0.7 * phq[-1] - 0.5 * totals[s - 1] + client_effect + rng.normal(0, 2))
        checkins.append(items.tolist())
        outcomes.append(phq)
    return build(checkins, outcomes=outcomes), checkins


def test_next_outcome_recovers_the_simulated_effect() -> None:
    data, _ = _predictive_clinic(21)
    result = checkin_psychometrics(data, resamples=FAST).next_outcome
    assert isinstance(result, NextOutcome)
    b = result.checkin_coefficient
    assert b.low is not None and b.high is not None
    assert b.low <= -0.5 <= b.high
    assert result.pairs == 300 * 5 and result.clients == 300
    assert "better next score" in result.interpretation


def test_next_outcome_coefficients_and_cluster_sandwich_by_hand() -> None:
    data, _ = _predictive_clinic(22, clients=60, sessions=4)
    result = checkin_psychometrics(data, resamples=FAST).next_outcome
    assert isinstance(result, NextOutcome)
    # Rebuild the rows from the records, independently of the module.
    by_key = {(r.episode, r.instrument, r.session_number): r.total for r in data.responses}
    rows = []
    for e, episode in enumerate(sorted({r.episode for r in data.responses})):
        for s in range(1, 4):
            rows.append(
                (
                    by_key[(episode, "checkin", s)],
                    by_key[(episode, "phq9", s)],
                    by_key[(episode, "phq9", s + 1)],
                    e,
                )
            )
    table = np.array(rows)
    x = np.column_stack([np.ones(len(table)), table[:, 0], table[:, 1]])
    y, groups = table[:, 2], table[:, 3].astype(int)
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    residual = y - x @ beta
    meat = sum(
        np.outer(x[groups == g].T @ residual[groups == g], x[groups == g].T @ residual[groups == g])
        for g in np.unique(groups)
    )
    n, k, g = len(y), 3, len(np.unique(groups))
    correction = g / (g - 1) * (n - 1) / (n - k)  # the usual CR1 small-sample factor
    se = np.sqrt(np.diag(correction * bread @ meat @ bread))
    assert result.checkin_coefficient.value == pytest.approx(beta[1], abs=1e-10)
    assert result.outcome_now_coefficient == pytest.approx(beta[2], abs=1e-10)
    assert result.checkin_se == pytest.approx(se[1], rel=1e-8)


def _dropout_clinic(seed: int, episodes: int = 400, slope: float = -0.8) -> ClinicData:
    """log-odds(dropout) = -1.6 + slope·(early mean check-in - 7), each episode three check-ins."""
    rng = np.random.default_rng(seed)
    checkins, reasons = [], []
    for _ in range(episodes):
        items = np.clip(np.round(rng.normal(7, 1.5) + rng.normal(0, 0.4, size=(3, 4))), 0, 10)
        early = items.mean()
        p = 1 / (1 + math.exp(-(-1.6 + slope * (early - 7))))
        reasons.append("dropout" if rng.random() < p else "planned")
        checkins.append(items.tolist())
    return build(checkins, end_reasons=reasons)


def test_dropout_recovers_the_simulated_odds_ratio_and_auc_by_pairs() -> None:
    data = _dropout_clinic(31)
    result = checkin_psychometrics(data, resamples=FAST).dropout
    assert isinstance(result, Dropout)
    assert result.odds_ratio is not None
    assert result.odds_ratio.low <= math.exp(-0.8) <= result.odds_ratio.high  # type: ignore[operator]
    # AUC by comparing every dropout with every planned ending (ties count half).
    means: dict[str, list] = {}
    for r in data.responses:
        means.setdefault(r.episode, []).append(r.total)
    ending = {e.episode: e.end_reason for e in data.episodes}
    drop = [np.mean(v) for k, v in means.items() if ending[k] == "dropout"]
    kept = [np.mean(v) for k, v in means.items() if ending[k] == "planned"]
    pairs = [(1.0 if d < p else 0.5 if d == p else 0.0) for d in drop for p in kept]
    assert result.auc.value == pytest.approx(np.mean(pairs), abs=1e-12)
    assert (result.dropouts, result.planned) == (len(drop), len(kept))
    assert result.auc.value > 0.6


def test_no_dropout_effect_is_said_plainly() -> None:
    result = checkin_psychometrics(_dropout_clinic(33, slope=0.0), resamples=FAST).dropout
    assert isinstance(result, Dropout) and result.odds_ratio is not None
    assert result.auc.low <= 0.5 <= result.auc.high  # type: ignore[operator]
    assert result.odds_ratio.low <= 1.0 <= result.odds_ratio.high  # type: ignore[operator]
    assert "does not show that the early check-in predicts dropout" in result.interpretation


def test_perfect_separation_keeps_the_auc_and_says_why_there_is_no_odds_ratio() -> None:
    rows = [[[3, 3, 3, 3]] * 3] * 15 + [[[8, 8, 8, 8]] * 3] * 20
    reasons = ["dropout"] * 15 + ["planned"] * 20
    result = checkin_psychometrics(build(rows, end_reasons=reasons), resamples=FAST).dropout
    assert isinstance(result, Dropout)
    assert result.odds_ratio is None and "separates" in result.model_note
    assert result.auc.value == 1.0


def test_dropout_needs_enough_events_in_each_group() -> None:
    data = _dropout_clinic(32, episodes=300)
    reasons = [e.end_reason for e in data.episodes]
    dropouts = reasons.count("dropout")
    # Make all but MIN_DROPOUTS - 1 dropouts planned endings.
    keep = MIN_DROPOUTS - 1
    episodes = []
    for e in data.episodes:
        if e.end_reason == "dropout":
            if keep == 0:
                e = EpisodeRecord(**{**e.__dict__, "end_reason": "planned"})
            else:
                keep -= 1
        episodes.append(e)
    assert dropouts >= MIN_DROPOUTS
    result = checkin_psychometrics(
        ClinicData(tuple(episodes), (), data.responses), resamples=FAST
    ).dropout
    assert isinstance(result, NotShown) and result.have == MIN_DROPOUTS - 1


def test_delong_matches_mann_whitney_and_a_brute_force_variance() -> None:
    rng = np.random.default_rng(41)
    pos = np.round(rng.normal(1, 1, 37), 1)
    neg = np.round(rng.normal(0, 1, 53), 1)  # rounding makes ties
    got = delong_auc(pos, neg)
    u = scipy_stats.mannwhitneyu(pos, neg).statistic
    assert got.auc == pytest.approx(u / (len(pos) * len(neg)), abs=1e-12)
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)
    assert got.se == pytest.approx(math.sqrt(var), abs=1e-12)


# --- properties ------------------------------------------------------------------------------------


answers = st.lists(st.integers(0, 10), min_size=4, max_size=4)
clinics = st.lists(st.lists(answers, min_size=1, max_size=4), min_size=6, max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(-50, 50), min_size=4, max_size=4), min_size=3, max_size=30))
def test_alpha_never_exceeds_one(rows: list[list[float]]) -> None:
    x = np.asarray(rows)
    alpha = onefactor.cronbach_alpha(np.cov(x.T)[None])[0]
    assert np.isnan(alpha) or alpha <= 1 + 1e-9


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 10), min_size=4, max_size=4), min_size=5, max_size=30),
    st.permutations(range(4)),
)
def test_alpha_and_omega_do_not_depend_on_item_order(rows, order) -> None:
    x = np.asarray(rows, dtype=float)
    cov, permuted = np.cov(x.T)[None], np.cov(x[:, order].T)[None]
    a, b = onefactor.cronbach_alpha(cov), onefactor.cronbach_alpha(permuted)
    assert np.allclose(a, b, equal_nan=True)
    corr, sd = onefactor.correlation(cov)
    corr_p, sd_p = onefactor.correlation(permuted)
    if np.isfinite(corr).all() and np.linalg.matrix_rank(corr[0]) == 4:
        omega = onefactor.mcdonald_omega(onefactor.fit_one_factor(corr), sd)
        omega_p = onefactor.mcdonald_omega(onefactor.fit_one_factor(corr_p), sd_p)
        assert omega == pytest.approx(omega_p, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(clinics, st.randoms(use_true_random=False))
def test_report_properties(rows: list[list[list[int]]], shuffler: random.Random) -> None:
    data = build(rows)
    report = checkin_psychometrics(data, min_clients=3, resamples=50)
    as_dict = report.as_dict()
    # Plain JSON, and every interval holds its estimate.
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    for estimate in estimates(as_dict):
        if estimate["low"] is not None:
            assert estimate["low"] - 1e-12 <= estimate["value"] <= estimate["high"] + 1e-12
    if isinstance(report.internal_consistency, InternalConsistency):
        assert report.internal_consistency.alpha.value <= 1 + 1e-12
        assert report.internal_consistency.omega.value <= 1 + 1e-12
    if isinstance(report.ceiling, Ceiling):
        for share in report.ceiling.shares:
            assert 0 <= share.share.value <= 1
    # The order in which records arrive changes nothing.
    responses = list(data.responses)
    shuffler.shuffle(responses)
    episodes = list(data.episodes)
    shuffler.shuffle(episodes)
    again = checkin_psychometrics(
        ClinicData(tuple(episodes), (), tuple(responses)), min_clients=3, resamples=50
    )
    assert again.as_dict() == as_dict


def test_resampled_sums_draw_whole_clients() -> None:
    # Each resample draws as many clients as there are, so a column of ones sums to C; and a client
    # is drawn whole: with two columns equal per client, the resampled sums stay equal.
    stats = np.column_stack([np.ones(25), np.arange(25.0), np.arange(25.0)])
    sums = resampled_sums(stats, resamples=300, seed=5)
    assert (sums[:, 0] == 25).all()
    assert np.array_equal(sums[:, 1], sums[:, 2])
    assert sums[:, 1].mean() == pytest.approx(25 * 12, rel=0.02)  # unbiased for the total
    assert np.array_equal(sums, resampled_sums(stats, resamples=300, seed=5))  # seeded


# --- export for a validation study -----------------------------------------------------------------


def test_validation_rows() -> None:
    data = build([[[8, 7, 9, 8], [9, 9, 9, 9]], [[5, 6, 5, 4]]], outcomes=[[14, None], [20]])
    second_episode = EpisodeRecord("E9", "C0000", "T1", START, START + timedelta(days=100))
    incomplete = ResponseRecord(
        "E9", "checkin", BASE + timedelta(days=107), None, 2, items={"bond": 7, "goals": 6}
    )
    unknown_episode = ResponseRecord("E404", "checkin", BASE, 5.0, 1, items=dict.fromkeys(ITEMS, 5))
    data = ClinicData(
        (*data.episodes, second_episode), (), (*data.responses, incomplete, unknown_episode)
    )
    rows = validation_rows(data, pseudonym=lambda client: "P-" + client[::-1])
    assert [r.client for r in rows] == ["P-0000C"] * 3 + ["P-1000C"]
    first, second, later, other = rows
    assert (first.episode, first.session, first.day) == (1, 1, 0)
    assert (first.bond, first.goals, first.tasks, first.overall, first.total) == (8, 7, 9, 8, 8.0)
    assert first.outcome == 14 and second.outcome is None and other.outcome == 20
    assert second.day == 7
    assert (later.episode, later.session, later.day) == (2, 2, 107)
    assert (later.tasks, later.total) == (None, None)
    assert first.episode_end == ""
    dicts = validation_dicts(rows)
    assert list(dicts[0]) == list(VALIDATION_COLUMNS)
    text = json.dumps(dicts)
    assert "C0000" not in text and "E9" not in text  # no internal id leaves
