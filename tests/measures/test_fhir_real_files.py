"""Real public Questionnaires import and score like the shipped instruments (fixtures/fhir/SOURCES.md);
a LOINC-coded PHQ-9 or GAD-7 that matches takes the shipped rules, one that does not says what differs;
scoring rules come from Alliance's extensions or the command line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures import InstrumentFileError, get_instrument
from alliance.measures.fhir import import_questionnaire
from alliance.measures.import_rules import (
    BandSpec,
    RiskSpec,
    RuleError,
    RuleSpecs,
    parse_band,
    parse_number,
    parse_risk,
    rules_from_extensions,
)
from alliance.measures.loader import parse_instrument

from .conftest import fixture_json

PHQ9 = get_instrument("phq9")
GAD7 = get_instrument("gad7")
ARGONAUT_R4 = fixture_json("fhir/lforms-argonaut-phq9-ish.R4.json")
ARGONAUT_R5 = fixture_json("fhir/lforms-argonaut-phq9-ish.R5.json")
RK_GAD7 = fixture_json("fhir/researchkitonfhir-gad7-contained-valueset.R4.json")
SDC_PHQ9 = fixture_json("hl7-sdc-phq9-contained-valueset.R4.json")
BASE = "https://clinic.example/fhir/StructureDefinition/alliance-"
GAD7_RULES = RuleSpecs(
    bands=(
        BandSpec("minimal", 0, 4, "Minimal"),
        BandSpec("mild", 5, 9, "Mild"),
        BandSpec("moderate", 10, 14, "Moderate"),
        BandSpec("severe", 15, 21, "Severe"),
    ),
    cutoff=8,
    reliable_change=4,
)


def _by_loinc(instrument: Any) -> dict[str, str]:
    """shipped PHQ-9 linkId -> the imported file's linkId, paired by item LOINC code."""
    theirs = {item.loinc: item.link_id for item in instrument.items if item.loinc}
    return {str(n): theirs[PHQ9.item(str(n)).loinc] for n in range(1, 10)}


# --- contained ValueSet expansion (the file issue 13 names) -------------------------------------


@pytest.mark.parametrize("document", [ARGONAUT_R4, ARGONAUT_R5], ids=["R4", "R5"])
def test_answers_in_a_contained_valueset_expansion_import(document: dict[str, Any]) -> None:
    imported = import_questionnaire(document)
    instrument = imported.instrument
    # Four answers, scored 0-3, from expansion.contains; R5 spells the item type "coding".
    assert [o.value for o in instrument.item("g1.q1").options] == [0, 1, 2, 3]
    assert [o.code for o in instrument.item("g1.q9").options][-1] == "LA6571-9"
    # The difficulty question's list (#PHQ-10) carries no scores: asked, never scored.
    assert not instrument.item("g2.q1").scored and instrument.item("g2.q1").options
    # Coded 44249-1 with the PHQ-9's items and scores: it takes the shipped rules, and says so.
    assert imported.match is not None and imported.match.matched
    assert "match the shipped 'phq9'" in imported.messages[0]
    assert [r.item for r in instrument.risk_rules] == ["g1.q9"]
    # The same rules, with their labels in the file's one language (English).
    cutoff, shipped_cutoff = instrument.rules.cutoff, PHQ9.rules.cutoff
    assert cutoff is not None and shipped_cutoff is not None
    assert (cutoff.value, cutoff.clinical) == (shipped_cutoff.value, shipped_cutoff.clinical)
    assert [(b.key, b.min, b.max, b.label()) for b in instrument.rules.bands] == [
        (b.key, b.min, b.max, b.label()) for b in PHQ9.rules.bands
    ]
    assert instrument.rules.reliable_change == PHQ9.rules.reliable_change
    assert instrument.rules.missing == PHQ9.rules.missing


@given(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=9, max_size=9))
def test_the_argonaut_phq9_scores_like_the_shipped_one(values: list[int | None]) -> None:
    instrument = import_questionnaire(ARGONAUT_R4).instrument
    pairs = _by_loinc(instrument)
    answers = {str(n): v for n, v in enumerate(values, 1)}
    shipped = PHQ9.score(answers)
    theirs = instrument.score({pairs[k]: v for k, v in answers.items()})
    assert (theirs.scorable, theirs.total, theirs.prorated) == (
        shipped.scorable,
        shipped.total,
        shipped.prorated,
    )
    assert (theirs.band.key if theirs.band else None) == (
        shipped.band.key if shipped.band else None
    )
    assert theirs.above_cutoff == shipped.above_cutoff
    assert [(pairs["9"], f.answer, f.level) for f in shipped.risk_flags] == [
        (f.item, f.answer, f.level) for f in theirs.risk_flags
    ]


