"""Jacobson-Truax reliable change and cut-offs; worked checks from docs/clinical.md."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures.change import (
    SE_VARIANT_JT,
    classify,
    cutoffs,
    reliable_change,
    standard_error,
    threshold_change,
)


def test_clinical_md_worked_check() -> None:
    rc = reliable_change(10, 18, sd=5, reliability=0.80, higher_is_better=True)
    assert rc.se == pytest.approx(2.2361, abs=1e-4)
    assert rc.s_diff == pytest.approx(3.1623, abs=1e-4)
    assert rc.rci == pytest.approx(2.530, abs=1e-3)
    assert rc.smallest_reliable_change == pytest.approx(6.198, abs=1e-3)
    assert rc.reliable and rc.outcome == "reliable improvement"
    assert rc.se_variant == SE_VARIANT_JT


def test_clinical_md_cutoff_check() -> None:
    cuts = cutoffs(40, 7.5, 60, 7.5, higher_is_better=True)
    assert (cuts.a, cuts.b, cuts.c) == (55, 45, 50)
    worse = cutoffs(40, 7.5, 60, 7.5, higher_is_better=False)
    assert (worse.a, worse.b) == (25, 75)


def test_reliable_is_strictly_beyond_196() -> None:
    s_diff = math.sqrt(2) * standard_error(5, 0.8)
    edge = 1.96 * s_diff
    assert not reliable_change(0, edge - 1e-9, 5, 0.8).reliable
    assert reliable_change(0, edge + 1e-9, 5, 0.8).reliable


def test_direction_of_improvement() -> None:
    assert reliable_change(20, 10, 5, 0.8).outcome == "reliable improvement"
    assert reliable_change(10, 20, 5, 0.8).outcome == "reliable deterioration"
    assert reliable_change(10, 11, 5, 0.8).outcome == "no reliable change"


def test_threshold_rule_is_inclusive() -> None:
    assert threshold_change(16, 10, 6).outcome == "reliable improvement"
    assert threshold_change(15, 10, 6).outcome == "no reliable change"
    assert threshold_change(10, 14, 4).outcome == "reliable deterioration"


def test_classify() -> None:
    assert classify(threshold_change(18, 8, 6), 10, higher_is_better=False) == "recovered"
    assert classify(threshold_change(24, 14, 6), 10, higher_is_better=False) == "improved"
    assert classify(threshold_change(14, 20, 6), 10, higher_is_better=False) == "deteriorated"
    assert classify(threshold_change(14, 12, 6), 10, higher_is_better=False) == "unchanged"


@pytest.mark.parametrize(("sd", "r"), [(0, 0.8), (-1, 0.8), (5, 1.0), (5, -0.1)])
def test_bad_parameters(sd: float, r: float) -> None:
    with pytest.raises(ValueError):
        reliable_change(1, 2, sd, r)


scores = st.floats(min_value=-100, max_value=100, allow_nan=False)


@given(scores, scores, st.floats(0.1, 30), st.floats(0.0, 0.99))
def test_rci_is_antisymmetric(before: float, after: float, sd: float, r: float) -> None:
    forward = reliable_change(before, after, sd, r)
    backward = reliable_change(after, before, sd, r)
    assert backward.rci == pytest.approx(-forward.rci, abs=1e-9)
    assert forward.reliable == backward.reliable
    if forward.reliable and before != after:
        assert {forward.outcome, backward.outcome} == {
            "reliable improvement",
            "reliable deterioration",
        }
