"""The import commands' inputs go through Django forms (alliance.care.fhir_import_forms)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance import cli
from alliance.care.fhir_import_forms import ResponsesImportForm, ScoringRulesForm
from alliance.measures.import_rules import BandSpec, RiskSpec

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "measures"
    / "fixtures"
    / "hl7-sdc-phq9-contained-valueset.R4.json"
)


def test_scoring_rules_form_reads_every_option() -> None:
    form = ScoringRulesForm(
        {
            "band": ["low:0-9:Low", "high:10-27"],
            "cutoff": "10",
            "reliable_change": "6",
            "risk_item": ["H1/T1/Q9>0"],
        }
    )
    assert form.is_valid(), form.errors
    rules = form.rules()
    assert rules.bands == (BandSpec("low", 0, 9, "Low"), BandSpec("high", 10, 27, "high"))
    assert (rules.cutoff, rules.reliable_change) == (10, 6)
    assert rules.risk == (RiskSpec("H1/T1/Q9", ">", 0),)


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"band": ["high:10-27", "low:0-9"]}, "band", "from the lowest score to the highest"),
        ({"band": ["a:0-1", "a:2-3"]}, "band", "a key is used twice"),
        ({"band": ["x" * 600]}, "band", "short piece of text"),
        ({"cutoff": "1e309"}, "cutoff", "not a finite number"),
        ({"reliable_change": "-2"}, "reliable_change", "must be above 0"),
        ({"risk_item": ["9>>0"]}, "risk_item", "write it as LINKID>VALUE"),
    ],
)
def test_scoring_rules_form_refuses(data: dict[str, object], field: str, fragment: str) -> None:
    form = ScoringRulesForm(data)
    assert not form.is_valid() and fragment in " ".join(str(e) for e in form.errors[field])


def test_the_alliance_command_checks_the_options_with_the_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["instruments", "import", str(FIXTURE), "--cutoff", "ten", "--band", "x"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--cutoff: 'ten' is not a number" in err and "band 'x'" in err


@pytest.mark.parametrize(
    ("client", "valid"), [("C-7KQ3F", True), ("", True), ("<script>", False), ("C" * 17, False)]
)
def test_responses_import_form_client_code(client: str, valid: bool) -> None:
    form = ResponsesImportForm({"file": "x.json", "client": client})
    assert form.is_valid() is valid