def test_the_saved_file_loads_as_the_registry_will_load_it() -> None:
    imported = import_questionnaire(ARGONAUT_R4)
    text = json.dumps(imported.document)
    again = parse_instrument(json.loads(text), "saved.json", expected_id=imported.instrument.id)
    assert again.risk_rules == imported.instrument.risk_rules


# --- the LOINC match, and the mismatch message ----------------------------------------------------


def test_a_mismatch_says_exactly_what_differs_and_takes_nothing() -> None:
    changed = copy.deepcopy(ARGONAUT_R4)
    # Item 2 recoded, and the answer list scored 0-4 (one answer scored 4 instead of 3).
    group = changed["item"][0]["item"]
    group[2]["code"][0]["code"] = "99999-9"
    contains = changed["contained"][0]["expansion"]["contains"]
    contains[3]["extension"][0]["valueDecimal"] = 4
    imported = import_questionnaire(changed)
    match = imported.match
    assert match is not None and not match.matched and match.shipped_id == "phq9"
    assert "no item is coded 44255-8 (phq9 item 2)" in match.differences
    assert (
        "item 'g1.q1' (phq9 item 1): answer scores 0, 1, 2, 4 where phq9 has 0, 1, 2, 3"
        in match.differences
    )
    assert "does not match, so none of phq9's rules were taken" in imported.messages[0]
    instrument = imported.instrument
    assert instrument.risk_rules == () and instrument.rules.cutoff is None
    assert instrument.validated is False


def test_matching_can_be_turned_off() -> None:
    imported = import_questionnaire(ARGONAUT_R4, use_shipped_rules=False)
    assert imported.match is None and imported.instrument.risk_rules == ()


def test_a_different_answer_code_with_the_same_score_still_matches_and_is_noted() -> None:
    changed = copy.deepcopy(ARGONAUT_R4)
    changed["contained"][0]["expansion"]["contains"][2]["code"] = "LA18938-3"
    imported = import_questionnaire(changed)
    assert imported.match is not None and imported.match.matched
    assert any("LA18938-3 instead of LA6570-1" in note for note in imported.match.notes)


# --- rules from the command line and from extensions ---------------------------------------


@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_a_gad7_with_rules_given_scores_like_the_shipped_one(values: list[int]) -> None:
    imported = import_questionnaire(RK_GAD7, rules=GAD7_RULES)
    instrument = imported.instrument
    assert imported.match is None  # the file carries no LOINC code: nothing to match
    answers = dict(zip(instrument.rules.items, values, strict=True))
    shipped = GAD7.score({str(n): v for n, v in enumerate(values, 1)})
    theirs = instrument.score(answers)
    assert theirs.total == shipped.total
    assert theirs.band is not None and shipped.band is not None
    assert theirs.band.key == shipped.band.key and theirs.above_cutoff == shipped.above_cutoff


def test_a_risk_item_given_raises_the_risk_flag() -> None:
    rules = RuleSpecs(risk=(RiskSpec("H1/T1/Q9", ">", 0),))
    instrument = import_questionnaire(SDC_PHQ9, rules=rules).instrument
    answers = {item: 0 for item in instrument.rules.items}
    assert instrument.score(answers).risk_flags == ()
    flags = instrument.score({**answers, "H1/T1/Q9": 1}).risk_flags
    assert [(f.item, f.level) for f in flags] == [("H1/T1/Q9", "urgent")]
    assert "H1/T1/Q9 > 0" in flags[0].message


def _extension(kind: str, **parts: Any) -> dict[str, Any]:
    if "value" in parts and len(parts) == 1:
        return {"url": BASE + kind, "valueDecimal": parts["value"]}
    return {
        "url": BASE + kind,
        "extension": [{"url": name, **value} for name, value in parts.items()],
    }


def _with_extensions(document: dict[str, Any], extensions: list[dict[str, Any]]) -> dict[str, Any]:
    return {**copy.deepcopy(document), "extension": extensions}


