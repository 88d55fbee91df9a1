"""Property-based fuzzing of the scoring entry points (issue 10, point 7).

For every shipped instrument, arbitrary answers (numbers in and far out of range, floats, NaN and
infinities, text, missing items, unknown item ids) either score to a total inside the instrument's
range, or are refused with the documented error: `InvalidAnswers` / `MissingContext` (both
`MeasuresError`), or a result whose `invalid` names the bad items and which has no total.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.measures.change import cutoffs, reliable_change, threshold_change
from alliance.measures.errors import MeasuresError
from alliance.measures.model import Instrument
from alliance.measures.registry import all_instruments

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INSTRUMENTS = {instrument.id: instrument for instrument in all_instruments()}

answer_values = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "-", "0", "1", "3", "1.5", "nan", "inf", "1e309", " 2 ", "٣", "²"]),
)


def _answers(instrument: Instrument) -> st.SearchStrategy[dict[str, Any]]:
    ids = [item.link_id for item in instrument.items]
    known = st.dictionaries(st.sampled_from(ids), answer_values) if ids else st.just({})
    stray = st.dictionaries(st.text(max_size=8), answer_values, max_size=2)
    return st.tuples(known, stray).map(lambda parts: {**parts[1], **parts[0]})


def _check(instrument: Instrument, answers: dict[str, Any]) -> None:
    try:
        result = instrument.score(answers)
    except MeasuresError:
        return  # the documented refusal
    if result.invalid:
        assert result.total is None or not result.scorable
        return
    if result.total is None:
        return  # too many missing answers: not scorable, said so in `reason`
    assert result.total_range is not None
    low, high = result.total_range
    assert not math.isnan(float(result.total))
    assert low <= result.total <= high, (instrument.id, answers, result.total)
    result.as_dict()  # what is stored with the response must build too


@pytest.mark.parametrize("instrument_id", sorted(INSTRUMENTS))
def test_arbitrary_answers_score_in_range_or_are_refused(instrument_id: str) -> None:
    instrument = INSTRUMENTS[instrument_id]

    @FUZZ
    @given(answers=_answers(instrument))
    def run(answers: dict[str, Any]) -> None:
        _check(instrument, answers)

    run()


@pytest.mark.parametrize("instrument_id", sorted(INSTRUMENTS))
def test_answer_validation_never_raises_anything_undocumented(instrument_id: str) -> None:
    instrument = INSTRUMENTS[instrument_id]

    @FUZZ
    @given(answers=_answers(instrument), context=st.dictionaries(st.text(max_size=6), st.text()))
    def run(answers: dict[str, Any], context: dict[str, str]) -> None:
        try:
            problems = instrument.validate_answers(answers, context)
        except MeasuresError:
            return
        assert all(isinstance(message, str) and message for message in problems.values())

    run()


numbers = st.floats(allow_nan=True, allow_infinity=True)


@FUZZ
@given(numbers, numbers, numbers, numbers, st.booleans())
def test_reliable_change_with_any_numbers_answers_or_refuses(
    before: float, after: float, sd: float, reliability: float, higher_is_better: bool
) -> None:
    try:
        result = reliable_change(before, after, sd, reliability, higher_is_better=higher_is_better)
    except (MeasuresError, ValueError):
        return
    assert result.outcome in {"improved", "deteriorated", "no_reliable_change", "unchanged"} or (
        isinstance(result.outcome, str)
    )
    result.as_dict()


@FUZZ
@given(numbers, numbers, numbers, st.booleans())
def test_threshold_change_with_any_numbers_answers_or_refuses(
    before: float, after: float, threshold: float, higher_is_better: bool
) -> None:
    try:
        threshold_change(before, after, threshold, higher_is_better=higher_is_better).as_dict()
    except (MeasuresError, ValueError):
        return


@FUZZ
@given(numbers, numbers, numbers, numbers, st.booleans())
def test_cutoffs_with_any_numbers_answer_or_refuse(
    m_clin: float, sd_clin: float, m_func: float, sd_func: float, higher_is_better: bool
) -> None:
    try:
        cutoffs(m_clin, sd_clin, m_func, sd_func, higher_is_better=higher_is_better).as_dict()
    except (MeasuresError, ValueError):
        return
