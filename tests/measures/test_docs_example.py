"""The worked example in docs/measures.md must keep working."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from alliance.measures.cli import main
from alliance.measures.fhir import conformance_problems

DOC = Path(__file__).resolve().parents[2] / "docs" / "measures.md"


def example() -> dict[str, object]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if '"id": "example-session-scale"' in b]
    assert len(found) == 1
    data: dict[str, object] = json.loads(found[0])
    return data


def test_doc_example_imports_scores_and_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "example-session-scale.json"
    source.write_text(json.dumps(example()), encoding="utf-8")
    assert conformance_problems(example()) == []
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path / "instruments"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["instruments", "import", str(source)], stdout=out, stderr=err) == 0, err.getvalue()

    out = io.StringIO()
    assert main(["score", "example-session-scale", "4", "5", "3", "2"], stdout=out) == 0
    result = json.loads(out.getvalue())
    # Item 4 is reversed: 2 scores 4, so the mean is (4 + 5 + 3 + 4) / 4.
    assert result["total"] == 4 and result["band"]["key"] == "fine" and result["clinical"] is False
    assert result["subscales"] == {"connection": 4.5, "direction": 3.5}

    out = io.StringIO()
    args = ["change", "--instrument", "example-session-scale", "--before", "2.5", "--after", "4"]
    assert main(args, stdout=out) == 0
    change = json.loads(out.getvalue())
    assert change["method"] == "jacobson-truax" and change["outcome"] == "reliable improvement"


def test_docs_list_every_unverified_nhs_rule() -> None:
    from alliance.measures import nhs

    text = DOC.read_text(encoding="utf-8")
    for name in nhs.UNVERIFIED_RULES:
        assert name in text
