"""The reactions checklist and the supervision-prompt rule: worked examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.alerts.reactions import (
    BY_CODE,
    REACTIONS,
    PromptRule,
    ReactionError,
    RecurringReaction,
    clean,
    describe,
    supervision_prompts,
)

CODES = [r.code for r in REACTIONS]

reflection = st.dictionaries(st.sampled_from(CODES), st.integers(1, 3), max_size=4)
reflections = st.lists(reflection, max_size=12)
rules = st.integers(1, 8).flatmap(
    lambda window: st.builds(
        PromptRule,
        min_intensity=st.integers(1, 3),
        count=st.integers(1, window),
        window=st.just(window),
    )
)


def codes(found: list[RecurringReaction]) -> set[str]:
    return {f.reaction.code for f in found}


def test_checklist_has_the_issue_reactions_with_words() -> None:
    for code in (
        "protective",
        "frustrated",
        "bored",
        "anxious",
        "helpless",
        "moved",
        "hopeful",
        "overinvolved",
    ):
        assert BY_CODE[code].label and BY_CODE[code].description
    assert len(CODES) == len(set(CODES)) <= 10


def test_worked_example_from_the_brief() -> None:
    history = [
        {"frustrated": 3},
        {"moved": 2},
        {"frustrated": 3, "anxious": 1},
        {"frustrated": 2},
        {"frustrated": 3, "anxious": 3},
    ]
    [found] = supervision_prompts(history)
    assert (found.reaction.code, found.times, found.considered) == ("frustrated", 2, 4)
    assert found.explanation.startswith(
        "Strong frustration in 2 of your last 4 reflections on this client."
    )
    assert "r = .39, Hayes et al. 2018" in found.explanation
    assert found.explanation.endswith("consider bringing it to supervision.")


def test_three_of_four_and_an_old_one_outside_the_window() -> None:
    history = [{"helpless": 3}, {"helpless": 3}, {}, {"helpless": 3}, {}, {"helpless": 3}]
    [found] = supervision_prompts(history)
    assert (found.times, found.considered) == (2, 4)
    assert supervision_prompts(history, PromptRule(count=3)) == []
    assert supervision_prompts(history, PromptRule(count=3, window=6))[0].times == 4


def test_lower_intensity_setting_counts_milder_reactions() -> None:
    history = [{"protective": 2}, {"protective": 2}]
    assert supervision_prompts(history) == []
    [found] = supervision_prompts(history, PromptRule(min_intensity=2))
    assert found.explanation.startswith("Protectiveness (at least clearly) in 2 of your last 2")


def test_no_reflections_no_prompt() -> None:
    assert supervision_prompts([]) == []


def test_most_frequent_first() -> None:
    history = [{"anxious": 3, "bored": 3}, {"bored": 3}, {"anxious": 3, "bored": 3}]
    assert [f.reaction.code for f in supervision_prompts(history)] == ["bored", "anxious"]


@pytest.mark.parametrize(
    "kwargs", [{"min_intensity": 0}, {"min_intensity": 4}, {"count": 5, "window": 4}, {"window": 0}]
)
def test_bad_rules_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ReactionError):
        PromptRule(**kwargs)


def test_clean_checks_codes_and_intensities() -> None:
    assert clean({"moved": 1, "anxious": 3}) == {"anxious": 3, "moved": 1}
    for bad in ({"nope": 1}, {"moved": 0}, {"moved": 4}, {"moved": True}, {"moved": "2"}):
        with pytest.raises(ReactionError):
            clean(bad)


def test_describe_in_plain_words() -> None:
    assert describe({"moved": 1, "frustrated": 3, "old": 2}) == [
        "Frustrated (strongly)",
        "Moved (a little)",
        "old",
    ]


@given(reflections, rules)
def test_never_fires_with_fewer_reflections_than_count(
    history: list[dict[str, int]], rule: PromptRule
) -> None:
    if len(history) < rule.count:
        assert supervision_prompts(history, rule) == []


@given(reflections, rules)
def test_only_the_window_matters(history: list[dict[str, int]], rule: PromptRule) -> None:
    older = [{code: 3 for code in CODES}] * 5
    assert (
        supervision_prompts(older + history[-rule.window :], rule)
        == supervision_prompts(history, rule)
        or len(history) < rule.window
    )


@given(reflections, rules)
def test_numbers_are_honest(history: list[dict[str, int]], rule: PromptRule) -> None:
    recent = history[-rule.window :]
    for found in supervision_prompts(history, rule):
        strong = [r for r in recent if r.get(found.reaction.code, 0) >= rule.min_intensity]
        assert found.times == len(strong) >= rule.count
        assert found.considered == len(recent) <= rule.window
    for code in CODES:
        if code not in codes(supervision_prompts(history, rule)):
            assert sum(r.get(code, 0) >= rule.min_intensity for r in recent) < rule.count


@given(reflections, rules, st.integers(1, 3))
def test_monotone_in_count(history: list[dict[str, int]], rule: PromptRule, less: int) -> None:
    """Asking for fewer recurrences never removes a prompt."""
    looser = PromptRule(rule.min_intensity, max(1, rule.count - less), rule.window)
    assert codes(supervision_prompts(history, rule)) <= codes(supervision_prompts(history, looser))


@given(reflections, rules)
def test_monotone_in_intensity(history: list[dict[str, int]], rule: PromptRule) -> None:
    looser = PromptRule(max(1, rule.min_intensity - 1), rule.count, rule.window)
    assert codes(supervision_prompts(history, rule)) <= codes(supervision_prompts(history, looser))


@given(reflections, rules, reflection)
def test_a_new_reflection_without_the_reaction_can_only_remove_it(
    history: list[dict[str, int]], rule: PromptRule, new: dict[str, int]
) -> None:
    before = codes(supervision_prompts(history, rule))
    after = codes(supervision_prompts([*history, new], rule))
    assert after - before <= set(new)
