"""Instruments without a score (scoring method "none"): the ending question, and any clinic file like it.

They load, they score to "no total" without pretending otherwise, they export to FHIR as answers only,
and a file that mixes "none" with anything describing a total is refused with a clear message.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures import InstrumentFileError, get_instrument, parse_instrument
from alliance.measures.cli import main
from alliance.measures.fhir import StoredResponse, export_bundle

WHEN = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def _open_only(**scoring: Any) -> dict[str, Any]:
    """A minimal clinic file: one open question, scored as given (default: method "none")."""
    return {
        "resourceType": "Questionnaire",
        "id": "open-only",
        "language": "en",
        "title": "Open question",
        "item": [{"linkId": "q", "type": "text", "text": "Anything else?"}],
        "alliance": {
            "respondent": "client",
            "languages": ["en"],
            "validated": True,
            "licence": "test",
            "scoring": scoring or {"method": "none"},
        },
    }


def test_the_ending_question_ships_with_alliances_own_wording_in_english_and_spanish() -> None:
    ending = get_instrument("ending")
    assert ending.version == "1.0.0" and ending.shipped and ending.respondent == "client"
    assert "Alliance project" in ending.licence and not ending.validated
    assert ending.languages == ("en", "es")
    take = ending.item("take")
    assert take.kind == "text" and not take.required
    assert take.text("en") == "What will you take with you from our work together?"
    assert take.text("es") == "¿Qué se llevará usted de nuestro trabajo juntos?"
    know = ending.item("know")
    assert know.text("en") == (
        "Is there anything you would like your therapist to know as we finish?"
    )
    assert "su terapeuta" in know.text("es")  # usted form, as the other instruments
    assert ending.validation_note is not None and "no score" in ending.validation_note.get("en")


def test_an_unscored_instrument_says_it_has_no_score() -> None:
    ending = get_instrument("ending")
    assert not ending.has_score
    assert ending.rules.method == "none" and ending.rules.items == ()
    assert ending.rules.total_range is None and ending.direction is None
    assert not any(item.scored for item in ending.items)
    assert get_instrument("phq9").has_score and get_instrument("checkin").has_score


def test_scoring_gives_no_total_and_stores_as_json() -> None:
    result = get_instrument("ending").score({"take": "Being kinder to myself", "know": ""})
    assert not result.scorable and result.total is None
    assert result.reason == "no score: this instrument asks open questions only"
    assert result.band is None and result.risk_flags == () and result.invalid == {}
    stored = json.loads(json.dumps(result.as_dict()))
    assert stored["total"] is None and stored["total_range"] is None
    assert stored["direction"] is None and stored["scorable"] is False


def test_answers_to_unknown_items_are_still_reported() -> None:
    result = get_instrument("ending").score({"take": "x", "bond": 3})
    assert not result.scorable and result.invalid == {"bond": "not an item of this instrument"}


@given(take=st.text(max_size=300), know=st.text(max_size=300))
def test_any_open_answer_is_accepted_and_never_gets_a_score(take: str, know: str) -> None:
    ending = get_instrument("ending")
    answers = {"take": take, "know": know}
    result = ending.score(answers)
    assert result.total is None and not result.scorable
    assert result.risk_flags == () and result.invalid == {}
    assert ending.validate_answers(answers) == {}


def test_a_clinic_file_with_method_none_loads() -> None:
    instrument = parse_instrument(_open_only(), "open-only.json")
    assert not instrument.has_score
    assert instrument.score({"q": "Fine"}).total is None


@pytest.mark.parametrize(
    ("scoring", "fragment"),
    [
        ({"method": "none", "items": ["q"]}, 'method "none" has no total, so it takes no items'),
        (
            {"method": "none", "direction": "higher_is_better"},
            "takes no direction",
        ),
        ({"method": "none", "missing": {"max_missing": 1}}, "takes no missing"),
        ({"method": "sum", "direction": "higher_is_worse"}, 'use "none" for an instrument'),
        ({"method": "mean", "items": ["q"]}, "needs a direction"),
    ],
)
def test_mixing_none_with_a_total_is_refused(scoring: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InstrumentFileError) as caught:
        parse_instrument(_open_only(**scoring), "open-only.json")
    assert fragment in str(caught.value)


def test_the_scored_instruments_still_need_scored_items() -> None:
    # The relaxed "items" default must not let a scored method through without items.
    broken = _open_only(method="sum", direction="higher_is_better", items=["q"])
    with pytest.raises(InstrumentFileError, match="free-text item, which cannot be scored"):
        parse_instrument(broken, "open-only.json")


def _stored(answers: dict[str, Any]) -> StoredResponse:
    ending = get_instrument("ending")
    return StoredResponse(
        "ending", ending.version, answers, ending.score(answers).as_dict(), WHEN, "Patient/C-1", "7"
    )


def test_fhir_export_has_the_answers_and_no_observation() -> None:
    bundle = export_bundle([_stored({"take": "Patience", "know": "Thank you"})])  # validated
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert [r["resourceType"] for r in resources] == ["QuestionnaireResponse"]
    response = resources[0]
    assert response["questionnaire"] == "https://alliance.invalid/fhir/Questionnaire/ending|1.0.0"
    assert [(i["linkId"], i["answer"][0]["valueString"]) for i in response["item"]] == [
        ("take", "Patience"),
        ("know", "Thank you"),
    ]


def test_fhir_export_of_an_unanswered_ending_is_still_valid() -> None:
    bundle = export_bundle([_stored({})])
    assert bundle["entry"][0]["resource"]["resourceType"] == "QuestionnaireResponse"


def test_the_command_line_refuses_change_for_an_unscored_instrument() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["change", "--instrument", "ending", "--before", "1", "--after", "2"],
        stdout=out,
        stderr=err,
    )
    assert code == 2 and "ending has no score" in err.getvalue()
    out = io.StringIO()
    assert main(["instruments", "show", "ending"], stdout=out, stderr=err) == 0
    shown = json.loads(out.getvalue())["scoring"]
    assert shown["method"] == "none" and shown["range"] is None
