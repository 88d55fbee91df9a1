"""Rule 7 — disengagement: late cancellations, check-ins stopping, no-shows (if configured)."""

from alliance.alerts import AlertSettings
from alliance.alerts.engagement import disengagement_findings
from tests.alerts.builders import series, session

DEFAULT = AlertSettings()


def appointments(*codes):
    """``"a"`` attended (with check-in), ``"n"`` attended without check-in, ``"l"`` late cancel,
    ``"c"`` cancelled with notice, ``"x"`` no-show, ``"s"`` scheduled."""
    kinds = {"a": "attended", "n": "attended", "l": "late_cancel", "c": "cancelled"}
    kinds |= {"x": "no_show", "s": "scheduled"}
    return series(
        [
            session(i, attendance=kinds[c], client=8 if c == "a" else None)
            for i, c in enumerate(codes, start=1)
        ]
    )


def test_two_late_cancellations_within_the_window():
    [f] = disengagement_findings(appointments("a", "l", "a", "a", "l", "a"), DEFAULT)
    assert f.key == "disengagement:ep12:late_cancel:s5"
    assert (f.severity, f.session_number) == ("yellow", 5)
    assert f.explanation.startswith("2 late cancellations (sessions 2 and 5)")
    assert f.evidence["through_session"] == 6


def test_late_cancellations_far_apart_do_not_count():
    assert disengagement_findings(appointments("l", "a", "a", "a", "a", "a", "l"), DEFAULT) == []


def test_a_separate_later_stretch_is_a_new_alert():
    codes = ["l", "l"] + ["a"] * 6 + ["l", "l"]
    keys = [f.key for f in disengagement_findings(appointments(*codes), DEFAULT)]
    assert keys == ["disengagement:ep12:late_cancel:s2", "disengagement:ep12:late_cancel:s10"]


def test_scheduled_appointments_are_not_counted():
    assert disengagement_findings(appointments("l", "s", "s", "s"), DEFAULT) == []


def test_checkins_stopping():
    [f] = disengagement_findings(appointments("a", "a", "n", "c", "n", "n"), DEFAULT)
    assert f.key == "disengagement:ep12:checkins_stopped:s3"
    assert f.session_number == 5  # the second attended session without a check-in
    assert f.evidence["sessions_without_checkin"] == [3, 5, 6]
    assert f.evidence["resumed_at"] is None
    assert "Ask about it" in f.suggestion


def test_checkins_resumed_is_reported():
    [f] = disengagement_findings(appointments("a", "n", "n", "a"), DEFAULT)
    assert f.evidence["resumed_at"] == 4
    assert "Check-ins resumed at session 4." in f.explanation


def test_a_client_who_never_used_checkins_has_not_stopped():
    assert disengagement_findings(appointments("n", "n", "n"), DEFAULT) == []


def test_no_show_as_disengagement_when_configured():
    s = appointments("a", "x", "a")
    assert disengagement_findings(s, DEFAULT) == []  # a rupture marker by default
    [f] = disengagement_findings(s, AlertSettings(no_show_as="disengagement"))
    assert f.key == "disengagement:ep12:no_show:s2"
    assert "relationship material" in f.explanation
