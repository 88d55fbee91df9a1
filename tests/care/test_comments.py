"""Which written answers count as a concern for the rupture rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.care.comments import has_something_to_say, is_nothing_to_add
from alliance.demo.texts import BETTER_CRITICAL, BETTER_MILD, BETTER_NEUTRAL

CRITICAL = [t for lang in BETTER_CRITICAL.values() for texts in lang.values() for t in texts]
MILD = [t for texts in BETTER_MILD.values() for t in texts]
REQUESTS = {
    "More time maybe",
    "Could we start on time next week?",
    "Quizás un poco más de tiempo",
    "¿Podemos empezar a la hora la próxima vez?",
}


@pytest.mark.parametrize("text", CRITICAL + MILD + sorted(REQUESTS))
def test_criticism_and_requests_are_concerns(text: str) -> None:
    assert not is_nothing_to_add(text)


@pytest.mark.parametrize(
    "text", [t for texts in BETTER_NEUTRAL.values() for t in texts if t not in REQUESTS]
)
def test_nothing_to_add_answers_are_not(text: str) -> None:
    assert is_nothing_to_add(text)


@pytest.mark.parametrize(
    ("text", "neutral"),
    [
        ("Nothing, it was helpful.", True),
        ("Nothing was helpful", False),  # without the comma it is a criticism
        ("Nada, me ayudó mucho", True),
        ("Nada me ayudó", False),
        ("N/A", True),
        ("", True),
        ("All good but I felt rushed", False),
        ("Todo bien, pero llegaste tarde", False),
        ("It was fine, thank you", True),
        ("I felt judged", False),
    ],
)
def test_worked_examples(text: str, neutral: bool) -> None:
    assert is_nothing_to_add(text) is neutral


@given(
    neutral=st.sampled_from([t for texts in BETTER_NEUTRAL.values() for t in texts]),
    critical=st.sampled_from(CRITICAL),
    joiner=st.sampled_from([" but ", ", pero ", ". ", " - ", " "]),
)
def test_adding_a_criticism_always_makes_it_a_concern(
    neutral: str, critical: str, joiner: str
) -> None:
    assert has_something_to_say([neutral + joiner + critical])
    assert has_something_to_say(["Nothing, thanks", critical])


@given(st.text(max_size=60))
def test_never_raises_and_blank_is_nothing(text: str) -> None:
    result = is_nothing_to_add(text)
    if not text.strip(" ,.;:!?-"):
        assert result