def test_rules_from_the_files_extensions() -> None:
    bands = [
        _extension(
            "band",
            key={"valueCode": key},
            min={"valueInteger": low},
            max={"valueInteger": high},
            label={"valueString": key.title()},
        )
        for key, low, high in [("low", 0, 9), ("mid", 10, 19), ("high", 20, 27)]
    ]
    risk = _extension(
        "risk",
        item={"valueString": "H1/T1/Q9"},
        operator={"valueCode": ">="},
        value={"valueInteger": 2},
    )
    document = _with_extensions(
        SDC_PHQ9,
        [*bands, _extension("cutoff", value=12), _extension("reliable-change", value=5), risk],
    )
    imported = import_questionnaire(document)
    rules = imported.instrument.rules
    assert [b.key for b in rules.bands] == ["low", "mid", "high"]
    assert rules.cutoff is not None and rules.cutoff.value == 12
    assert rules.reliable_change is not None and rules.reliable_change.threshold == 5
    assert [(r.item, r.operator, r.value) for r in imported.instrument.risk_rules] == [
        ("H1/T1/Q9", ">=", 2)
    ]
    # The command line wins over the file, kind by kind.
    given = import_questionnaire(document, rules=RuleSpecs(cutoff=15)).instrument.rules
    assert given.cutoff is not None and given.cutoff.value == 15 and len(given.bands) == 3


@pytest.mark.parametrize(
    ("extension", "fragment"),
    [
        (_extension("cutoff", value=99), "cutoff 99 is outside the score range"),
        (_extension("risk", item={"valueString": "nope"}, value={"valueInteger": 0}), "'nope'"),
        ({"url": BASE + "colour", "valueString": "red"}, "no extension 'alliance-colour'"),
        (_extension("reliable-change", value=-1), "must be above 0"),
        (
            _extension(
                "band", key={"valueCode": "x"}, min={"valueInteger": 3}, max={"valueInteger": 1}
            ),
            "above max",
        ),
    ],
)
def test_bad_rule_extensions_are_named(extension: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InstrumentFileError) as raised:
        import_questionnaire(_with_extensions(SDC_PHQ9, [extension]), source="q.json")
    assert fragment in str(raised.value) and "q.json" in str(raised.value)


def test_bands_that_leave_a_gap_are_refused_by_the_loader() -> None:
    rules = RuleSpecs(bands=(BandSpec("a", 0, 9, "A"), BandSpec("b", 11, 27, "B")))
    with pytest.raises(InstrumentFileError, match="leave a gap or overlap"):
        import_questionnaire(SDC_PHQ9, rules=rules)


def test_a_full_alliance_file_takes_no_options() -> None:
    document = json.loads(
        (Path(__file__).parents[2] / "alliance/measures/instruments/phq9.json").read_text()
    )
    with pytest.raises(InstrumentFileError, match="change them there"):
        import_questionnaire(document, instrument_id="my-phq9", rules=RuleSpecs(cutoff=9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mild:5-9:Mild", BandSpec("mild", 5, 9, "Mild")),
        ("low:-2-3", BandSpec("low", -2, 3, "low")),
        ("mean:1.5-2.75:Mid range", BandSpec("mean", 1.5, 2.75, "Mid range")),
    ],
)
def test_band_options(text: str, expected: BandSpec) -> None:
    assert parse_band(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9>0", RiskSpec("9", ">", 0)),
        ("/44260-8>=1", RiskSpec("/44260-8", ">=", 1)),
        ("q!=0", RiskSpec("q", "!=", 0)),
    ],
)
def test_risk_options(text: str, expected: RiskSpec) -> None:
    assert parse_risk(text) == expected


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: parse_band("mild"), "write it as KEY:MIN-MAX"),
        (lambda: parse_band("a b:1-2"), "the key may hold only"),
        (lambda: parse_band("x:9-1"), "9 is above 1"),
        (lambda: parse_risk("9"), "write it as LINKID>VALUE"),
        (lambda: parse_number("nan", "--cutoff"), "not a finite number"),
        (lambda: parse_number("0", "--reliable-change", positive=True), "must be above 0"),
    ],
)
def test_bad_options_say_why(call: Any, fragment: str) -> None:
    with pytest.raises(RuleError, match=fragment):
        call()


def test_extensions_of_other_systems_are_ignored() -> None:
    assert rules_from_extensions(
        [{"url": "http://hl7.org/fhir/StructureDefinition/x"}, "junk"]
    ).is_empty


# --- other real-file shapes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://hl7.org/fhir/StructureDefinition/itemWeight",
        "http://hl7.org/fhir/StructureDefinition/questionnaire-ordinalValue",
    ],
)
def test_the_other_score_extension_urls(url: str) -> None:
    document = copy.deepcopy(fixture_json("lhc-forms-phq9.R4.json"))
    for item in document["item"]:
        for option in item.get("answerOption", []):
            for ext in option.get("extension", []):
                if ext["url"].endswith("/ordinalValue"):
                    ext["url"] = url
    instrument = import_questionnaire(document, instrument_id="lhc").instrument
    assert instrument.score(dict.fromkeys(instrument.rules.items, 1)).total == 9


