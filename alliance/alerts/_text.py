"""Small formatting helpers shared by the rules (numbers in explanations, JSON-safe evidence)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

EPS: Final = 1e-9
"""Tolerance for threshold comparisons, so that 8.5 - 6.5 ≥ 2.0 holds despite binary floats."""

MINUS: Final = "\u2212"

INSTRUMENT_LABELS: Final[dict[str, str]] = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "gbo": "Goal-Based Outcomes",
    "checkin": "check-in",
    "checkin-therapist": "therapist check-in",
}

MEASURE_LABELS: Final[dict[str, str]] = {
    "total": "the check-in total",
    "bond": "bond",
    "goals": "goals",
    "tasks": "tasks",
    "overall": "overall",
}


def num(value: float, digits: int = 1) -> str:
    """``8.5`` → ``"8.5"``; negatives get a true minus sign (-), as the UI shows them."""
    text = f"{abs(value):.{digits}f}"
    if value < 0 and float(text) != 0:
        return MINUS + text
    return text


def signed(value: float, digits: int = 1) -> str:
    """``3.5`` → ``"+3.5"``, ``-3.5`` → ``"-3.5"``."""
    text = num(value, digits)
    return text if text.startswith(MINUS) or float(text) == 0 else "+" + text


def r3(value: float) -> float:
    """Round for evidence: stable JSON, no float noise in fingerprints."""
    return round(float(value), 3) + 0.0  # + 0.0 turns -0.0 into 0.0


def instrument_label(instrument: str) -> str:
    return INSTRUMENT_LABELS.get(instrument, instrument)


def measure_label(measure: str) -> str:
    return MEASURE_LABELS.get(measure, measure)


def join_words(words: Sequence[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def sessions_text(numbers: Sequence[int]) -> str:
    return ("session " if len(numbers) == 1 else "sessions ") + join_words(
        [str(n) for n in numbers]
    )
