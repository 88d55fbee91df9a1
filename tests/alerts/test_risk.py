"""Rule 1 — any risk signal raises an urgent alert, one per response."""

from alliance.alerts import AlertSettings, RiskSignal, evaluate_episode
from alliance.alerts.risk import risk_findings
from tests.alerts.builders import series, session

DEFAULT = AlertSettings()


def test_phq9_item9_is_urgent_with_the_answer_in_words():
    s = series([session(3, risk=[RiskSignal("phq9", "9", 1, response_id=77)])])
    [f] = risk_findings(s, DEFAULT)
    assert (f.kind, f.severity, f.key) == ("risk", "urgent", "risk:ep12:r77")
    assert f.session_number == 3 and f.appointment_id == 1003
    assert "PHQ-9 item 9 was answered 1 (\u201cSeveral days\u201d)" in f.explanation
    assert "within 60 minutes" in f.explanation
    assert f.evidence["items"] == [{"instrument": "phq9", "item": "9", "answer": 1}]
    assert f.evidence["escalation_minutes"] == 60
    assert "safety plan" in f.suggestion


def test_one_alert_per_response_and_separate_responses_separately():
    s = series(
        [
            session(
                2,
                risk=[
                    RiskSignal("phq9", "9", 2, response_id=5),
                    RiskSignal("phq9", "9", 3, response_id=6),
                ],
            ),
            session(4, risk=[RiskSignal("phq9", "9", 1, response_id=None)]),
        ]
    )
    keys = [f.key for f in risk_findings(s, DEFAULT)]
    assert keys == ["risk:ep12:r5", "risk:ep12:r6", "risk:ep12:s4:phq9"]


def test_escalation_minutes_come_from_settings():
    s = series([session(1, risk=[RiskSignal("phq9", "9", 1, response_id=1)])])
    [f] = risk_findings(s, AlertSettings(risk_escalation_minutes=30))
    assert "within 30 minutes" in f.explanation


def test_risk_is_reported_even_for_a_session_that_did_not_take_place():
    s = series([session(1, attendance="cancelled", risk=[RiskSignal("phq9", "9", 1, 9)])])
    assert [f.kind for f in evaluate_episode(s)] == ["risk"]
