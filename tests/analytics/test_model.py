"""The relationship model (alliance.analytics.model and its REML engine, reml.py).

Checks, each against something other than the code under test:
- statsmodels MixedLM with the exact call of docs/clinical.md (estimates, SEs, variance components,
  REML log-likelihood), concurrent and lagged, on small and medium data;
- the REML criterion and its derivatives against a dense-matrix computation from the definition;
- recovery of simulated effects, and the calibration of the 95% intervals over many seeds;
- invariances with hypothesis (shifts, scale, relabelling, row order);
- data handling: dropped rows counted, the lagged check-in, too little data, words and JSON.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from alliance.analytics import reml
from alliance.analytics.frames import session_frame
from alliance.analytics.model import (
    PUBLISHED_ALLIANCE_R,
    TERMS,
    RelationshipModel,
    lagged_checkin,
    relationship_model,
)
from alliance.analytics.simulate import simulate, to_clinic_data
from tests.analytics.model_reference import design, statsmodels_fit, with_previous_checkin

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _estimates(m: RelationshipModel) -> np.ndarray:
    return np.array([m.fixed_effects[t].estimate for t in TERMS])


def _ses(m: RelationshipModel) -> np.ndarray:
    # statsmodels' convention (see model.py): compared with statsmodels' own bse.
    return np.array([m.fixed_effects[t].se_joint for t in TERMS])


def _vc(m: RelationshipModel) -> np.ndarray:
    return np.array([m.variance_components[k] for k in ("therapist", "client", "residual")])


# ----------------------------------------------------------------------------- statsmodels


@pytest.mark.parametrize(
    ("episodes", "therapists", "seed"), [(120, 6, 11), (400, 25, 12)], ids=["small", "medium"]
)
def test_equals_statsmodels_mixedlm(episodes: int, therapists: int, seed: int) -> None:
    clinic = simulate(episodes=episodes, therapists=therapists, seed=seed)
    ref = statsmodels_fit(design(clinic.responses))
    ours = relationship_model(clinic.responses, lagged=False)

    np.testing.assert_allclose(_estimates(ours), ref.fe_params[list(TERMS)].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(_ses(ours), ref.bse_fe[list(TERMS)].to_numpy(), atol=1e-6)
    ref_vc = [float(ref.cov_re.iloc[0, 0]), float(ref.vcomp[0]), float(ref.scale)]
    np.testing.assert_allclose(_vc(ours), ref_vc, rtol=1e-5)
    assert ours.fit is not None
    assert -ours.fit.reml_criterion / 2 == pytest.approx(ref.llf, abs=1e-6)
    assert ours.n_observations == ref.nobs
    assert ours.converged and ours.warning == ""


def test_lagged_model_equals_statsmodels_on_the_previous_checkin() -> None:
    clinic = simulate(episodes=150, therapists=8, seed=21, lagged=True)
    frame = with_previous_checkin(clinic.responses)
    ref = statsmodels_fit(design(frame, alliance="previous"))
    ours = relationship_model(clinic.responses).lagged
    assert ours is not None and ours.predictor == "previous_checkin"
    np.testing.assert_allclose(_estimates(ours), ref.fe_params[list(TERMS)].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(_ses(ours), ref.bse_fe[list(TERMS)].to_numpy(), atol=1e-6)
    assert ours.n_observations == ref.nobs
    assert ours.n_dropped == len(clinic.responses) - ref.nobs


def test_one_therapist_is_a_client_random_intercept_model() -> None:
    clinic = simulate(episodes=60, therapists=1, seed=5)
    df = design(clinic.responses)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # see model_reference.statsmodels_fit
        ref = smf.mixedlm("y ~ a_within + a_between + log_session", df, groups="client").fit(
            reml=True, method=["bfgs"], gtol=1e-12, maxiter=2000
        )
    ours = relationship_model(clinic.responses, lagged=False)
    np.testing.assert_allclose(_estimates(ours), ref.fe_params[list(TERMS)].to_numpy(), atol=1e-6)
    assert ours.variance_components["therapist"] == 0.0
    assert ours.variance_components["client"] == pytest.approx(
        float(ref.cov_re.iloc[0, 0]), rel=1e-5
    )
    assert "one therapist" in ours.warning


# ----------------------------------------------------------------------------- the algebra


def _dense_criterion(y, X, therapist, client, gamma):
    """-2 REML log-likelihood (without the constant), straight from the definition."""
    n = y.size
    Zt = (therapist[:, None] == np.unique(therapist)[None, :]).astype(float)
    pair = therapist * 10_000 + client
    Zc = (pair[:, None] == np.unique(pair)[None, :]).astype(float)
    H = np.eye(n) + gamma[0] * Zt @ Zt.T + gamma[1] * Zc @ Zc.T
    Hi = np.linalg.inv(H)
    C = X.T @ Hi @ X
    beta = np.linalg.solve(C, X.T @ Hi @ y)
    r = y - X @ beta
    df = n - X.shape[1]
    return df * math.log(r @ Hi @ r / df) + np.linalg.slogdet(H)[1] + np.linalg.slogdet(C)[1]


def test_criterion_and_derivatives_match_the_dense_definition() -> None:
    clinic = simulate(episodes=25, therapists=4, seed=3, missing_checkin=0.0, missing_outcome=0.0)
    df = design(clinic.responses)
    y = df["y"].to_numpy()
    X = np.column_stack([np.ones(len(df)), df["a_within"], df["a_between"], df["log_session"]])
    therapist = pd.factorize(df["therapist"], sort=True)[0]
    client = pd.factorize(df["client"])[0]
    stats = reml._stats(y, X, therapist, client, int(therapist.max()) + 1)
    for gamma in (np.array([0.3, 1.7]), np.array([0.0, 0.4]), np.array([2.0, 0.05])):
        ev = reml._evaluate(gamma, stats)
        assert ev.value == pytest.approx(_dense_criterion(y, X, therapist, client, gamma), abs=1e-8)
        h = 1e-6
        for k in range(2):
            step = np.zeros(2)
            step[k] = h
            up = _dense_criterion(y, X, therapist, client, gamma + step)
            down = _dense_criterion(y, X, therapist, client, np.maximum(gamma - step, 0))
            width = 2 * h if gamma[k] >= h else h
            assert ev.grad[k] == pytest.approx((up - down) / width, rel=1e-4, abs=1e-4)
            # Hessian row by central differences of the (independently checked) gradient.
            g_up = reml._evaluate(gamma + step, stats).grad
            g_down = reml._evaluate(np.maximum(gamma - step, 0), stats).grad
            np.testing.assert_allclose(
                ev.hess_profiled[k], (g_up - g_down) / width, rtol=1e-4, atol=1e-3
            )


def test_conditional_se_is_the_gls_covariance_at_the_fitted_variances() -> None:
    clinic = simulate(episodes=40, therapists=5, seed=14)
    m = relationship_model(clinic.responses, lagged=False)
    df = design(clinic.responses)
    X = np.column_stack([np.ones(len(df)), df["a_within"], df["a_between"], df["log_session"]])
    same_therapist = df["therapist"].to_numpy()[:, None] == df["therapist"].to_numpy()[None, :]
    key = (df["therapist"] + "/" + df["client"]).to_numpy()
    same_client = key[:, None] == key[None, :]
    vc = m.variance_components
    V = (
        vc["therapist"] * same_therapist
        + vc["client"] * same_client
        + vc["residual"] * np.eye(len(df))
    )
    cov = np.linalg.inv(X.T @ np.linalg.solve(V, X))
    np.testing.assert_allclose(
        [m.fixed_effects[t].se for t in TERMS], np.sqrt(np.diag(cov)), rtol=1e-8
    )


# ----------------------------------------------------------------------------- recovery


def test_recovers_the_simulated_effects_within_their_intervals() -> None:
    clinic = simulate(episodes=3000, therapists=100, seed=2026)
    m = relationship_model(clinic.responses, lagged=False)
    truth = clinic.truth
    for term, value in truth["fixed_effects"].items():
        fe = m.fixed_effects[term]
        assert fe.low <= value <= fe.high, (term, fe, value)
    for name, value in truth["variance_components"].items():
        # No interval is reported for variances; 100 therapists put the therapist variance
        # within about ±30% (two standard errors), the others within a few per cent.
        tolerance = 0.35 if name == "therapist" else 0.08
        assert m.variance_components[name] == pytest.approx(value, rel=tolerance), name


def test_lagged_model_recovers_a_lagged_truth() -> None:
    clinic = simulate(episodes=3000, therapists=60, seed=7, lagged=True)
    lagged = relationship_model(clinic.responses).lagged
    assert lagged is not None
    for term, value in clinic.truth["fixed_effects"].items():
        fe = lagged.fixed_effects[term]
        assert fe.low <= value <= fe.high, (term, fe, value)


def test_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    # 30 independent clinics: each term's interval should miss about 1.5 times. Fewer than 24
    # hits out of 30 has probability below 0.2% for a correct 95% interval, while intervals
    # half as wide as they should be would cover only about 68%.
    hits = dict.fromkeys(TERMS, 0)
    for seed in range(30):
        clinic = simulate(episodes=500, therapists=20, seed=1000 + seed)
        m = relationship_model(clinic.responses, lagged=False)
        for term, value in clinic.truth["fixed_effects"].items():
            hits[term] += m.fixed_effects[term].low <= value <= m.fixed_effects[term].high
    assert all(count >= 24 for count in hits.values()), hits


# ----------------------------------------------------------------------------- invariances


@FAST
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50, allow_nan=False))
def test_adding_a_constant_to_outcomes_shifts_only_the_intercept(seed: int, shift: float) -> None:
    clinic = simulate(episodes=40, therapists=5, seed=seed)
    base = relationship_model(clinic.responses, lagged=False)
    moved = clinic.responses.assign(outcome=clinic.responses["outcome"] + shift)
    other = relationship_model(moved, lagged=False)
    assert other.fixed_effects["Intercept"].estimate == pytest.approx(
        base.fixed_effects["Intercept"].estimate + shift, abs=1e-6
    )
    np.testing.assert_allclose(_estimates(other)[1:], _estimates(base)[1:], atol=1e-6)
    np.testing.assert_allclose(_ses(other), _ses(base), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(_vc(other), _vc(base), rtol=1e-5, atol=1e-8)


@FAST
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 10))
def test_rescaling_outcomes_rescales_effects_and_variances(seed: int, scale: float) -> None:
    clinic = simulate(episodes=40, therapists=5, seed=seed)
    base = relationship_model(clinic.responses, lagged=False)
    scaled = relationship_model(
        clinic.responses.assign(outcome=clinic.responses["outcome"] * scale), lagged=False
    )
    np.testing.assert_allclose(_estimates(scaled), _estimates(base) * scale, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_ses(scaled), _ses(base) * scale, rtol=1e-4)
    np.testing.assert_allclose(_vc(scaled), _vc(base) * scale**2, rtol=1e-4, atol=1e-7)


@FAST
@given(seed=st.integers(0, 10_000), data=st.data())
def test_relabelling_therapists_and_reordering_rows_change_nothing(
    seed: int, data: st.DataObject
) -> None:
    clinic = simulate(episodes=40, therapists=6, seed=seed)
    frame = clinic.responses.assign(therapist=clinic.responses["therapist"].astype(str))
    labels = sorted(frame["therapist"].unique())
    new = data.draw(st.permutations([f"x{k}" for k in range(len(labels))]))
    relabelled = frame.assign(therapist=frame["therapist"].map(dict(zip(labels, new, strict=True))))
    order = data.draw(st.permutations(range(len(frame))))
    shuffled = relabelled.iloc[list(order)]
    base = relationship_model(frame)
    other = relationship_model(shuffled)
    np.testing.assert_allclose(_estimates(other), _estimates(base), atol=1e-6)
    np.testing.assert_allclose(_ses(other), _ses(base), rtol=1e-5)
    np.testing.assert_allclose(_vc(other), _vc(base), rtol=1e-5, atol=1e-8)
    assert other.lagged is not None and base.lagged is not None
    np.testing.assert_allclose(_estimates(other.lagged), _estimates(base.lagged), atol=1e-6)


@FAST
@given(
    seed=st.integers(0, 10_000),
    therapist_sd=st.sampled_from([0.0, 0.3, 2.0]),
    client_sd=st.sampled_from([0.0, 1.0, 4.0]),
)
def test_variances_are_never_negative_and_intervals_hold_their_estimate(
    seed: int, therapist_sd: float, client_sd: float
) -> None:
    clinic = simulate(
        episodes=30, therapists=4, seed=seed, therapist_sd=therapist_sd, client_sd=client_sd
    )
    m = relationship_model(clinic.responses)
    for fit in (m, m.lagged):
        assert fit is not None and fit.fitted
        assert all(v >= 0 for v in fit.variance_components.values())
        for fe in fit.fixed_effects.values():
            assert fe.se > 0 and fe.low <= fe.estimate <= fe.high
        if fit.fit is not None and fit.fit.boundary:
            assert "boundary" in fit.warning


# ----------------------------------------------------------------------------- data handling


def test_rows_missing_either_measure_are_dropped_and_counted() -> None:
    clinic = simulate(episodes=80, therapists=5, seed=9, missing_outcome=0.2, missing_checkin=0.2)
    frame = clinic.responses
    complete = frame.dropna(subset=["outcome", "checkin"])
    m = relationship_model(frame, lagged=False)
    assert m.n_dropped == len(frame) - len(complete) > 0
    clean = relationship_model(complete, lagged=False)
    np.testing.assert_allclose(_estimates(m), _estimates(clean), atol=1e-9)
    assert m.n_observations == len(complete)
    assert m.n_clients == complete["client"].nunique()


def test_lagged_checkin_is_the_previous_rows_checkin_of_the_same_client() -> None:
    frame = pd.DataFrame(
        {
            "therapist": ["t1", "t1", "t1", "t1", "t2", "t1"],
            "client": ["a", "a", "a", "b", "a", "a"],
            "session": [3, 1, 2, 1, 2, 4],
            "outcome": [10.0, 12.0, 11.0, 9.0, 8.0, 7.0],
            "checkin": [6.0, 5.0, np.nan, 8.0, 9.0, 7.0],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    previous = lagged_checkin(frame)
    # a with t1: sessions 1 (5.0), 2 (missing), 3 (6.0), 4 (7.0). b: only session 1.
    # a with t2 is another client (another therapist's): no earlier session.
    expected = pd.Series([np.nan, np.nan, 5.0, np.nan, np.nan, 6.0], index=frame.index)
    pd.testing.assert_series_equal(previous, expected, check_names=False)


def test_too_little_data_gives_a_reason_not_an_exception() -> None:
    frame = pd.DataFrame(
        {
            "therapist": ["t"] * 3,
            "client": ["a", "a", "b"],
            "session": [1, 2, 1],
            "outcome": [10.0, 9.0, 12.0],
            "checkin": [7.0, 8.0, np.nan],
        }
    )
    m = relationship_model(frame)
    assert not m.fitted and not m.converged
    assert "too few" in m.warning and m.n_dropped == 1
    assert m.sentences and "could not be fitted" in m.sentences[0]
    json.dumps(m.as_dict())


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="checkin"):
        relationship_model(
            pd.DataFrame({"therapist": [], "client": [], "session": [], "outcome": []})
        )


def test_output_is_json_with_exactly_the_model_terms() -> None:
    m = relationship_model(simulate(episodes=200, therapists=8, seed=1).responses)
    data = json.loads(json.dumps(m.as_dict()))
    assert list(data["fixed_effects"]) == ["Intercept", "a_within", "a_between", "log_session"]
    assert set(data["fixed_effects"]["a_within"]) == {
        "estimate",
        "se",
        "low",
        "high",
        "se_joint",
    }
    assert set(data["variance_components"]) == {"therapist", "client", "residual"}
    assert data["lagged"]["predictor"] == "previous_checkin"
    assert data["lagged"]["lagged"] is None
    assert data["comparison"]["published_r"] == PUBLISHED_ALLIANCE_R


def test_words_follow_the_sign_of_the_estimate_and_compare_honestly() -> None:
    m = relationship_model(simulate(episodes=600, therapists=10, seed=4).responses, lagged=False)
    within = m.fixed_effects["a_within"]
    assert within.high < 0
    text = " ".join(m.sentences)
    assert f"{-within.estimate:.2f} points lower" in text
    assert "r = .28" in text and "different quantity" in text and "expected direction" in text

    worse = simulate(episodes=600, therapists=10, seed=4, within=0.8)
    m2 = relationship_model(worse.responses, lagged=False)
    assert m2.fixed_effects["a_within"].low > 0
    text2 = " ".join(m2.sentences)
    assert "points higher" in text2 and "NOT in the expected direction" in text2


def test_partial_correlation_is_t_over_root_t2_plus_df() -> None:
    m = relationship_model(simulate(episodes=300, therapists=10, seed=8).responses, lagged=False)
    fe = m.fixed_effects["a_within"]
    t = fe.estimate / fe.se
    df = m.n_observations - m.n_clients - 2
    assert m.comparison["within_partial_r"] == pytest.approx(-math.sqrt(t * t / (t * t + df)))


def test_session_frame_from_records_matches_the_simulation() -> None:
    clinic = simulate(episodes=60, therapists=4, seed=2)
    records = to_clinic_data(clinic)
    frame = session_frame(records)
    expected = clinic.responses.dropna(subset=["outcome", "checkin"], how="all")
    assert len(frame) == len(expected)
    merged = frame.merge(
        expected.assign(episode=expected["episode"].astype(str)),
        on=["episode", "session"],
        suffixes=("", "_sim"),
    )
    assert len(merged) == len(frame)
    np.testing.assert_allclose(merged["outcome"], merged["outcome_sim"], equal_nan=True)
    np.testing.assert_allclose(merged["checkin"], merged["checkin_sim"], equal_nan=True)
    assert (merged["therapist"] == merged["therapist_sim"].astype(str)).all()
    a = relationship_model(frame, lagged=False)
    b = relationship_model(clinic.responses, lagged=False)
    np.testing.assert_allclose(_estimates(a), _estimates(b), atol=1e-9)
