"""Read the per-response CSV (one row per client session) into a DataFrame for the analyses.

This is the file the exports write and `alliance report --responses FILE.csv` reads, so that anyone
can check the report against another tool. Columns (header row, any order, names case-insensitive,
unknown columns ignored):

    required  therapist, client, session, outcome, checkin
    optional  episode, date, instrument, attended, bond, goals, tasks, overall

* ``therapist``, ``client``: pseudonymous ids, never empty.
* ``session``: the session (appointment) number, a whole number from 1.
* ``outcome``: that session's outcome score, by default a PHQ-9 total; ``instrument`` names another
  registered measure (``GAD-7``, ``gad7``...). Empty when no score was given: a missed session with
  no score is ordinary data.
* ``checkin``: the client's relationship check-in total (mean of the four dimensions, 0-10), or empty;
  ``bond``, ``goals``, ``tasks``, ``overall`` are its dimensions when exported.
* ``attended``: 1/0 (true/false, yes/no) or empty; ``date``: ISO 8601 or empty.

Decisions
  - Malformed input is refused whole, with file, line and column (`CsvInputError`, the same error as
    `alliance outcomes`), never skipped: a silently dropped row would change the estimates.
  - Ranges come from the instrument definitions (`alliance.measures`), not from numbers written here.
  - The ``outcome`` column holds one measure throughout: a file mixing PHQ-9 and GAD-7 totals in it
    is refused, because a model of "outcome" across two scales would mean nothing.
  - The same session twice (same client, episode and session number) is refused, naming both lines.
  - The frame keeps the file's row order; sorting is the analysis's business.

Returned columns: therapist, client (categorical of str), session (int64), outcome, checkin
(float64, NaN when empty), then whichever optional columns the file has: episode (categorical),
instrument (str, the normalised id; "" where empty), attended (pandas "boolean"), date
(datetime64[ns]), bond, goals, tasks, overall (float64). The same names and kinds as the frames of
`alliance.analytics.simulate`.
`frame.attrs["outcome_instrument"]` is the measure in ``outcome``. When the relationship model
(`alliance.analytics.model`) names its input columns differently, it renames from these.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import IO, Any

import pandas as pd

from alliance.measures import UnknownInstrument, get_instrument
from alliance.measures.outcomes import CsvInputError, data_rows, iso_date, normalise_instrument

REQUIRED_COLUMNS = ("therapist", "client", "session", "outcome", "checkin")
OPTIONAL_COLUMNS = (
    "episode",
    "date",
    "instrument",
    "attended",
    "bond",
    "goals",
    "tasks",
    "overall",
)
CHECKIN_DIMENSIONS = ("bond", "goals", "tasks", "overall")
DEFAULT_OUTCOME = "phq9"
CHECKIN = "checkin"
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read a file (UTF-8, with or without a byte-order mark)."""
    source = str(path)
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvInputError(source, line, "not UTF-8 text (save the CSV as UTF-8)") from None
    return read_responses_stream(io.StringIO(text, newline=""), source)


@cache
def _total_range(instrument: str) -> tuple[float, float] | None:
    try:
        rules = get_instrument(instrument).rules
    except UnknownInstrument:
        return None
    return rules.total_range


@cache
def _dimension_range(link_id: str) -> tuple[float, float]:
    found = get_instrument(CHECKIN).item(link_id).score_range
    if found is None:  # the shipped check-in always has one; a broken install should say so
        raise RuntimeError(f"the check-in item {link_id!r} has no score range")
    return float(found[0]), float(found[1])


def _parse(source: str, line: int, column: str, text: str, convert: Callable[[str], Any]) -> Any:
    """Run a converter on one cell; its ValueError becomes an error naming file, line and column."""
    try:
        return convert(text)
    except ValueError as exc:
        raise CsvInputError(source, line, str(exc), column=column) from None


