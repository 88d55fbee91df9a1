"""The command line: main([...]) with stdout/stderr and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from alliance.measures import get_instrument
from alliance.measures.cli import main

from .conftest import FIXTURES


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_score_prints_json() -> None:
    code, out, err = run(["score", "phq9", "1", "1", "2", "0", "1", "0", "0", "1", "0"])
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["total"] == 6 and data["band"]["key"] == "mild" and data["risk_flags"] == []


def test_score_with_missing_answer_and_language() -> None:
    code, out, _ = run(
        ["score", "phq9", "2", "2", "2", "-", "2", "2", "1", "1", "0", "", "--lang", "es"]
    )
    data = json.loads(out)
    assert (
        code == 0
        and data["prorated"]
        and data["total"] == 14
        and data["band"]["label"] == "Moderada"
    )


def test_score_reports_risk_on_stderr_too() -> None:
    code, out, err = run(["score", "phq9", "0", "0", "0", "0", "0", "0", "0", "0", "2"])
    assert code == 0 and json.loads(out)["risk_flags"][0]["item"] == "9"
    assert err.startswith("RISK (urgent) item 9")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["score", "nope", "1"], "unknown instrument 'nope'"),
        (["score", "phq9", "1", "1"], "phq9 takes 9 to 10 answers in item order"),
        (["score", "gad7", *["1"] * 9], "gad7 takes 7 to 8 answers"),
        (
            ["score", "phq9", "1", "1", "1", "1", "1", "1", "1", "1", "4"],
            "item 9: '4' is not one of the options",
        ),
        (["score", "checkin", "11", "5", "5", "5"], "item bond: 11 is above the maximum 10"),
        (["score", "checkin", "x", "5", "5", "5"], "item bond: 'x' is not a whole number"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: command"),
    ],
)
def test_bad_input_exits_2(args: list[str], fragment: str) -> None:
    code, out, err = run(args)
    assert code == 2 and out == ""
    assert fragment in err, err


def test_score_accepts_free_text() -> None:
    code, out, _ = run(["score", "checkin", "8", "6", "7", "9", "More practical tips, please"])
    assert code == 0 and json.loads(out)["total"] == 7.5


def test_change_with_instrument_threshold() -> None:
    code, out, _ = run(["change", "--instrument", "phq9", "--before", "18", "--after", "10"])
    data = json.loads(out)
    assert code == 0 and data["method"] == "threshold" and data["outcome"] == "reliable improvement"
    assert data["change"] == -8 and data["threshold"]["threshold"] == 6


def test_change_for_any_scale() -> None:
    code, out, _ = run(
        [
            "change",
            "--before",
            "10",
            "--after",
            "18",
            "--sd",
            "5",
            "--reliability",
            "0.8",
            "--higher-is-better",
            "--cutoffs",
            "40",
            "7.5",
            "60",
            "7.5",
        ]
    )
    data = json.loads(out)
    assert code == 0 and data["method"] == "jacobson-truax"
    assert data["jacobson_truax"]["rci"] == pytest.approx(2.5298, abs=1e-4)
    assert data["jacobson_truax"]["se_variant"].startswith("jacobson-truax-1991")
    assert data["cutoffs"] == {"a": 55, "b": 45, "c": 50, "higher_is_better": True}


def test_change_gbo_uses_unverified_default() -> None:
    code, out, _ = run(["change", "--instrument", "gbo", "--before", "2", "--after", "6"])
    data = json.loads(out)
    assert code == 0 and data["reliable"] and "UNVERIFIED" in data["warning"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["change", "--instrument", "phq9", "--before", "30", "--after", "1"],
            "--before 30 is outside phq9's range 0-27",
        ),
        (
            ["change", "--instrument", "checkin", "--before", "3", "--after", "6"],
            "no reliable-change rule for checkin",
        ),
        (["change", "--before", "3", "--after", "6"], "no reliable-change rule"),
        (
            ["change", "--before", "3", "--after", "6", "--sd", "2"],
            "give --sd and --reliability together",
        ),
        (
            ["change", "--before", "3", "--after", "6", "--sd", "2", "--reliability", "1.5"],
            "--reliability must be",
        ),
        (
            [
                "change",
                "--instrument",
                "phq9",
                "--before",
                "3",
                "--after",
                "6",
                "--higher-is-better",
            ],
            "contradicts",
        ),
        (["change", "--before", "x", "--after", "6"], "invalid float value: 'x'"),
    ],
)
def test_change_errors(args: list[str], fragment: str) -> None:
    code, _, err = run(args)
    assert code == 2 and fragment in err, err


def test_instruments_list_and_show() -> None:
    code, out, _ = run(["instruments", "list"])
    assert code == 0
    assert {i["id"] for i in json.loads(out)} == {
        "phq9",
        "gad7",
        "gbo",
        "checkin",
        "checkin-therapist",
        "ending",
    }
    code, out, _ = run(["instruments", "show", "checkin", "--lang", "es"])
    data = json.loads(out)
    assert code == 0 and data["validated"] is False and "validado" in data["validation_note"]
    assert data["items"][0]["anchor_low"] == "Nada"
    code, out, _ = run(["instruments", "show", "phq9", "--fhir"])
    fhir = json.loads(out)
    assert fhir["resourceType"] == "Questionnaire" and "alliance" not in fhir
    assert run(["instruments", "show", "nope"])[0] == 2


def test_import_needs_a_directory() -> None:
    code, _, err = run(["instruments", "import", str(FIXTURES / "lhc-forms-phq9.R4.json")])
    assert code == 2 and "ALLIANCE_INSTRUMENTS_DIR" in err


def test_import_real_fhir_questionnaire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path / "instruments"))
    code, out, err = run(
        ["instruments", "import", str(FIXTURES / "lhc-forms-phq9.R4.json"), "--id", "lhc-phq9"]
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["imported"] == "lhc-phq9" and len(data["scored_items"]) == 9
    assert "warning: FHIR conformance" in err  # LHC names variables q1_value, which R4 forbids
    # Coded LOINC 44249-1 with the shipped PHQ-9's items and scores: it takes phq9's rules.
    assert data["shipped_match"]["matched"] is True and data["cutoff"] == 10
    assert "match the shipped 'phq9'" in err
    saved = tmp_path / "instruments" / "lhc-phq9.json"
    assert json.loads(saved.read_text(encoding="utf-8"))["alliance"]["validated"] is True
    assert get_instrument("lhc-phq9").score({k: 1 for k in data["scored_items"]}).total == 9
    # Again without --force is refused; with it, replaced.
    assert (
        run(
            ["instruments", "import", str(FIXTURES / "lhc-forms-phq9.R4.json"), "--id", "lhc-phq9"]
        )[0]
        == 2
    )
    assert (
        run(
            [
                "instruments",
                "import",
                str(FIXTURES / "lhc-forms-phq9.R4.json"),
                "--id",
                "lhc-phq9",
                "--force",
            ]
        )[0]
        == 0
    )


def test_import_alliance_file_and_refuse_shipped_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path))
    code, out, err = run(["instruments", "import", str(FIXTURES / "fake-alliance-scale.json")])
    assert code == 0, err and json.loads(out)["imported"] == "fake-alliance-scale"
    assert (tmp_path / "instruments" / "fake-alliance-scale.json").exists()
    code, _, err = run(
        ["instruments", "import", str(FIXTURES / "fake-alliance-scale.json"), "--id", "phq9"]
    )
    assert code == 2 and "'phq9' is a shipped instrument" in err


def test_import_rejects_a_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path))
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "resourceType": "Questionnaire",
                "id": "bad",
                "item": [
                    {
                        "linkId": "q1",
                        "type": "choice",
                        "text": "Q",
                        "answerOption": [{"valueCoding": {"code": "a"}}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    code, _, err = run(["instruments", "import", str(bad)])
    assert code == 2 and "no item carries answer scores" in err
    assert not (tmp_path / "bad.json.tmp").exists()


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "score" in capsys.readouterr().out


def test_import_with_scoring_rule_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path / "instruments"))
    source = FIXTURES / "fhir" / "researchkitonfhir-gad7-contained-valueset.R4.json"
    bands = ["--band", "minimal:0-4:Minimal", "--band", "mild:5-9", "--band", "moderate:10-14"]
    bands += ["--band", "severe:15-21:Severe"]
    first = "2bab9480-5251-4997-8a2e-937a1701cfe9"
    rules = [*bands, "--cutoff", "8", "--reliable-change", "4", "--risk-item", f"{first}>=3"]
    code, out, err = run(["instruments", "import", str(source), "--id", "rk-gad7", *rules])
    assert code == 0, err
    data = json.loads(out)
    assert data["bands"] == ["minimal", "mild", "moderate", "severe"]
    assert (data["cutoff"], data["reliable_change"]) == (8, 4)
    assert data["risk_items"] == [f"{first}>=3"] and data["shipped_match"] is None
    code, out, err = run(["score", "rk-gad7", "3", "2", "2", "1", "0", "0", "0"])
    result = json.loads(out)
    assert code == 0 and result["total"] == 8 and result["band"]["key"] == "mild"
    assert result["above_cutoff"] is True and result["risk_flags"][0]["item"] == first


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--band", "mild"], "write it as KEY:MIN-MAX"),
        (["--cutoff", "ten"], "--cutoff: 'ten' is not a number"),
        (["--reliable-change", "0"], "must be above 0"),
        (["--risk-item", "H1/T1/Q9"], "write it as LINKID>VALUE"),
        (["--risk-item", "nope>0"], "item 'nope': alliance.risk names an item that does not exist"),
        (["--band", "a:0-10", "--band", "b:12-27"], "leave a gap or overlap"),
    ],
)
def test_import_refuses_bad_rule_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], fragment: str
) -> None:
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path))
    source = FIXTURES / "hl7-sdc-phq9-contained-valueset.R4.json"
    code, out, err = run(["instruments", "import", str(source), *options])
    assert code == 2 and out == "" and fragment in err
    assert not list(tmp_path.glob("*.json"))


def test_import_says_when_it_takes_the_shipped_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(tmp_path))
    source = FIXTURES / "fhir" / "lforms-argonaut-phq9-ish.R4.json"
    code, out, err = run(["instruments", "import", str(source), "--id", "argo"])
    assert code == 0 and "it takes phq9's scoring, bands, cut-off" in err
    assert json.loads(out)["risk_items"] == ["g1.q9>0"]
    # An answer above 0 on its item 9 raises the urgent risk flag, as the shipped PHQ-9's does.
    code, out, err = run(["score", "argo", "0", "0", "0", "0", "0", "0", "0", "0", "1"])
    assert json.loads(out)["risk_flags"][0]["level"] == "urgent"
    code, out, _ = run(
        ["instruments", "import", str(source), "--id", "argo2", "--no-shipped-rules"]
    )
    assert code == 0 and json.loads(out)["risk_items"] == []
