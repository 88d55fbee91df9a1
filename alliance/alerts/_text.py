"""Small formatting helpers shared by the rules (numbers in explanations, JSON-safe evidence)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .message import N_, Item, Msg

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


def ordinal(value: float) -> str:
    """``82`` → ``"82nd"``, ``97.5`` → ``"97.5th"`` (percentiles in explanations)."""
    text = num(value, 1).removesuffix(".0")
    if "." in text or text.endswith(("11", "12", "13")):
        return text + "th"
    return text + {"1": "st", "2": "nd", "3": "rd"}.get(text[-1], "th")


# --- the same words as messages, for the reader's language (alliance.alerts.message) -------------

_MEASURE_WORDS: Final[dict[str, str]] = {
    "total": N_("total"),
    "bond": N_("bond"),
    "goals": N_("goals"),
    "tasks": N_("tasks"),
    "overall": N_("overall"),
}
_MEASURE_PHRASES: Final[dict[str, str]] = {
    "total": N_("the check-in total"),
    "bond": N_("bond"),
    "goals": N_("goals"),
    "tasks": N_("tasks"),
    "overall": N_("overall"),
}
_INSTRUMENT_WORDS: Final[dict[str, str]] = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "gbo": "Goal-Based Outcomes",
    "checkin": N_("check-in"),
    "checkin-therapist": N_("therapist check-in"),
}


def measure_word(measure: str) -> Msg:
    """``bond`` as a word of the sentence (``total`` for the check-in total)."""
    return Msg(_MEASURE_WORDS.get(measure, measure))


def measure_phrase(measure: str) -> Msg:
    """The message for :func:`measure_label` (``the check-in total``, ``bond``)."""
    return Msg(_MEASURE_PHRASES.get(measure, measure))


def instrument_word(instrument: str) -> Msg:
    """The message for :func:`instrument_label`; instrument names stay as they are."""
    return Msg(_INSTRUMENT_WORDS.get(instrument, instrument))


def chain(parts: Sequence[Msg]) -> Msg:
    """Phrases joined with ``"; "`` (one message per join, so a language may use its own mark)."""
    result = parts[0]
    for part in parts[1:]:
        result = Msg(N_("{earlier}; {later}"), {"earlier": result, "later": part})
    return result


def comma_list(items: Sequence[Item]) -> Item:
    """Items joined with ``", "`` (scores in a row), each join a message a language may change."""
    if not items:
        return ""
    result: Item = items[0]
    for item in items[1:]:
        result = Msg(N_("{earlier}, {later}"), {"earlier": result, "later": item})
    return result