def _number(text: str, *, low: float, high: float, what: str) -> float:
    """A finite number within [low, high]; the message names what was wrong."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{what} {text} is outside {low:g}-{high:g}")
    return value


def _session(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole session number") from None
    if value < 1:
        raise ValueError(f"session {value} is below 1 (sessions are numbered from 1)")
    return value


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} must be 1 or 0 (did the client attend this session?)")


def _header(reader: Any, source: str) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise CsvInputError(source, 1, "the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise CsvInputError(source, 1, f"unreadable CSV: {exc}") from exc
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise CsvInputError(
            source,
            1,
            f"header lacks column(s) {', '.join(missing)} "
            f"(needs {', '.join(REQUIRED_COLUMNS)}; got {', '.join(names) or 'nothing'})",
        )
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    doubled = sorted({n for n in names if n in known and names.count(n) > 1})
    if doubled:
        raise CsvInputError(source, 1, f"column(s) {', '.join(doubled)} appear more than once")
    return names


def read_responses_stream(stream: IO[str], source: str) -> pd.DataFrame:
    reader = csv.reader(stream)
    names = _header(reader, source)
    present = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in names]
    index = {c: names.index(c) for c in present}
    values: dict[str, list[Any]] = {c: [] for c in present}
    seen: dict[tuple[str, str, int], int] = {}
    outcome_instrument: str | None = None
    outcome_line = 0
    # Converters for the cells that are the same on every row, built once (a million rows).
    checkin_low, checkin_high = _total_range(CHECKIN) or (0.0, 0.0)
    simple: dict[str, tuple[Callable[[str], Any], Any]] = {
        "checkin": (
            partial(_number, low=checkin_low, high=checkin_high, what="check-in total"),
            math.nan,
        ),
        "attended": (_flag, None),
        "date": (iso_date, None),
    }
    for dimension in CHECKIN_DIMENSIONS:
        low, high = _dimension_range(dimension)
        simple[dimension] = (partial(_number, low=low, high=high, what=dimension), math.nan)
    simple_present = [(c, *simple[c]) for c in present if c in simple]
    outcome_converters: dict[str, Callable[[str], float]] = {}
    has_episode, has_instrument = "episode" in index, "instrument" in index

    for line, fields in data_rows(reader, source, len(names)):
        cell = {c: fields[i].strip() for c, i in index.items()}

        for column in ("therapist", "client"):
            if not cell[column]:
                raise CsvInputError(source, line, "is empty", column=column)
        session = _parse(source, line, "session", cell["session"], _session)

        instrument = DEFAULT_OUTCOME
        if has_instrument and cell["instrument"]:
            instrument = normalise_instrument(cell["instrument"])
            if _total_range(instrument) is None:
                raise CsvInputError(
                    source,
                    line,
                    f"{cell['instrument']!r} is not a registered measure with a total",
                    column="instrument",
                )
        outcome = math.nan
        if cell["outcome"]:
            if outcome_instrument is None:
                outcome_instrument, outcome_line = instrument, line
            elif instrument != outcome_instrument:
                raise CsvInputError(
                    source,
                    line,
                    f"{instrument} here but {outcome_instrument} on line {outcome_line}: the "
                    "outcome column must hold one measure throughout",
                    column="instrument",
                )
            convert = outcome_converters.get(instrument)
            if convert is None:
                low, high = _total_range(instrument) or (0.0, 0.0)
                convert = partial(_number, low=low, high=high, what=f"{instrument} total")
                outcome_converters[instrument] = convert
            outcome = _parse(source, line, "outcome", cell["outcome"], convert)

        episode = cell["episode"] if has_episode else ""
        key = (cell["client"], episode, session)
        if key in seen:
            raise CsvInputError(
                source,
                line,
                f"session {session} of client {key[0]!r}"
                + (f" (episode {episode!r})" if episode else "")
                + f" already appears on line {seen[key]}",
                column="session",
            )
        seen[key] = line

        values["therapist"].append(cell["therapist"])
        values["client"].append(cell["client"])
        values["session"].append(session)
        values["outcome"].append(outcome)
        if has_episode:
            values["episode"].append(episode)
        if has_instrument:
            values["instrument"].append(instrument if cell["instrument"] else "")
        for column, converter, missing in simple_present:
            text = cell[column]
            values[column].append(
                _parse(source, line, column, text, converter) if text else missing
            )

    return _frame(values, present, outcome_instrument or DEFAULT_OUTCOME)


def _frame(values: dict[str, list[Any]], present: list[str], instrument: str) -> pd.DataFrame:
    columns: dict[str, pd.Series[Any]] = {}
    for column in present:
        data = values[column]
        if column == "session":
            columns[column] = pd.Series(data, dtype="int64")
        elif column == "attended":
            columns[column] = pd.Series(data, dtype="boolean")
        elif column == "date":
            columns[column] = pd.to_datetime(pd.Series(data, dtype="object")).astype(
                "datetime64[ns]"
            )
        elif column in ("outcome", "checkin", *CHECKIN_DIMENSIONS):
            columns[column] = pd.Series(data, dtype="float64")
        elif column in ("therapist", "client", "episode"):
            # Categorical like alliance.analytics.simulate's frames: the model sees one shape, and
            # a million repeated ids take a fraction of the memory.
            columns[column] = pd.Series(pd.Categorical(data))
        else:
            columns[column] = pd.Series(data, dtype="object")
    frame = pd.DataFrame(columns)
    frame.attrs["outcome_instrument"] = instrument
    return frame
