"""alliance.measures: outcome and relationship measures as data, in pure Python.

Never imports Django. The public API (see docs/CONTRACTS.md and docs/measures.md):

    from alliance.measures import get_instrument, all_instruments, UnknownInstrument
    result = get_instrument("phq9").score({"1": 2, ..., "9": 0})
"""

from alliance.measures.errors import (
    InstrumentFileError,
    InvalidAnswers,
    MeasuresError,
    MissingContext,
    UnknownInstrument,
)
from alliance.measures.loader import load_instrument_file, parse_instrument
from alliance.measures.model import Band, Instrument, Item, Option, Subscale
from alliance.measures.registry import (
    Registry,
    all_instruments,
    clear_cache,
    get_instrument,
    load_registry,
    registry,
    user_instruments_dir,
)
from alliance.measures.scoring import BandResult, RiskFlag, ScoreResult
from alliance.measures.text import LocalizedText

__all__ = [
    "Band",
    "BandResult",
    "Instrument",
    "InstrumentFileError",
    "InvalidAnswers",
    "Item",
    "LocalizedText",
    "MeasuresError",
    "MissingContext",
    "Option",
    "Registry",
    "RiskFlag",
    "ScoreResult",
    "Subscale",
    "UnknownInstrument",
    "all_instruments",
    "clear_cache",
    "get_instrument",
    "load_instrument_file",
    "load_registry",
    "parse_instrument",
    "registry",
    "user_instruments_dir",
]
