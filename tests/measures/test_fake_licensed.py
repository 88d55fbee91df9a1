"""A clinic's own licensed instrument, added as a data file (made-up items)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures import get_instrument, load_instrument_file, load_registry, registry
from alliance.measures.registry import SHIPPED_DIR

from .conftest import FIXTURES

FAKE = FIXTURES / "fake-alliance-scale.json"


@pytest.fixture
def fake():
    return load_instrument_file(FAKE)


def test_loads_with_subscales_and_reversal(fake) -> None:
    assert fake.rules.method == "mean" and fake.rules.total_range == (1.0, 5.0)
    assert [s.id for s in fake.rules.subscales] == ["a", "b", "c"]
    assert fake.rules.reversed == frozenset({"7"})
    assert fake.direction == "higher_is_better"


def test_reversed_item_and_subscales(fake) -> None:
    answers = {str(n): 5 for n in range(1, 13)}
    result = fake.score(answers)
    # Item 7 answered 5 scores 1 once reversed: (11*5 + 1) / 12.
    assert result.total == pytest.approx(56 / 12)
    assert result.subscales["a"] == 5 and result.subscales["c"] == 5
    assert result.subscales["b"] == pytest.approx((5 + 5 + 1 + 5) / 4)
    assert result.band is not None and result.band.key == "high"


def test_bands_and_cutoff_for_a_mean_scale(fake) -> None:
    low = fake.score({str(n): 2 if n != 7 else 4 for n in range(1, 13)})
    assert low.total == 2 and low.band is not None and low.band.key == "low"
    assert low.clinical is True  # at or below 2.5 on a higher-is-better scale
    mid = fake.score({str(n): 3 for n in range(1, 13)})
    assert mid.band is not None and mid.band.key == "medium" and mid.clinical is False


def test_subscale_missing_rules(fake) -> None:
    answers: dict[str, int | None] = {str(n): 4 for n in range(1, 13)}
    answers["1"] = answers["2"] = None  # two missing in subscale a: more than its 1
    result = fake.score(answers)
    assert result.scorable and result.subscales["a"] is None
    assert result.prorated and "mean of the 10 answered items" in (result.proration or "")


@given(st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=12, max_size=12))
def test_mean_stays_in_range(values: list[int | None]) -> None:
    fake = load_instrument_file(FAKE)
    result = fake.score({str(n): v for n, v in enumerate(values, 1)})
    assert result.scorable == (values.count(None) <= 2)
    if result.scorable:
        assert result.total is not None and 1 <= result.total <= 5


def test_registry_picks_up_a_user_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(FAKE, tmp_path / FAKE.name)
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path))
    inst = get_instrument("fake-alliance-scale")
    assert not inst.shipped and inst.source == str(tmp_path / FAKE.name)
    assert registry().problems == ()


def test_data_dir_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "instruments").mkdir()
    shutil.copy(FAKE, tmp_path / "instruments" / FAKE.name)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path))
    assert get_instrument("fake-alliance-scale").id == "fake-alliance-scale"


def test_user_file_cannot_replace_a_shipped_instrument(tmp_path: Path) -> None:
    doc = json.loads((SHIPPED_DIR / "phq9.json").read_text(encoding="utf-8"))
    doc["alliance"]["scoring"]["cutoff"]["value"] = 5
    (tmp_path / "phq9.json").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    reg = load_registry(user_dir=tmp_path)
    assert reg.get("phq9").shipped and reg.get("phq9").rules.cutoff.value == 10  # type: ignore[union-attr]
    messages = sorted(str(p) for p in reg.problems)
    assert any("broken.json: not valid JSON" in m for m in messages)
    assert any("'phq9' is a shipped instrument and cannot be replaced" in m for m in messages)
