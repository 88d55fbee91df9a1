"""Therapist variation: empirical-Bayes intercepts, their intervals, order and stability flags.

Independent references: statsmodels' random effects (the BLUPs) and Henderson's prediction-error
variance computed with dense matrices from its definition; recovery and coverage of simulated
therapist effects; a planted effect for the shrinkage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.analytics.model import relationship_model
from alliance.analytics.simulate import simulate
from alliance.analytics.therapist import (
    NEAR_ZERO_SHARE,
    UNSTABLE_BELOW,
    id_order,
    therapist_variation,
    therapist_view,
)
from tests.analytics.model_reference import design, statsmodels_blups, statsmodels_fit


def test_estimates_equal_statsmodels_random_effects() -> None:
    clinic = simulate(episodes=150, therapists=7, seed=31)
    reference = statsmodels_blups(statsmodels_fit(design(clinic.responses)))
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    assert {t.therapist for t in variation.therapists} == set(reference)
    for t in variation.therapists:
        assert t.estimate == pytest.approx(reference[t.therapist], abs=1e-6)


def test_standard_errors_are_hendersons_prediction_error_variance() -> None:
    clinic = simulate(episodes=30, therapists=4, seed=8)
    model = relationship_model(clinic.responses, lagged=False)
    variation = therapist_variation(model)
    df = design(clinic.responses)
    y = df["y"].to_numpy()
    X = np.column_stack([np.ones(len(df)), df["a_within"], df["a_between"], df["log_session"]])
    therapists = sorted(df["therapist"].unique())
    clients = sorted({(a, b) for a, b in zip(df["therapist"], df["client"], strict=True)})
    Zt = np.array([[t == u for u in therapists] for t in df["therapist"]], dtype=float)
    Zc = np.array(
        [
            [(a, b) == c for c in clients]
            for a, b in zip(df["therapist"], df["client"], strict=True)
        ],
        dtype=float,
    )
    vc = model.variance_components
    Z = np.hstack([Zt, Zc])
    G = np.diag([vc["therapist"]] * len(therapists) + [vc["client"]] * len(clients))
    V = Z @ G @ Z.T + vc["residual"] * np.eye(len(y))
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    P = Vi - Vi @ X @ np.linalg.solve(X.T @ Vi @ X, X.T @ Vi)
    blup = (G @ Z.T @ Vi @ (y - X @ beta))[: len(therapists)]
    pev = np.diag(G - G @ Z.T @ P @ Z @ G)[: len(therapists)]
    by_name = {t.therapist: t for t in variation.therapists}
    for k, name in enumerate(therapists):
        assert by_name[name].estimate == pytest.approx(blup[k], abs=1e-8)
        assert by_name[name].se == pytest.approx(np.sqrt(pev[k]), rel=1e-6)
        assert by_name[name].low == pytest.approx(blup[k] - 1.959963984540054 * np.sqrt(pev[k]))


def _with_planted_therapists(seed: int) -> pd.DataFrame:
    """A clinic plus two therapists whose clients all score 4 points higher: 'few' with 3 clients,
    'many' with 40, the clients drawn from the same simulation."""
    base = simulate(episodes=800, therapists=30, seed=seed, therapist_sd=0.8).responses
    frame = base.assign(therapist=base["therapist"].astype(str), client=base["client"].astype(str))
    spare = simulate(episodes=43, therapists=1, seed=seed + 1, therapist_sd=0.0).responses
    spare = spare.assign(client="x" + spare["client"].astype(str))
    clients = spare["client"].unique()
    spare["therapist"] = np.where(spare["client"].isin(clients[:3]), "few", "many")
    spare["outcome"] = spare["outcome"] + 4.0
    return pd.concat([frame, spare], ignore_index=True)


def test_a_therapist_with_few_clients_is_pulled_further_toward_the_mean() -> None:
    variation = therapist_variation(relationship_model(_with_planted_therapists(5), lagged=False))
    by_name = {t.therapist: t for t in variation.therapists}
    few, many = by_name["few"], by_name["many"]
    assert few.clients == 3 and many.clients == 40
    assert 0 < few.estimate < many.estimate  # same planted +4, more shrinkage with less data
    assert few.shrinkage < many.shrinkage
    assert few.high - few.low > many.high - many.low
    assert many.low > 0  # 40 clients show the planted effect clearly


def test_recovers_true_therapist_effects_with_calibrated_intervals() -> None:
    clinic = simulate(episodes=6000, therapists=200, seed=17)
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    truth = dict(zip(clinic.therapist_ids, clinic.therapist_effects, strict=True))
    offset = np.mean(list(truth.values()))  # the intercept absorbs the sample mean of effects
    inside = [t.low <= truth[t.therapist] - offset <= t.high for t in variation.therapists]
    estimates = [t.estimate for t in variation.therapists]
    true = [truth[t.therapist] for t in variation.therapists]
    assert np.corrcoef(estimates, true)[0, 1] > 0.7
    # 95% intervals over 200 therapists: below 88% would be far outside binomial noise.
    assert np.mean(inside) >= 0.88
    assert not variation.unstable


def test_listed_by_therapist_id_never_by_estimate() -> None:
    clinic = simulate(episodes=300, therapists=12, seed=3)
    ids = {f"T{k + 1:04d}": str(k + 1) for k in range(12)}  # "1".."12": numeric order matters
    frame = clinic.responses.assign(therapist=clinic.responses["therapist"].astype(str).map(ids))
    variation = therapist_variation(relationship_model(frame, lagged=False))
    names = [t.therapist for t in variation.therapists]
    assert names == [str(k) for k in range(1, 13)]
    estimates = [t.estimate for t in variation.therapists]
    assert estimates != sorted(estimates) and estimates != sorted(estimates, reverse=True)


@given(
    st.lists(st.one_of(st.integers(0, 999).map(str), st.text("abcT0123", min_size=1)), min_size=1)
)
def test_id_order_puts_numbers_first_in_numeric_order(ids: list[str]) -> None:
    ordered = sorted(ids, key=id_order)
    numeric = [i for i in ordered if i.isdecimal() and i.isascii()]
    assert ordered[: len(numeric)] == numeric
    assert [int(i) for i in numeric] == sorted(int(i) for i in numeric)


def test_few_therapists_are_flagged_unstable() -> None:
    clinic = simulate(episodes=300, therapists=UNSTABLE_BELOW - 4, seed=2)
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    assert variation.unstable
    assert any("unstable" in s and "only 6 therapists" in s for s in variation.sentences)


def test_no_real_therapist_differences_are_flagged_unstable() -> None:
    clinic = simulate(episodes=2000, therapists=40, seed=6, therapist_sd=0.0)
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    assert variation.therapist_share is not None and variation.therapist_share < NEAR_ZERO_SHARE
    assert variation.unstable
    assert any("near zero" in s for s in variation.sentences)


def test_a_clinic_with_real_differences_is_not_flagged() -> None:
    clinic = simulate(episodes=2000, therapists=40, seed=6, therapist_sd=1.5)
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    assert not variation.unstable
    assert not any("unstable" in s for s in variation.sentences)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_intervals_hold_their_estimate_and_shrinkage_is_a_share(seed: int) -> None:
    clinic = simulate(episodes=60, therapists=6, seed=seed)
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    for t in variation.therapists:
        assert t.se >= 0 and t.low <= t.estimate <= t.high
        assert 0 <= t.shrinkage < 1


def test_a_therapists_own_view_holds_only_their_figures() -> None:
    clinic = simulate(episodes=600, therapists=15, seed=12)
    variation = therapist_variation(relationship_model(clinic.responses, lagged=False))
    view = therapist_view(variation, "T0003")
    mine = next(t for t in variation.therapists if t.therapist == "T0003")
    assert view.estimate == mine
    assert variation.therapist_sd is not None
    assert view.clinic_range_high == pytest.approx(1.959963984540054 * variation.therapist_sd)
    assert view.clinic_range_high is not None
    assert view.clinic_range_low == pytest.approx(-view.clinic_range_high)
    text = json.dumps(view.as_dict())
    others = [t.therapist for t in variation.therapists if t.therapist != "T0003"]
    assert not any(name in text for name in others)
    assert "T0003" in text


def test_a_therapist_without_data_gets_a_sentence_not_an_error() -> None:
    variation = therapist_variation(
        relationship_model(simulate(episodes=200, therapists=10, seed=1).responses, lagged=False)
    )
    view = therapist_view(variation, "nobody")
    assert view.estimate is None and "no sessions" in view.sentences[0]


def test_unfitted_model_gives_no_estimates_and_says_why() -> None:
    frame = pd.DataFrame(
        {"therapist": ["t"], "client": ["a"], "session": [1], "outcome": [10.0], "checkin": [7.0]}
    )
    variation = therapist_variation(relationship_model(frame))
    assert variation.therapists == () and variation.unstable
    assert "could not be fitted" in variation.sentences[0]
    json.dumps(variation.as_dict())
