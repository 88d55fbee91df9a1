"""A bad instrument file is rejected with a message naming the file, the item and the problem."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alliance.measures import InstrumentFileError, load_instrument_file
from alliance.measures.registry import SHIPPED_DIR


def write(tmp_path: Path, doc: Any, name: str = "phq9.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def phq9_doc() -> dict[str, Any]:
    return json.loads((SHIPPED_DIR / "phq9.json").read_text(encoding="utf-8"))


def item(doc: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for i in doc["item"] if i["linkId"] == link_id)


def _drop_score(doc: dict[str, Any]) -> None:
    del item(doc, "3")["answerOption"][2]["extension"]


def _drop_all_scores(doc: dict[str, Any]) -> None:
    for option in item(doc, "3")["answerOption"]:
        del option["extension"]


def _band_gap(doc: dict[str, Any]) -> None:
    doc["alliance"]["scoring"]["bands"][1]["min"] = 6


def _band_short(doc: dict[str, Any]) -> None:
    doc["alliance"]["scoring"]["bands"][-1]["max"] = 26


def _missing_spanish(doc: dict[str, Any]) -> None:
    del item(doc, "4")["_text"]


def _unknown_scored_item(doc: dict[str, Any]) -> None:
    doc["alliance"]["scoring"]["items"].append("11")


def _text_item_scored(doc: dict[str, Any]) -> None:
    doc["item"].append(
        {"linkId": "notes", "type": "text", "text": "Notes", "_text": item(doc, "1")["_text"]}
    )
    doc["alliance"]["scoring"]["items"].append("notes")


def _typo_in_block(doc: dict[str, Any]) -> None:
    doc["alliance"]["scoring"]["missing"]["max_mising"] = 1


def _duplicate_link_id(doc: dict[str, Any]) -> None:
    item(doc, "5")["linkId"] = "4"


def _no_link_id(doc: dict[str, Any]) -> None:
    del item(doc, "6")["linkId"]


def _bad_enable_when(doc: dict[str, Any]) -> None:
    item(doc, "10")["enableWhen"][0]["question"] = "99"


def _bad_item_type(doc: dict[str, Any]) -> None:
    item(doc, "2")["type"] = "chooice"


def _external_value_set(doc: dict[str, Any]) -> None:
    node = item(doc, "2")
    del node["answerOption"]
    node["answerValueSet"] = "http://loinc.org/vs/LL358-3"


def _risk_message_language(doc: dict[str, Any]) -> None:
    del doc["alliance"]["risk"][0]["message"]["es"]


def _unvalidated_without_note(doc: dict[str, Any]) -> None:
    doc["alliance"]["validated"] = False


def _reversed_unscored(doc: dict[str, Any]) -> None:
    doc["alliance"]["scoring"]["reversed"] = ["10"]


def _same_score_twice(doc: dict[str, Any]) -> None:
    item(doc, "7")["answerOption"][3]["extension"][0]["valueDecimal"] = 2


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str | None, str]] = [
    ("option without score", _drop_score, "3", "some answer options have a score and some do not"),
    ("scored item without scores", _drop_all_scores, "3", "carry no scores"),
    ("band gap", _band_gap, None, "leave a gap or overlap"),
    ("bands short of range", _band_short, None, "must cover the whole range 0 to 27"),
    ("missing translation", _missing_spanish, "4", "text has no 'es' text"),
    ("unknown scored item", _unknown_scored_item, "11", "names an item that does not exist"),
    ("text item scored", _text_item_scored, "notes", "free-text item"),
    (
        "typo in alliance block",
        _typo_in_block,
        None,
        "alliance.scoring.missing.max_mising: Extra inputs",
    ),
    ("duplicate linkId", _duplicate_link_id, "4", "linkId is used twice"),
    ("missing linkId", _no_link_id, None, "item.6.linkId: Field required"),
    ("enableWhen to nowhere", _bad_enable_when, "10", "enableWhen refers to '99'"),
    ("bad item type", _bad_item_type, "2", "item.2.type: Input should be"),
    ("external answer value set", _external_value_set, "2", "is not contained in the file"),
    ("risk message language", _risk_message_language, "9", "risk message has no 'es' text"),
    ("unvalidated without note", _unvalidated_without_note, None, "validation_note is required"),
    ("reversed unscored", _reversed_unscored, "10", "reversed names an item that is not scored"),
    ("same score twice", _same_score_twice, "7", "two answer options have the same score"),
]


@pytest.mark.parametrize(
    ("mutate", "link_id", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file_is_rejected_with_a_precise_message(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], link_id: str | None, fragment: str
) -> None:
    doc = copy.deepcopy(phq9_doc())
    mutate(doc)
    path = write(tmp_path, doc)
    with pytest.raises(InstrumentFileError) as caught:
        load_instrument_file(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message
    if link_id is not None:
        assert f"item {link_id!r}" in message, message
        assert caught.value.link_id == link_id


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "resourceType": "Questionnaire",\n  "id": broken\n}\n', encoding="utf-8")
    with pytest.raises(
        InstrumentFileError, match=r"broken\.json: not valid JSON \(line 3, column 9\)"
    ):
        load_instrument_file(path)


def test_wrong_resource_type(tmp_path: Path) -> None:
    path = write(tmp_path, {"resourceType": "Patient", "alliance": {}}, "x.json")
    with pytest.raises(InstrumentFileError, match="resourceType must be 'Questionnaire'"):
        load_instrument_file(path)


def test_plain_fhir_needs_import(tmp_path: Path) -> None:
    doc = phq9_doc()
    del doc["alliance"]
    with pytest.raises(InstrumentFileError, match="alliance instruments import"):
        load_instrument_file(write(tmp_path, doc))


def test_id_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError, match="does not match the file name"):
        load_instrument_file(write(tmp_path, phq9_doc(), "depression.json"))


def test_placeholders_must_agree_across_languages(tmp_path: Path) -> None:
    doc = json.loads((SHIPPED_DIR / "checkin.json").read_text(encoding="utf-8"))
    item(doc, "bond")["text"] = "How was it with {therapist}?"
    with pytest.raises(InstrumentFileError, match=r"item 'bond': text \(es\) uses placeholders"):
        load_instrument_file(write(tmp_path, doc, "checkin.json"))
