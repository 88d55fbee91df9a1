"""Exceptions raised by alliance.measures.

They subclass ValueError/KeyError where callers would naturally expect those,
so generic handlers keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class MeasuresError(Exception):
    """Base class for every error this package raises on purpose."""


class UnknownInstrument(MeasuresError, KeyError):
    def __init__(self, instrument_id: str, known: tuple[str, ...] = ()) -> None:
        self.instrument_id = instrument_id
        self.known = known
        super().__init__(instrument_id)

    def __str__(self) -> str:
        hint = f" (known: {', '.join(self.known)})" if self.known else ""
        return f"unknown instrument {self.instrument_id!r}{hint}"


class InstrumentFileError(MeasuresError, ValueError):
    """An instrument file (or FHIR Questionnaire) that cannot be used.

    The message always names the file and, when the problem belongs to one
    item, its linkId, so a clinic editing JSON by hand can find the line.
    """

    def __init__(self, source: str | Path, problem: str, link_id: str | None = None) -> None:
        self.source = str(source)
        self.problem = problem
        self.link_id = link_id
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"item {self.link_id!r}: " if self.link_id is not None else ""
        return f"{self.source}: {where}{self.problem}"


class InvalidAnswers(MeasuresError, ValueError):
    """Answers that cannot be scored because a value is wrong (not merely missing)."""

    def __init__(self, instrument_id: str, problems: Mapping[str, str]) -> None:
        self.instrument_id = instrument_id
        self.problems = dict(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        listed = "; ".join(f"item {k!r}: {v}" for k, v in self.problems.items())
        return f"{self.instrument_id}: invalid answers: {listed}"


class MissingContext(MeasuresError, KeyError):
    """An item's text needs a context value (e.g. the client's goal) that was not given."""

    def __init__(self, link_id: str, key: str) -> None:
        self.link_id = link_id
        self.key = key
        super().__init__(key)

    def __str__(self) -> str:
        return f"item {self.link_id!r} needs context {self.key!r} (e.g. the client's own goal text)"
