"""Expected-recovery curves: fitting (MixedLM), fallback, serialisation, speed."""

import json
import pickle
import random
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.alerts import AlertSettings, TrajectoryModel, default_trajectory, fit_trajectory
from tests.alerts.builders import synthetic_clinic

# The fit's figures below are checked at the classic 75th/90th percentiles (docs/clinical.md).
CFG = AlertSettings(
    trajectory_instruments=("phq9",),
    not_on_track_yellow_percentile=75.0,
    not_on_track_red_percentile=90.0,
)


@pytest.fixture(scope="module")
def clinic():
    return synthetic_clinic(200, seed=11)


@pytest.fixture(scope="module")
def fitted(clinic):
    return fit_trajectory(clinic, "phq9", CFG)


def test_fit_recovers_known_coefficients(fitted):
    # Truth: b0 16, b1 -3, intake 0.8, intake x log(s) -0.15 (intake centred near 16);
    # client intercept SD 2 and noise SD 2, so the marginal residual SD is 2.83.
    assert fitted.source == "clinic"
    assert fitted.n_episodes == 200 and fitted.n_fitted_episodes == 200
    assert abs(fitted.intake_centre - 16) < 1
    at_16 = fitted.b0 + fitted.b_intake * (16 - fitted.intake_centre)
    slope_16 = fitted.b1 + fitted.b_intake_log * (16 - fitted.intake_centre)
    assert at_16 == pytest.approx(16, abs=0.8)
    assert slope_16 == pytest.approx(-3, abs=0.5)
    assert fitted.b_intake == pytest.approx(0.8, abs=0.15)
    assert fitted.b_intake_log == pytest.approx(-0.15, abs=0.1)
    assert fitted.random_intercept_var == pytest.approx(4, abs=1.5)
    assert fitted.residual_var == pytest.approx(4, abs=0.8)
    # Normal percentiles of the marginal residual: 0.674 x 2.83 and 1.28 x 2.83.
    assert fitted.q_yellow == pytest.approx(1.91, abs=0.4)
    assert fitted.q_red == pytest.approx(3.62, abs=0.5)
    assert fitted.q_red > fitted.q_yellow > 0
    # The data follow the model, so the own-deviation z is standard normal: its 75th/90th
    # percentiles are near 0.674 and 1.28; the jump boundary (97.5th) near 1.96 x 2.83.
    assert fitted.own_yellow_z == pytest.approx(0.674, abs=0.2)  # 200 clients: loose
    assert fitted.own_red_z == pytest.approx(1.28, abs=0.2)
    assert fitted.q_jump == pytest.approx(5.54, abs=0.8)
    assert "200 episodes" in fitted.reason


def test_expected_curve_falls_with_sessions_and_rises_with_intake(fitted):
    curve = fitted.expected([2, 4, 8, 12], intake=18)
    assert np.all(np.diff(curve) < 0)
    assert fitted.expected([6], intake=20)[0] > fitted.expected([6], intake=12)[0]


def test_curve_is_held_flat_beyond_the_last_well_populated_session(fitted):
    assert fitted.max_session <= 12
    assert fitted.expected([fitted.max_session], 16)[0] == fitted.expected([40], 16)[0]


def test_fallback_with_too_few_completed_episodes():
    model = fit_trajectory(synthetic_clinic(10, seed=2), "phq9", CFG)
    assert model.source == "default"
    assert model.n_episodes == 10
    assert "too few completed episodes" in model.reason and "30 and 150 needed" in model.reason


def test_episodes_in_progress_are_not_used_for_fitting():
    open_episodes = synthetic_clinic(60, seed=2, completed=False)
    assert fit_trajectory(open_episodes, "phq9", CFG).source == "default"


def test_fallback_when_the_fit_fails(monkeypatch, clinic):
    from statsmodels.regression.mixed_linear_model import MixedLM

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(MixedLM, "fit", broken)
    model = fit_trajectory(clinic, "phq9", CFG)
    assert model.source == "default"
    assert "did not converge" in model.reason and "LinAlgError" in model.reason


def test_default_curve_is_the_documented_formula():
    model = default_trajectory("phq9", CFG, "test")
    # expected = intake x (1 - 0.4 log(s)/log(12)); boundaries z x 4.5.
    assert model.expected([1, 12], 20).tolist() == pytest.approx([20, 12])
    assert model.q_yellow == pytest.approx(0.6745 * 4.5, abs=1e-3)
    assert model.q_red == pytest.approx(1.2816 * 4.5, abs=1e-3)
    # The own-deviation split: 65% of the variance is the client's, 35% noise (UNVERIFIED).
    assert model.random_intercept_var == pytest.approx(0.65 * 4.5**2)
    assert model.residual_var == pytest.approx(0.35 * 4.5**2)
    assert model.q_jump == pytest.approx(1.96 * 4.5, abs=1e-2)
    assert model.own_z_boundaries() == pytest.approx((0.6745, 1.2816), abs=1e-3)


def test_json_and_pickle_round_trip(fitted):
    again = TrajectoryModel.from_dict(json.loads(json.dumps(fitted.as_dict())))
    assert again == fitted
    assert pickle.loads(pickle.dumps(fitted)) == fitted  # noqa: S301 (our own bytes)


def test_fit_is_deterministic_and_independent_of_input_order(clinic):
    cfg = AlertSettings(trajectory_instruments=("phq9",), trajectory_max_episodes=100)
    shuffled = list(clinic)
    random.Random(5).shuffle(shuffled)
    first = fit_trajectory(clinic, "phq9", cfg)
    assert first.n_fitted_episodes == 100 and "subsample of 100" in first.reason
    assert fit_trajectory(shuffled, "phq9", cfg) == first


def test_fitting_10000_episodes_is_fast():
    episodes = synthetic_clinic(10_000, seed=3)
    # Warm up the statsmodels import (slow, once per process) so only fitting is timed.
    from statsmodels.regression.mixed_linear_model import MixedLM  # noqa: F401

    start = time.perf_counter()
    model = fit_trajectory(episodes, "phq9", CFG)
    elapsed = time.perf_counter() - start
    assert model.source == "clinic" and model.n_episodes == 10_000
    assert model.n_fitted_episodes == CFG.trajectory_max_episodes
    assert elapsed < 10, f"fit took {elapsed:.1f} s"  # ~1-2 s on a laptop; generous for CI


def test_outdated_cache_entries_are_rejected(fitted):
    data = fitted.as_dict() | {"new_field": 1}
    with pytest.raises(ValueError, match="recompute"):
        TrajectoryModel.from_dict(data)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(0, 29))
def test_fallback_is_used_below_the_minimum_number_of_episodes(n):
    model = fit_trajectory(synthetic_clinic(n, seed=n), "phq9", CFG)
    assert model.source == "default" and model.n_episodes == n
