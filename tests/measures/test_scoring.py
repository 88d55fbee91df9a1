"""Scoring: totals, proration, bands, risk, validation, as_dict."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures import InvalidAnswers, get_instrument
from alliance.measures.scoring import round_half_up, score_answers

PHQ_VALUES = st.sampled_from([None, 0, 1, 2, 3])


def phq(*values: int | None) -> dict[str, int | None]:
    return {str(n): v for n, v in enumerate(values, 1)}


def test_worked_example(phq9) -> None:
    result = phq9.score(phq(1, 1, 2, 0, 1, 0, 0, 1, 0))
    assert result.scorable and result.total == 6 and not result.prorated
    assert result.band is not None and (result.band.key, result.band.label) == ("mild", "Mild")
    assert result.above_cutoff is False and result.risk_flags == ()
    assert result.missing == () and result.proration is None


def test_spanish_labels(phq9) -> None:
    result = phq9.score(phq(3, 3, 3, 3, 3, 3, 0, 0, 1), lang="es")
    assert result.band is not None and result.band.label == "Moderadamente grave"
    assert result.risk_flags[0].message.startswith("La pregunta 9")
    assert result.band.labels.get("en") == "Moderately severe"


def test_one_missing_item_is_prorated_half_up(phq9) -> None:
    # 8 answered items summing to 12: 12 / 8 * 9 = 13.5 -> 14 (round() would give 14 too;
    # 10 / 8 * 9 = 11.25 -> 11 and 4 / 8 * 9 = 4.5 -> 5 where banker's rounding gives 4).
    result = phq9.score(phq(2, 2, 2, None, 2, 2, 1, 1, 0))
    assert result.prorated and result.total == 14 and result.missing == ("4",)
    assert "prorated" in (result.proration or "") and "UNVERIFIED" in (result.proration or "")
    half = phq9.score(phq(1, 1, 1, None, 1, 0, 0, 0, 0))
    assert half.total == 5 and half.band is not None and half.band.key == "mild"


def test_two_missing_items_are_not_scorable(phq9) -> None:
    result = phq9.score(phq(2, None, 2, None, 2, 2, 1, 1, 0))
    assert not result.scorable and result.total is None and result.band is None
    assert result.reason == (
        "2 of 9 scored items missing (items 2, 4); at most 1 may be missing for a total"
    )


def test_risk_flag_even_when_not_scorable(phq9) -> None:
    result = phq9.score({"9": 1})
    assert not result.scorable
    assert [(f.item, f.answer, f.level) for f in result.risk_flags] == [("9", 1, "urgent")]


def test_risk_flag_survives_an_invalid_answer_elsewhere(phq9) -> None:
    result = phq9.score(phq(7, 0, 0, 0, 0, 0, 0, 0, 2))
    assert not result.scorable and result.invalid == {
        "1": "7 is not one of the options (0, 1, 2, 3)"
    }
    assert result.has_risk
    with pytest.raises(InvalidAnswers, match="item '1'"):
        score_answers(phq9, phq(7, 0, 0, 0, 0, 0, 0, 0, 2), strict=True)


def test_unanswered_item_9_is_reported_separately(phq9) -> None:
    result = phq9.score(phq(1, 1, 1, 1, 1, 1, 1, 1, None))
    assert result.scorable and result.risk_flags == () and result.risk_unanswered == ("9",)


def test_answers_may_be_option_codes_or_numeric_strings(phq9) -> None:
    by_code = phq9.score({str(n): "LA6570-1" for n in range(1, 10)})
    by_text = phq9.score({str(n): "2" for n in range(1, 10)})
    assert by_code.total == by_text.total == 18


def test_validate_answers_names_problems(phq9) -> None:
    problems = phq9.validate_answers({"1": 4, "2": True, "x": 1, "3": 0})
    assert problems["1"] == "4 is not one of the options (0, 1, 2, 3)"
    assert "yes/no" in problems["2"]
    assert problems["x"] == "not an item of this instrument"
    assert problems["4"] == "an answer is required"
    assert "10" not in problems  # optional, and hidden anyway


def test_checkin_scoring_and_text_answer() -> None:
    checkin = get_instrument("checkin")
    answers: dict[str, int | str | None] = {
        "bond": 8,
        "goals": 6,
        "tasks": 7,
        "overall": 9,
        "better": "More time on work.",
    }
    result = checkin.score(answers)
    assert result.total == 7.5
    assert result.subscales == {"bond": 8, "goals": 6, "tasks": 7, "overall": 9}
    one_missing = checkin.score({"bond": 8, "goals": 6, "tasks": 7})
    assert one_missing.total == 7 and one_missing.prorated
    assert not checkin.score({"bond": 8, "goals": 6}).scorable
    assert checkin.validate_answers({"bond": 11})["bond"] == "11 is above the maximum 10"
    assert checkin.validate_answers({"bond": 2.5})["bond"] == "2.5 is not a whole number"


def test_as_dict_is_json(phq9) -> None:
    data = phq9.score(phq(1, None, 2, 3, 0, 1, 2, 3, 1), lang="es").as_dict()
    assert json.loads(json.dumps(data)) == data
    assert (
        data["total"] == 15
        and data["prorated"] is True
        and data["band"]["key"] == "moderately_severe"
    )
    assert data["risk_flags"][0]["messages"]["en"].startswith("Item 9")


@pytest.mark.parametrize(
    ("value", "expected"), [(0.5, 1), (1.5, 2), (2.5, 3), (13.5, 14), (4.49, 4)]
)
def test_round_half_up(value: float, expected: int) -> None:
    assert round_half_up(value) == expected


@given(st.lists(PHQ_VALUES, min_size=9, max_size=9))
def test_phq9_properties(values: list[int | None]) -> None:
    phq9 = get_instrument("phq9")
    result = phq9.score(phq(*values))
    answered = [v for v in values if v is not None]
    missing = 9 - len(answered)
    # Risk flag iff item 9 > 0, whatever else happened.
    assert result.has_risk == (values[8] is not None and values[8] > 0)
    assert result.scorable == (missing <= 1)
    if not result.scorable:
        assert result.total is None and result.reason
        return
    assert result.total is not None
    assert 0 <= result.total <= 27 and float(result.total).is_integer()
    # Proration never invents a score the answers cannot reach: the prorated
    # total lies within the totals reachable by completing the missing items.
    assert sum(answered) <= result.total <= sum(answered) + 3 * missing
    reachable_bands = {
        phq9.score(phq(*[v if v is not None else fill for v in values])).band.key  # type: ignore[union-attr]
        for fill in range(4)
    }
    assert result.band is not None and result.band.key in reachable_bands
    if missing == 0:
        assert result.total == sum(answered) and not result.prorated


@given(st.lists(st.sampled_from([None, 0, 1, 2, 3]), min_size=7, max_size=7))
def test_gad7_in_range(values: list[int | None]) -> None:
    result = get_instrument("gad7").score({str(n): v for n, v in enumerate(values, 1)})
    if result.scorable:
        assert result.total is not None and 0 <= result.total <= 21
        answered = [v for v in values if v is not None]
        assert sum(answered) <= result.total <= sum(answered) + 3 * (7 - len(answered))


@given(
    st.sampled_from(["gbo", "checkin", "checkin-therapist"]),
    st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=4, max_size=4),
)
def test_zero_to_ten_scales_in_range(instrument_id: str, values: list[int | None]) -> None:
    inst = get_instrument(instrument_id)
    answers = dict(zip(inst.rules.items, values, strict=False))
    result = inst.score(answers)
    if result.scorable:
        assert result.total is not None and 0 <= result.total <= 10
        answered = [v for v in answers.values() if v is not None]
        assert min(answered) <= result.total <= max(answered)