def test_questions_alliance_cannot_ask_are_left_out_and_said() -> None:
    document = copy.deepcopy(SDC_PHQ9)
    group = document["item"][0]["item"]
    group.insert(0, {"linkId": "consent", "type": "boolean", "text": "Do you agree?"})
    group.append(
        {"linkId": "when", "type": "date", "text": "Date", "initial": [{"valueDate": "2020-01-01"}]}
    )
    imported = import_questionnaire(document)
    assert "consent (boolean), when (date)" in imported.messages[0]
    assert not imported.instrument.has_item("consent")
    # The saved file no longer holds them, so it loads.
    saved = json.loads(json.dumps(imported.document))
    assert parse_instrument(saved, "saved.json").rules.items == imported.instrument.rules.items


def test_an_enable_when_on_a_question_left_out_is_named() -> None:
    document = copy.deepcopy(SDC_PHQ9)
    group = document["item"][0]["item"]
    group.insert(0, {"linkId": "consent", "type": "boolean", "text": "Do you agree?"})
    group[1]["enableWhen"] = [{"question": "consent", "operator": "=", "answerBoolean": True}]
    with pytest.raises(InstrumentFileError, match="which Alliance cannot ask \\(type boolean\\)"):
        import_questionnaire(document)


def test_a_file_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    from alliance.measures.loader import read_json

    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(SDC_PHQ9).encode())
    assert read_json(path)["resourceType"] == "Questionnaire"


def test_a_question_in_a_hidden_group_is_hidden() -> None:
    document = copy.deepcopy(ARGONAUT_R4)
    difficulty_group = document["item"][1]
    loinc = "http://loinc.org"
    difficulty_group["enableWhen"] = [
        {
            "question": "g1.q1",
            "operator": "!=",
            "answerCoding": {"system": loinc, "code": "LA6568-5"},
        }
    ]
    instrument = import_questionnaire(document).instrument
    shown = {i.link_id for i in instrument.visible_items({"g1.q1": 0})}
    assert "g2.q1" not in shown and "g1.q2" in shown
    assert "g2.q1" in {i.link_id for i in instrument.visible_items({"g1.q1": 2})}
    # The group's condition and the question's own both apply.
    difficulty_group["item"][0]["enableWhen"] = [
        {"question": "g1.q2", "operator": "exists", "answerBoolean": True}
    ]
    both = import_questionnaire(document).instrument
    assert "g2.q1" not in {i.link_id for i in both.visible_items({"g1.q1": 2})}
    assert "g2.q1" in {i.link_id for i in both.visible_items({"g1.q1": 2, "g1.q2": 0})}
    # ... unless one level wants any of several: that cannot be flattened, and is said.
    difficulty_group["enableBehavior"] = "any"
    difficulty_group["enableWhen"].append(
        {"question": "g1.q3", "operator": "exists", "answerBoolean": True}
    )
    with pytest.raises(
        InstrumentFileError, match="enableBehavior 'any' on 'g2' cannot be combined"
    ):
        import_questionnaire(document)


def test_a_gad7_coded_with_its_panel_matches_in_order_when_items_carry_no_codes() -> None:
    coded = copy.deepcopy(RK_GAD7)
    coded["code"] = [{"system": "http://loinc.org", "code": "69737-5"}]
    imported = import_questionnaire(coded)
    match = imported.match
    assert match is not None and match.matched and match.shipped_id == "gad7"
    assert match.how.startswith("order")
    instrument = imported.instrument
    assert [b.key for b in instrument.rules.bands] == [b.key for b in GAD7.rules.bands]
    cutoff = instrument.rules.cutoff
    assert cutoff is not None and cutoff.value == 8
    answers = dict(zip(instrument.rules.items, [2, 2, 2, 1, 1, 1, 1], strict=True))
    assert instrument.score(answers).band.key == "moderate"  # type: ignore[union-attr]
    # With one item fewer it is not the GAD-7: said, and nothing taken.
    coded["item"][0]["item"].pop()
    short = import_questionnaire(coded)
    assert short.match is not None and not short.match.matched
    assert short.match.differences == ("6 items carry answer scores where gad7 scores 7",)
    assert short.instrument.rules.cutoff is None


def test_a_lone_brace_in_an_item_text_is_named() -> None:
    document = copy.deepcopy(SDC_PHQ9)
    document["item"][0]["item"][0]["text"] = "Little interest {"
    with pytest.raises(InstrumentFileError, match="item 'H1/T1/Q1': text has a broken"):
        import_questionnaire(document)
