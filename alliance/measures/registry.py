"""Where instruments come from: the shipped files plus the clinic's own directory.

The user directory is ``$ALLIANCE_INSTRUMENTS_DIR`` if set, else
``$ALLIANCE_DATA_DIR/instruments``, else none. A user file may not replace a
shipped instrument: it is skipped and reported (``Registry.problems`` and a
log warning), never silently preferred. A broken user file is skipped the
same way so one bad file cannot take every measure down; a broken shipped
file is a bug and raises.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from alliance.measures.errors import InstrumentFileError, UnknownInstrument
from alliance.measures.loader import load_instrument_file
from alliance.measures.model import Instrument

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent / "instruments"


def user_instruments_dir(environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    explicit = env.get("ALLIANCE_INSTRUMENTS_DIR")
    if explicit:
        return Path(explicit)
    data = env.get("ALLIANCE_DATA_DIR")
    if data:
        return Path(data) / "instruments"
    return None


@dataclass(frozen=True)
class Registry:
    instruments: dict[str, Instrument]
    problems: tuple[InstrumentFileError, ...] = ()
    user_dir: Path | None = None
    shipped_ids: frozenset[str] = field(default_factory=frozenset)

    def get(self, instrument_id: str) -> Instrument:
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise UnknownInstrument(instrument_id, tuple(sorted(self.instruments))) from None

    def all(self) -> tuple[Instrument, ...]:
        return tuple(self.instruments[k] for k in sorted(self.instruments))


def load_registry(shipped_dir: Path = SHIPPED_DIR, user_dir: Path | None = None) -> Registry:
    instruments: dict[str, Instrument] = {}
    for path in sorted(shipped_dir.glob("*.json")):
        instrument = load_instrument_file(path, shipped=True)
        instruments[instrument.id] = instrument
    shipped_ids = frozenset(instruments)
    problems: list[InstrumentFileError] = []
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.json")):
            if path.stem in shipped_ids:
                problem = InstrumentFileError(
                    path,
                    f"{path.stem!r} is a shipped instrument and cannot be replaced by a user file; "
                    "give the file another id",
                )
                log.warning("%s", problem)
                problems.append(problem)
                continue
            try:
                instruments[path.stem] = load_instrument_file(path)
            except InstrumentFileError as problem:
                log.warning("skipping instrument file: %s", problem)
                problems.append(problem)
    return Registry(instruments, tuple(problems), user_dir, shipped_ids)


def registry() -> Registry:
    """The registry for the current environment (cached per ALLIANCE_INSTRUMENTS_DIR and
    ALLIANCE_DATA_DIR)."""
    return _for_environment(
        os.environ.get("ALLIANCE_INSTRUMENTS_DIR"), os.environ.get("ALLIANCE_DATA_DIR")
    )


@lru_cache(maxsize=8)
def _for_environment(explicit: str | None, data: str | None) -> Registry:
    # Keyed by the two variables' text, not by the directory's Path: every check-in page looks
    # instruments up several times, and building the Path for each lookup was 3% of the landing
    # page's time.
    environ = {
        name: value
        for name, value in (("ALLIANCE_INSTRUMENTS_DIR", explicit), ("ALLIANCE_DATA_DIR", data))
        if value is not None
    }
    return load_registry(SHIPPED_DIR, user_instruments_dir(environ))


def clear_cache() -> None:
    """Forget loaded instruments, e.g. after a file was added to the user directory."""
    _for_environment.cache_clear()


def get_instrument(instrument_id: str) -> Instrument:
    return registry().get(instrument_id)


def all_instruments() -> tuple[Instrument, ...]:
    return registry().all()
