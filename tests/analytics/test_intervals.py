"""Rates, means and the pre-post effect size, each checked against an independent calculation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from alliance.analytics.intervals import (
    mean_interval,
    prepost_effect,
    rate,
    wilson_interval,
    z_value,
)

counts = st.integers(min_value=1, max_value=100_000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)

# --- proportions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "low", "high"),
    [
        # Newcombe (1998) Stat Med 17:857, Table I, method 3 (Wilson score without continuity
        # correction), to the four decimals printed there.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombes_published_examples(numerator, denominator, low, high) -> None:
    got = wilson_interval(numerator, denominator)
    assert got == pytest.approx((low, high), abs=5e-5)


@settings(deadline=None)  # timing is not under test (house rules)
@given(counts)
def test_wilson_matches_statsmodels(case: tuple[int, int]) -> None:
    numerator, denominator = case
    want = proportion_confint(numerator, denominator, alpha=0.05, method="wilson")
    assert wilson_interval(numerator, denominator) == pytest.approx(want, abs=1e-12)


@settings(deadline=None)  # timing is not under test (house rules)
@given(counts, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_statsmodels_at_other_levels(case: tuple[int, int], level: float) -> None:
    numerator, denominator = case
    want = proportion_confint(numerator, denominator, alpha=1 - level, method="wilson")
    assert wilson_interval(numerator, denominator, level) == pytest.approx(want, abs=1e-12)


@settings(deadline=None)  # timing is not under test (house rules)
@given(counts)
def test_rate_interval_contains_the_rate_within_zero_and_one(case: tuple[int, int]) -> None:
    r = rate(*case)
    assert r.rate is not None and r.low is not None and r.high is not None
    assert 0.0 <= r.low <= r.rate <= r.high <= 1.0
    assert r.rate == case[0] / case[1]
    assert r.low < r.high  # a finite sample never pins a rate down exactly


@settings(deadline=None)  # timing is not under test (house rules)
@given(counts)
def test_wilson_is_symmetric_in_success_and_failure(case: tuple[int, int]) -> None:
    numerator, denominator = case
    low, high = wilson_interval(numerator, denominator)
    flipped_low, flipped_high = wilson_interval(denominator - numerator, denominator)
    assert low == pytest.approx(1 - flipped_high, abs=1e-12)
    assert high == pytest.approx(1 - flipped_low, abs=1e-12)


@settings(deadline=None)  # timing is not under test (house rules)
@given(st.integers(min_value=1, max_value=500), st.integers(min_value=0, max_value=500))
def test_more_data_at_the_same_rate_narrows_the_interval(denominator: int, raw: int) -> None:
    numerator = raw % (denominator + 1)
    small = rate(numerator, denominator)
    large = rate(4 * numerator, 4 * denominator)
    assert small.low is not None and small.high is not None
    assert large.low is not None and large.high is not None
    assert large.high - large.low < small.high - small.low


def test_zero_denominator_gives_none_not_zero() -> None:
    r = rate(0, 0)
    assert (r.numerator, r.denominator, r.rate, r.low, r.high) == (0, 0, None, None, None)
    assert json.loads(json.dumps(r.as_dict()))["rate"] is None


@pytest.mark.parametrize(("numerator", "denominator"), [(3, 2), (-1, 4), (0, -1)])
def test_impossible_counts_are_refused(numerator: int, denominator: int) -> None:
    with pytest.raises(ValueError, match="numerator <= denominator"):
        rate(numerator, denominator)


def test_counts_must_be_ints() -> None:
    with pytest.raises(TypeError):
        rate(True, 3)
    with pytest.raises(TypeError):
        rate(1.0, 3)  # type: ignore[arg-type]


def test_z_value_is_the_normal_quantile() -> None:
    assert z_value(0.95) == pytest.approx(stats.norm.ppf(0.975), abs=1e-12)
    with pytest.raises(ValueError, match="confidence"):
        z_value(1.0)


def test_rate_as_dict_is_plain_json() -> None:
    data = rate(3, 10).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {"numerator", "denominator", "rate", "low", "high"}


# --- means ---------------------------------------------------------------------------------------

values = st.lists(
    st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=60,
)


@settings(deadline=None)  # timing is not under test (house rules)
@given(values)
def test_mean_interval_matches_statsmodels(data: list[float]) -> None:
    got = mean_interval(data)
    described = DescrStatsW(np.asarray(data))
    assert got.mean == pytest.approx(float(np.mean(data)), abs=1e-9)
    assert got.sd == pytest.approx(float(np.std(data, ddof=1)), abs=1e-9)
    low, high = described.tconfint_mean(alpha=0.05)
    assert got.low == pytest.approx(float(low), abs=1e-7)
    assert got.high == pytest.approx(float(high), abs=1e-7)


@settings(deadline=None)  # timing is not under test (house rules)
@given(values, st.randoms())
def test_mean_interval_contains_the_mean_and_ignores_order(data: list[float], rnd) -> None:
    got = mean_interval(data)
    assert got.low is not None and got.mean is not None and got.high is not None
    assert got.low <= got.mean <= got.high
    shuffled = list(data)
    rnd.shuffle(shuffled)
    again = mean_interval(shuffled)
    assert again.mean == pytest.approx(got.mean, abs=1e-9)
    assert again.high == pytest.approx(got.high, abs=1e-7)


def test_mean_worked_example() -> None:
    # 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sd sqrt(32/7); t(7, .975) = 2.3646 in printed tables.
    got = mean_interval([2, 4, 4, 4, 5, 5, 7, 9])
    half = 2.3646 * math.sqrt(32 / 7) / math.sqrt(8)
    assert got.mean == 5.0
    assert got.low == pytest.approx(5 - half, abs=1e-4)
    assert got.high == pytest.approx(5 + half, abs=1e-4)


def test_mean_of_too_few_values_has_no_interval() -> None:
    assert mean_interval([]).mean is None
    one = mean_interval([3.0])
    assert (one.n, one.mean, one.low, one.high) == (1, 3.0, None, None)
    with pytest.raises(ValueError, match="finite"):
        mean_interval([1.0, math.nan])


# --- pre-post effect size ------------------------------------------------------------------------


def test_prepost_d_equals_beckers_formula_when_the_spreads_are_equal() -> None:
    # Post scores are a reshuffle of the pre scores minus 5, so both have exactly the same sd and
    # Becker's (1988) var(d) = 2(1 - r)/n + d^2/(2n) applies as printed.
    pre = np.array([21.0, 18, 16, 14, 20, 12, 15, 19, 11, 17, 13, 22])
    post = pre[[3, 0, 5, 1, 9, 2, 11, 4, 6, 10, 7, 8]] - 5
    n = len(pre)
    d = float(np.mean(pre - post) / np.std(pre, ddof=1))
    r = float(np.corrcoef(pre, post)[0, 1])
    se = math.sqrt(2 * (1 - r) / n + d * d / (2 * n))
    got = prepost_effect(zip(pre, post, strict=True))
    assert got.d == pytest.approx(d, abs=1e-12)
    assert d == pytest.approx(5 / np.std(pre, ddof=1))  # sanity: the shift over the sd
    assert got.se == pytest.approx(se, abs=1e-12)
    assert got.low == pytest.approx(d - 1.959963984540054 * se, abs=1e-9)
    assert got.high == pytest.approx(d + 1.959963984540054 * se, abs=1e-9)
    assert got.mean_first == pytest.approx(pre.mean()) and got.mean_last == pytest.approx(
        post.mean()
    )


def test_prepost_d_is_positive_when_scores_fall_and_negative_when_they_rise() -> None:
    falling = prepost_effect([(20, 10), (15, 9), (12, 8), (18, 11)])
    rising = prepost_effect([(10, 20), (9, 15), (8, 12), (11, 18)])
    assert falling.d is not None and falling.d > 0
    assert rising.d is not None and rising.d < 0


def test_prepost_interval_covers_the_true_effect_about_95_percent_of_the_time() -> None:
    """Recovery of a known effect: bivariate normal pre/post with true d = 0.8, r = 0.5."""
    rng = np.random.default_rng(20240611)
    true_d, rho, n, reps = 0.8, 0.5, 50, 1500
    covered = 0
    estimates = []
    for _ in range(reps):
        pre = rng.normal(0, 1, n)
        post = rho * pre + math.sqrt(1 - rho**2) * rng.normal(0, 1, n) - true_d
        got = prepost_effect(zip(16 + 5 * pre, 16 + 5 * post, strict=True))
        assert got.low is not None and got.high is not None and got.d is not None
        covered += got.low <= true_d <= got.high
        estimates.append(got.d)
    # 1500 replicates: a 95% interval's coverage has a standard error of 0.0056.
    assert 0.93 <= covered / reps <= 0.97
    assert abs(float(np.mean(estimates)) - true_d) < 0.05


def test_prepost_interval_agrees_with_a_seeded_bootstrap() -> None:
    rng = np.random.default_rng(7)
    n = 400
    pre = rng.normal(17, 4, n)
    post = pre - rng.normal(5, 4, n)
    got = prepost_effect(zip(pre, post, strict=True))
    boot = []
    for _ in range(2000):
        idx = rng.integers(0, n, n)
        boot.append(np.mean(pre[idx] - post[idx]) / np.std(pre[idx], ddof=1))
    low, high = np.percentile(boot, [2.5, 97.5])
    assert got.low == pytest.approx(low, abs=0.03)
    assert got.high == pytest.approx(high, abs=0.03)


def test_prepost_without_enough_data_says_why() -> None:
    assert prepost_effect([]).d is None
    one = prepost_effect([(15, 5)])
    assert one.d is None and one.n == 1 and "two" in one.note
    flat = prepost_effect([(12, 5), (12, 9), (12, 3)])
    assert flat.d is None and flat.sd_first == 0.0 and "spread" in flat.note


@settings(deadline=None)  # timing is not under test (house rules)
@given(
    st.lists(
        st.tuples(st.integers(0, 27), st.integers(0, 27)),
        min_size=3,
        max_size=40,
    ),
    st.randoms(),
)
def test_prepost_interval_contains_d_and_ignores_order(pairs, rnd) -> None:
    got = prepost_effect(pairs)
    if got.d is None:
        assert len({a for a, _ in pairs}) == 1  # only a flat intake has no d
        return
    assert got.low is not None and got.high is not None
    assert got.low <= got.d <= got.high
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert prepost_effect(shuffled).d == pytest.approx(got.d, abs=1e-12)
