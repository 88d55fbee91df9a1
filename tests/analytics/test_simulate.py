"""The simulator: reproducible, the shape it promises, and the data-generating process it documents
(checked by recomputing the outcome with plain pandas when the noise is switched off)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.analytics.simulate import (
    CHECKIN_ITEMS,
    SimulationSettings,
    simulate,
    to_clinic_data,
)

NO_NOISE: dict[str, Any] = {"therapist_sd": 0.0, "client_sd": 0.0, "residual_sd": 0.0}


def test_same_seed_same_clinic_other_seed_other_clinic() -> None:
    a = simulate(episodes=200, seed=4).responses
    b = simulate(episodes=200, seed=4).responses
    c = simulate(episodes=200, seed=5).responses
    pd.testing.assert_frame_equal(a, b)
    assert not a["outcome"].equals(c["outcome"])


def test_columns_ids_and_consecutive_sessions() -> None:
    clinic = simulate(episodes=300, seed=1)
    df = clinic.responses
    assert list(df.columns[:7]) == [
        "therapist",
        "client",
        "episode",
        "session",
        "outcome",
        "checkin",
        "checkin_therapist",
    ]
    assert df["therapist"].astype(str).str.fullmatch(r"T\d{4}").all()
    assert df["client"].nunique() == 300 == len(clinic.episodes)
    for _, rows in df.groupby("client", observed=True):
        assert list(rows["session"]) == list(range(1, len(rows) + 1))
    sessions = df.groupby("client", observed=True).size()
    by_episode = clinic.episodes.set_index(clinic.episodes["client"].astype(str))["sessions"]
    assert (sessions.rename(index=str).sort_index() == by_episode.sort_index()).all()
    assert clinic.settings.n_therapists() == 2  # 300 // 150
    # Each client stays with one therapist.
    assert (df.groupby("client", observed=True)["therapist"].nunique() == 1).all()


def test_outcome_follows_the_documented_model_when_noise_is_off() -> None:
    s = SimulationSettings(episodes=400, seed=3, **NO_NOISE)
    df = simulate(s).responses
    used = df.dropna(subset=["outcome", "checkin"])
    mean = used.groupby("client", observed=True)["checkin"].transform("mean")
    expected = (
        s.intercept
        + s.within * (used["checkin"] - mean)
        + s.between * mean
        + s.log_session * np.log(used["session"])
    )
    np.testing.assert_allclose(used["outcome"], expected, atol=1e-9)


def test_lagged_outcome_follows_the_previous_checkin_when_noise_is_off() -> None:
    s = SimulationSettings(episodes=400, seed=3, lagged=True, **NO_NOISE)
    df = simulate(s).responses.sort_values(["client", "session"])
    df["previous"] = df.groupby("client", observed=True)["checkin"].shift(1)
    used = df.dropna(subset=["outcome", "previous"])
    mean = used.groupby("client", observed=True)["previous"].transform("mean")
    expected = (
        s.intercept
        + s.within * (used["previous"] - mean)
        + s.between * mean
        + s.log_session * np.log(used["session"])
    )
    np.testing.assert_allclose(used["outcome"], expected, atol=1e-9)


def test_missing_shares_are_near_the_settings() -> None:
    df = simulate(episodes=3000, seed=2, missing_outcome=0.1, missing_checkin=0.3).responses
    n = len(df)
    for column, p in (("outcome", 0.1), ("checkin", 0.3)):
        share = df[column].isna().mean()
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n), column


def test_dropouts_have_weaker_alliance_and_fewer_sessions() -> None:
    clinic = simulate(episodes=4000, seed=5, dropout=0.3, dropout_alliance=1.0)
    level = clinic.responses.groupby("client", observed=True)["checkin"].mean()
    episodes = clinic.episodes.set_index("client")
    dropped = episodes["dropout"]
    assert 0.2 < dropped.mean() < 0.4
    assert level[dropped[dropped].index].mean() < level[dropped[~dropped].index].mean() - 0.3
    assert episodes.loc[dropped, "sessions"].mean() < episodes.loc[~dropped, "sessions"].mean()


def test_a_million_sessions_come_from_a_hundred_thousand_episodes() -> None:
    # The benchmark's size (benchmarks/insights_scale.py); no time is asserted here.
    df = simulate(episodes=100_000, seed=1).responses
    assert 900_000 < len(df) < 1_200_000
    assert df["client"].nunique() == 100_000


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), rounded=st.booleans())
def test_items_average_to_the_checkin(seed: int, rounded: bool) -> None:
    df = simulate(episodes=30, seed=seed, items=True, round_scores=rounded).responses
    items = df[list(CHECKIN_ITEMS)]
    present = df["checkin"].notna()
    np.testing.assert_allclose(items[present].mean(axis=1), df.loc[present, "checkin"], atol=1e-9)
    assert items[~present].isna().all().all()
    if rounded:
        values = items[present].to_numpy()
        assert ((values >= 0) & (values <= 10) & (values == np.rint(values))).all()
        assert df["outcome"].dropna().between(0, 27).all()


def test_items_do_not_change_the_other_columns() -> None:
    plain = simulate(episodes=100, seed=9).responses
    with_items = simulate(episodes=100, seed=9, items=True).responses
    pd.testing.assert_frame_equal(plain, with_items[plain.columns])


def test_clinic_records_hold_every_score() -> None:
    clinic = simulate(episodes=80, seed=6, round_scores=True, items=True)
    data = to_clinic_data(clinic)
    df = clinic.responses
    count = {k: sum(1 for r in data.responses if r.instrument == k) for k in ("phq9", "checkin")}
    assert count["phq9"] == df["outcome"].notna().sum()
    assert count["checkin"] == df["checkin"].notna().sum()
    assert len(data.appointments) == len(df)
    assert len(data.episodes) == 80
    ends = {e.end_reason for e in data.episodes}
    assert ends <= {"planned", "dropout"}
    for r in data.responses:
        if r.instrument == "checkin":
            assert r.total == pytest.approx(sum(r.items.values()) / len(CHECKIN_ITEMS))
    for e in data.episodes:
        assert e.referred_on <= e.started_on <= e.ended_on  # type: ignore[operator]


def test_truth_names_the_model_terms() -> None:
    truth = SimulationSettings(within=-0.5).truth()
    assert truth["fixed_effects"]["a_within"] == -0.5
    assert set(truth["variance_components"]) == {"therapist", "client", "residual"}
    assert truth["variance_components"]["residual"] == SimulationSettings().residual_sd ** 2
