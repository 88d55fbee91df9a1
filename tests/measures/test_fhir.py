"""FHIR import (real LHC-Forms and HL7 SDC Questionnaires) and Bundle export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures import get_instrument
from alliance.measures.fhir import (
    StoredResponse,
    conformance_problems,
    export_bundle,
    import_questionnaire,
    validate_bundle,
)

from .conftest import fixture_json

LHC = import_questionnaire(
    fixture_json("lhc-forms-phq9.R4.json"), instrument_id="lhc-phq9"
).instrument
SDC = import_questionnaire(fixture_json("hl7-sdc-phq9-contained-valueset.R4.json")).instrument
PHQ9 = get_instrument("phq9")
# Pair the real files' items with the shipped ones by LOINC code (LHC) or order (SDC).
LHC_BY_LOINC = {item.loinc: item.link_id for item in LHC.items if item.scored}
SHIPPED_TO_LHC = {str(n): LHC_BY_LOINC[PHQ9.item(str(n)).loinc] for n in range(1, 10)}
SHIPPED_TO_SDC = {str(n): SDC.rules.items[n - 1] for n in range(1, 10)}


def test_real_lhc_questionnaire_imports() -> None:
    assert LHC.id == "lhc-phq9" and len(LHC.rules.items) == 9
    assert not LHC.item("/69722-7").scored  # difficulty answers carry no ordinalValue
    assert LHC.rules.total_code is not None and LHC.rules.total_code.code == "44261-6"
    # Coded as the PHQ-9 panel with matching items and scores: the shipped rules come with it.
    assert LHC.validated is True and LHC.rules.cutoff is not None
    assert [r.item for r in LHC.risk_rules] == ["/44260-8"]
    unmatched = import_questionnaire(
        fixture_json("lhc-forms-phq9.R4.json"), instrument_id="lhc-phq9", use_shipped_rules=False
    ).instrument
    assert unmatched.validated is False and unmatched.validation_note is not None
    assert unmatched.rules.cutoff is None and unmatched.risk_rules == ()
    assert any(
        "q1_value" in p for p in conformance_problems(fixture_json("lhc-forms-phq9.R4.json"))
    )


def test_real_sdc_questionnaire_with_contained_value_set_imports() -> None:
    assert SDC.id == "questionnaire-sdc-profile-example-phq9"
    assert SDC.instructions() == (
        "Over the last two weeks, how often have you been bothered by any of the following "
        "problems?"
    )
    assert [o.value for o in SDC.item("H1/T1/Q1").options] == [0, 1, 2, 3]
    assert conformance_problems(fixture_json("hl7-sdc-phq9-contained-valueset.R4.json")) == []


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_imported_questionnaires_score_like_the_shipped_phq9(values: list[int]) -> None:
    answers = {str(n): v for n, v in enumerate(values, 1)}
    shipped = PHQ9.score(answers)
    lhc = LHC.score({SHIPPED_TO_LHC[k]: v for k, v in answers.items()})
    sdc = SDC.score({SHIPPED_TO_SDC[k]: v for k, v in answers.items()})
    assert shipped.total == lhc.total == sdc.total == sum(values)
    # The same answers, given as the real files' own codes, score the same too.
    codes = {SHIPPED_TO_LHC[k]: PHQ9.item(k).option_for(v).code for k, v in answers.items()}  # type: ignore[union-attr]
    assert LHC.score(codes).total == shipped.total


def _responses() -> list[StoredResponse]:
    start = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    out = []
    for week, values in enumerate([[2, 2, 3, 1, 2, 1, 2, 1, 1], [1, 1, 2, 0, 1, 1, 1, 0, 0]]):
        answers: dict[str, int | None] = {str(n): v for n, v in enumerate(values, 1)}
        answers["10"] = 1
        out.append(
            StoredResponse(
                "phq9",
                "1.0.0",
                answers,
                PHQ9.score(answers).as_dict(),
                start + timedelta(weeks=week),
                "Patient/42",
                response_id=f"r{week}",
            )
        )
    checkin = get_instrument("checkin")
    c_answers: dict[str, int | str | None] = {
        "bond": 7,
        "goals": 8,
        "tasks": 6,
        "overall": 7,
        "better": "Less homework",
    }
    out.append(
        StoredResponse(
            "checkin", "1.0.0", c_answers, checkin.score(c_answers).as_dict(), start, "Patient/42"
        )
    )
    bad = {"1": 1}
    out.append(
        StoredResponse("phq9", "1.0.0", bad, PHQ9.score(bad).as_dict(), start, "Patient/42", "r9")
    )
    return out


def test_export_bundle_is_valid_fhir() -> None:
    bundle = export_bundle(_responses())
    validate_bundle(bundle)
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    # Four responses; the unscorable one has no Observation. The first answered item 9 above 0:
    # an Observation of that answer and a Flag (alliance.measures.fhir_export).
    assert kinds.count("QuestionnaireResponse") == 4 and kinds.count("Observation") == 4
    assert kinds.count("Flag") == 1


def test_export_codes_and_links() -> None:
    entries = export_bundle(_responses())["entry"]
    qr, obs = entries[0]["resource"], entries[1]["resource"]
    assert qr["questionnaire"].endswith("/Questionnaire/phq9|1.0.0")
    first = qr["item"][0]
    assert first["linkId"] == "1"
    assert first["answer"][0]["valueCoding"] == {
        "system": "http://loinc.org",
        "code": "LA6570-1",
        "display": "More than half the days",
    }
    assert [i["linkId"] for i in qr["item"]][-1] == "10"
    assert obs["code"]["coding"][0]["code"] == "44261-6"
    assert obs["valueQuantity"]["value"] == 15 and obs["valueQuantity"]["code"] == "{score}"
    assert obs["derivedFrom"][0]["reference"] == entries[0]["fullUrl"]
    assert obs["interpretation"][0]["text"] == "Moderately severe"
    checkin_obs = entries[7]["resource"]
    assert checkin_obs["code"]["coding"][0]["code"] == "checkin-total"
    assert {c["code"]["coding"][0]["code"] for c in checkin_obs["component"]} == {
        "checkin-bond",
        "checkin-goals",
        "checkin-tasks",
        "checkin-overall",
    }
    checkin_qr = entries[6]["resource"]
    assert checkin_qr["item"][-1]["answer"] == [{"valueString": "Less homework"}]


def test_export_is_deterministic() -> None:
    assert export_bundle(_responses()) == export_bundle(_responses())


def test_export_skips_hidden_items() -> None:
    zeros: dict[str, int] = {str(n): 0 for n in range(1, 10)} | {"10": 2}
    stored = StoredResponse(
        "phq9",
        "1.0.0",
        zeros,
        PHQ9.score(zeros).as_dict(),
        datetime(2024, 1, 1, tzinfo=UTC),
        "Patient/1",
    )
    qr = export_bundle([stored])["entry"][0]["resource"]
    assert "10" not in [i["linkId"] for i in qr["item"]]


def test_export_needs_aware_datetimes() -> None:
    naive = StoredResponse("phq9", "1.0.0", {}, {}, datetime(2024, 1, 1), "Patient/1")
    with pytest.raises(ValueError, match="timezone-aware"):
        export_bundle([naive])
