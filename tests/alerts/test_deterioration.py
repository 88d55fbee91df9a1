"""Rule 6 — reliable deterioration from intake (NHS Talking Therapies amounts)."""

from alliance.alerts import AlertSettings
from alliance.alerts.deterioration import deterioration_findings
from tests.alerts.builders import outcome_series, series, session

DEFAULT = AlertSettings()


def test_phq9_rise_of_six():
    [f] = deterioration_findings(outcome_series("phq9", [8, 10, 14, 15, 12]), DEFAULT)
    assert (f.key, f.severity, f.session_number) == ("deterioration:ep12:phq9", "red", 3)
    assert f.explanation.startswith(
        "PHQ-9 rose from 8 at session 1 to 14 at session 3 (+6 points; reliable deterioration is "
        "a rise of 6 or more"
    )
    assert "The rise reached the threshold at sessions 3 and 4." in f.explanation
    assert "Latest score (session 5): 12 (+4 from intake)." in f.explanation
    assert f.evidence["currently_deteriorated"] is False
    sessions = f.evidence["sessions"]
    assert isinstance(sessions, list)
    assert [r["session"] for r in sessions if isinstance(r, dict)] == [3, 4]


def test_phq9_rise_of_five_is_not_reliable():
    assert deterioration_findings(outcome_series("phq9", [8, 13]), DEFAULT) == []


def test_gad7_threshold_is_four():
    [f] = deterioration_findings(outcome_series("gad7", [5, 9]), DEFAULT)
    assert f.key == "deterioration:ep12:gad7"
    assert "a rise of 4 or more" in f.explanation


def test_explicit_intake():
    s = series([session(1, outcome={"phq9": 14})], intake={"phq9": 7})
    [f] = deterioration_findings(s, DEFAULT)
    assert "from 7 at intake to 14 at session 1" in f.explanation


def test_thresholds_are_settings():
    cfg = AlertSettings(reliable_deterioration={"phq9": 3.0})
    assert len(deterioration_findings(outcome_series("phq9", [8, 11]), cfg)) == 1
    assert deterioration_findings(outcome_series("gad7", [2, 12]), cfg) == []
