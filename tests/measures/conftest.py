"""Shared fixtures for the measures tests. Nothing here needs Django."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alliance.measures import Instrument, clear_cache, get_instrument

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = ("phq9", "gad7", "gbo", "checkin", "checkin-therapist", "ending")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The developer's own ALLIANCE_DATA_DIR must never leak into a test.
    monkeypatch.delenv("ALLIANCE_INSTRUMENTS_DIR", raising=False)
    monkeypatch.delenv("ALLIANCE_DATA_DIR", raising=False)
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def phq9() -> Instrument:
    return get_instrument("phq9")


@pytest.fixture
def gad7() -> Instrument:
    return get_instrument("gad7")


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
