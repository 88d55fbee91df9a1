"""Read an outcomes CSV and write per-episode NHS Talking Therapies flags.

Input: a header row, then one row per score, with columns (any order, case
ignored, extra columns ignored):

    episode, date, instrument, total, attended

* ``instrument``: ``phq9`` or ``gad7`` (``PHQ-9``/``GAD-7`` accepted).
* ``total``: the measure's total (PHQ-9 0-27, GAD-7 0-21), or empty when no score was
  given: a missed appointment (``attended`` 0) with no score is ordinary data and counts
  nothing; an attended appointment with no score counts as attended and adds no score. A
  total that is present but not a number is still an error. A row with an empty total may
  leave ``instrument`` empty too (it only records the appointment).
* ``attended``: was the appointment on that date an attended *treatment*
  appointment? ``1``/``0`` (also true/false, yes/no). An episode's attended
  count is the number of distinct dates with an attended row. Counts such as
  ``3`` are rejected rather than guessed at, because reading them as flags
  would silently undercount.
* ``date``: ISO 8601 (``2024-03-01``; a datetime's date part is used).

Every problem is reported with the file name and line number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from alliance.measures.errors import MeasuresError
from alliance.measures.nhs import GAD7, PHQ9, EpisodeOutcome, Measurement, episode_outcome

REQUIRED_COLUMNS = ("episode", "date", "instrument", "total", "attended")
RANGES = {PHQ9: (0.0, 27.0), GAD7: (0.0, 21.0)}
OUTPUT_COLUMNS = (
    "episode",
    "attended",
    "finished_course",
    "paired_dates",
    "first_date",
    "last_date",
    "phq9_first",
    "phq9_last",
    "gad7_first",
    "gad7_last",
    "case_at_start",
    "case_at_end",
    "eligible",
    "recovery",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
    "note",
)
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


class CsvInputError(MeasuresError, ValueError):
    """A malformed CSV, named by file, line and (when one column is at fault) column."""

    def __init__(self, source: str, line: int, problem: str, column: str | None = None) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        return f"{self.source}:{self.line}: {where}{self.problem}"


@dataclass(frozen=True)
class OutcomeRow:
    line: int
    episode: str
    when: date
    instrument: str  # "" on a row that records an appointment without a score
    total: float | None  # None: no score given (e.g. a missed appointment)
    attended: bool


def data_rows(reader: Any, source: str, width: int) -> Iterator[tuple[int, list[str]]]:
    """The rows after a CSV's header, each with its line number, blank rows skipped; a row that
    cannot be read or has another number of fields than the header is refused with where it is.
    (`reader` is a csv.reader; its type is private to the csv module.)"""
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvInputError(source, reader.line_num, f"unreadable CSV: {exc}") from exc
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != width:
            raise CsvInputError(
                source,
                reader.line_num,
                f"expected {width} fields like the header, found {len(fields)}",
            )
        yield reader.line_num, fields


def normalise_instrument(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def iso_date(text: str) -> date:
    """An ISO date like 2024-03-01 (a date-time counts on its date); ValueError says what was wrong.
    The one date reader of the CSV importers and the report command."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date like 2024-03-01") from None


def read_rows(
    stream: IO[str], source: str, *, ignore_other_instruments: bool = False
) -> tuple[list[OutcomeRow], int]:
    """Parse the CSV. Returns (rows, number of rows skipped as other instruments)."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvInputError(source, 1, "the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise CsvInputError(source, 1, f"unreadable CSV: {exc}") from exc
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise CsvInputError(
            source,
            1,
            f"header lacks column(s) {', '.join(missing)} "
            f"(needs {', '.join(REQUIRED_COLUMNS)}; got {', '.join(names) or 'nothing'})",
        )
    index = {c: names.index(c) for c in REQUIRED_COLUMNS}
    rows: list[OutcomeRow] = []
    skipped = 0
    for line, fields in data_rows(reader, source, len(names)):
        value = {c: fields[i].strip() for c, i in index.items()}
        if not value["episode"]:
            raise CsvInputError(source, line, "episode is empty")
        instrument = normalise_instrument(value["instrument"])
        unscored = value["total"] == ""
        if instrument not in RANGES and not (unscored and instrument == ""):
            if ignore_other_instruments:
                skipped += 1
                continue
            raise CsvInputError(
                source,
                line,
                f"instrument {value['instrument']!r} is not phq9 or gad7 "
                "(use --ignore-other-instruments to skip such rows)",
            )
        try:
            when = iso_date(value["date"])
        except ValueError:
            raise CsvInputError(
                source, line, f"date {value['date']!r} is not an ISO date like 2024-03-01"
            ) from None
        total: float | None = None
        if not unscored:
            try:
                total = float(value["total"])
            except ValueError:
                raise CsvInputError(
                    source, line, f"total {value['total']!r} is not a number"
                ) from None
            lo, hi = RANGES[instrument]
            if not lo <= total <= hi:  # also refuses nan and inf
                raise CsvInputError(
                    source, line, f"{instrument} total {value['total']} is outside {lo:g}-{hi:g}"
                )
        flag = value["attended"].lower()
        if flag not in _TRUE | _FALSE:
            raise CsvInputError(
                source,
                line,
                f"attended {value['attended']!r} must be 1 or 0 (was this date an attended "
                "treatment appointment?)",
            )
        rows.append(OutcomeRow(line, value["episode"], when, instrument, total, flag in _TRUE))
    return rows, skipped


def episode_outcomes(rows: Iterable[OutcomeRow]) -> list[EpisodeOutcome]:
    """One outcome per episode, in order of first appearance."""
    grouped: dict[str, list[OutcomeRow]] = {}
    for row in rows:
        grouped.setdefault(row.episode, []).append(row)
    outcomes = []
    for episode, episode_rows in grouped.items():
        attended = len({r.when for r in episode_rows if r.attended})
        measurements = [
            Measurement(r.when, r.instrument, r.total) for r in episode_rows if r.total is not None
        ]
        outcomes.append(episode_outcome(measurements, attended, episode))
    return outcomes


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_outcomes(outcomes: Sequence[EpisodeOutcome], stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for outcome in outcomes:
        writer.writerow([_cell(getattr(outcome, column)) for column in OUTPUT_COLUMNS])
