"""Rule 2 — ruptures (drop, floor, concern, no-show) and repair detection."""

import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.alerts import AlertSettings, repair_outcome
from alliance.alerts.rupture import rupture_findings, usual_change
from tests.alerts.builders import checkin, checkin_series, series, session

DEFAULT = AlertSettings()


def ruptures(s, cfg=DEFAULT):
    return rupture_findings(s, cfg)


def test_drop_against_the_clients_own_variation():
    # Changes before session 5: +1, -1, +1 -> SD 1.155; 9.0 -> 5.5 is 3.0 times that.
    [f] = ruptures(checkin_series([8.0, 9.0, 8.0, 9.0, 5.5]))
    assert f.key == "rupture:ep12:s5"
    assert f.kind == "rupture" and f.severity == "red"
    assert f.session_number == 5 and f.appointment_id == 1005
    assert f.pre_drop_level == 9.0
    assert f.explanation.startswith(
        "The check-in total fell from 9.0 to 5.5 (\u22123.5 points); this client's usual "
        "session-to-session change is \u00b11.2, so the drop is 3.0 times their usual variation "
        "(threshold 1.5\u00d7, and at least 2.0 points)."
    )
    total = f.evidence["measures"]["total"]
    assert total["previous"] == 9.0 and total["current"] == 5.5 and total["drop"] == 3.5
    assert total["usual_change_sd"] == round(statistics.stdev([1, -1, 1]), 3)
    assert total["sd_source"] == "own"
    assert total["ratio"] == round(3.5 / statistics.stdev([1, -1, 1]), 3)
    assert f.evidence["rules"] == ["drop"]
    assert f.evidence["repair_targets"]["total"] == 9.0
    assert "here-and-now" in f.suggestion


def test_fallback_sd_with_too_few_checkins():
    [f] = ruptures(checkin_series([8.0, 8.5, 5.0]))
    assert "too few earlier check-ins" in f.explanation
    assert "(1 earlier change, 3 needed), so a default of \u00b11.0 was used" in f.explanation
    assert "the drop is 3.5 times that" in f.explanation
    assert f.evidence["measures"]["total"]["sd_source"] == "fallback"


def test_minimum_points_protect_a_very_stable_client():
    assert ruptures(checkin_series([9, 9, 9, 9, 8])) == []  # 1 point < 2 points minimum
    [f] = ruptures(checkin_series([9, 9, 9, 9, 7]))
    assert "\u00b10.5 (the minimum assumed)" in f.explanation
    assert f.evidence["measures"]["total"]["threshold"] == 2.0


def test_large_usual_variation_raises_the_bar():
    # Sessions 2 and 4 use the fallback SD (too few changes); at session 6 the SD of the
    # changes (-3, 3, -3, 3) is 3.46, so k x SD = 5.2 > a drop of 3.
    found = ruptures(checkin_series([9, 6, 9, 6, 9, 6]))
    assert [f.session_number for f in found] == [2, 4]


def test_a_single_dimension_can_fall():
    steady = checkin(bond=9, goals=8, tasks=8, overall=8)
    s = series(
        [session(i, client=steady) for i in range(1, 5)]
        + [session(5, client=checkin(bond=6, goals=9, tasks=9, overall=9))]
    )
    [f] = ruptures(s)
    assert f.dimensions == ("bond",)
    assert f.explanation.startswith("The bond rating fell from 9.0 to 6.0 (\u22123.0 points)")
    assert f.pre_drop_level == 8.25  # the total before, for context
    assert f.evidence["repair_targets"] == {"bond": 9.0}


def test_one_dimension_must_fall_further_than_the_total():
    steady = checkin(bond=9, goals=8, tasks=8, overall=8)
    before = [session(i, client=steady) for i in range(1, 5)]
    two_points = series([*before, session(5, client=checkin(bond=7, goals=8, tasks=8, overall=8))])
    assert ruptures(two_points) == []  # one item falling by 2 is within its noise
    three_points = series(
        [*before, session(5, client=checkin(bond=6, goals=8, tasks=8, overall=8))]
    )
    [f] = ruptures(three_points)
    assert f.dimensions == ("bond",) and "at least 3.0 points" in f.explanation
    lenient = AlertSettings(rupture_min_drop_dimension=2.0)
    assert [f.dimensions for f in ruptures(two_points, lenient)] == [("bond",)]


def test_falling_below_the_floor():
    [f] = ruptures(checkin_series([6, 6, 6, 4.5, 4.0]))
    assert f.key == "rupture:ep12:s4" and f.severity == "red"
    assert f.evidence["rules"] == ["floor"]
    assert "Now below the floor of 5.0: total 4.5 (was 6.0)" in f.explanation
    # Staying below the floor (4.5 -> 4.0) does not raise another alert.


def test_first_checkin_below_the_floor():
    [f] = ruptures(checkin_series([3.0, 7.0]))
    assert f.session_number == 1 and f.evidence["rules"] == ["floor"]
    assert f.pre_drop_level is None
    assert f.evidence["repair_targets"]["total"] == 3.0


EVERY_MARKER = AlertSettings(rupture_marker_persistence=1)  # the behaviour before issue 12


def test_concern_alone_is_a_yellow_marker_without_client_text():
    s = series([session(1, client=8), session(2, client=checkin(8, concern=True))])
    [f] = ruptures(s, EVERY_MARKER)
    assert f.severity == "yellow" and f.evidence["rules"] == ["concern"]
    assert "wrote something" in f.explanation and "at session 2" in f.explanation
    assert f.pre_drop_level == 8.0
    assert "thank them for saying it" in f.suggestion
    assert ruptures(s, AlertSettings(concern_is_rupture=False, rupture_marker_persistence=1)) == []


def test_no_show_is_a_rupture_marker_by_default():
    s = series([session(1, client=8), session(2, attendance="no_show"), session(3, client=8)])
    [f] = ruptures(s, EVERY_MARKER)
    assert f.key == "rupture:ep12:s2" and f.severity == "yellow"
    assert f.evidence["rules"] == ["no_show"]
    assert "relationship material" in f.explanation
    assert f.pre_drop_level == 8.0
    assert "missed session" in f.suggestion
    assert (
        ruptures(s, AlertSettings(no_show_as="disengagement", rupture_marker_persistence=1)) == []
    )


def test_a_single_concern_or_no_show_raises_no_alert_by_default():
    """Issue 12: a yellow needs two sessions in a row (the client's words stay in the record)."""
    concern = series([session(1, client=8), session(2, client=checkin(8, concern=True))])
    no_show = series([session(1, client=8), session(2, attendance="no_show"), session(3, client=8)])
    assert ruptures(concern) == [] and ruptures(no_show) == []


def test_two_markers_in_a_row_raise_one_yellow_alert_keyed_at_the_first():
    s = series(
        [
            session(1, client=8),
            session(2, attendance="no_show"),
            session(3, attendance="cancelled"),  # with notice: skipped, not a break
            session(4, client=checkin(8, concern=True)),
            session(5, attendance="no_show"),
        ]
    )
    [f] = ruptures(s)
    assert (f.key, f.severity, f.session_number) == ("rupture:ep12:s2", "yellow", 4)
    assert f.evidence["marker_sessions"] == [2, 4] and f.evidence["rules"] == ["concern", "no_show"]
    assert "Markers came at 2 appointments in a row" in f.explanation
    assert f.pre_drop_level == 8.0
    # The no-show at session 5 comes within the repair window: it joins the same alert.
    assert f.evidence["later_markers"] == [{"session": 5, "rules": ["no_show"]}]


def test_a_session_without_a_marker_breaks_the_run():
    s = series(
        [
            session(1, client=8),
            session(2, attendance="no_show"),
            session(3, client=8),
            session(4, attendance="no_show"),
        ]
    )
    assert ruptures(s) == []


def test_markers_after_a_measured_drop_join_its_alert():
    s = checkin_series([8, 9, 8, 9, 5.5])
    s = series(
        [*s.sessions, session(6, attendance="no_show"), session(7, client=checkin(6, concern=True))]
    )
    [f] = ruptures(s)
    assert (f.key, f.severity) == ("rupture:ep12:s5", "red")
    assert f.evidence["later_markers"] == [
        {"session": 6, "rules": ["no_show"]},
        {"session": 7, "rules": ["concern"]},
    ]
    assert (
        "Since then: session 6 was missed without notice; the client wrote something at "
        "session 7." in f.explanation
    )


def test_cancellations_with_notice_are_not_ruptures():
    s = series([session(1, client=8), session(2, attendance="cancelled"), session(3, client=8)])
    assert ruptures(s) == []


def test_a_check_in_before_the_attendance_is_recorded_is_read():
    """The client checks in right after the session, often before the therapist records
    attendance: the appointment is still "scheduled", yet its check-in shows it took place."""
    fell = series([*checkin_series([8, 9, 8, 9]).sessions, session(5, attendance="scheduled",
                                                                    client=5.5)])  # fmt: skip
    [f] = ruptures(fell)
    assert (f.key, f.severity) == ("rupture:ep12:s5", "red")
    worried = series([session(1, client=8),
                      session(2, attendance="scheduled", client=checkin(8, concern=True))])  # fmt: skip
    [f] = ruptures(worried, EVERY_MARKER)
    assert (f.severity, f.evidence["rules"]) == ("yellow", ["concern"])
    # A scheduled appointment without a check-in has not happened yet: neither marker nor break.
    later = series([session(1, client=8), session(2, attendance="no_show"),
                    session(3, attendance="scheduled"), session(4, attendance="no_show")])  # fmt: skip
    [f] = ruptures(later)
    assert f.evidence["marker_sessions"] == [2, 4]


def test_usual_change_guards():
    cfg = AlertSettings(rupture_min_prior_changes=3, rupture_min_sd=0.5, rupture_fallback_sd=1.0)
    assert usual_change([8, 9], cfg).source == "fallback"
    assert usual_change([8, 8, 8, 8], cfg).sd == 0.5
    assert usual_change([8, 9, 8, 9], cfg).source == "own"


# --- repair -----------------------------------------------------------------------------------


def rupture_then(*after):
    """Totals 8, 9, 8, 9, then a drop to 5.5 at session 5, then ``after`` (sessions 6...)."""
    sessions = [session(i, client=t) for i, t in enumerate([8, 9, 8, 9, 5.5], start=1)]
    for i, item in enumerate(after, start=6):
        if isinstance(item, str):
            sessions.append(session(i, attendance=item))
        elif item is None:
            sessions.append(session(i))
        else:
            sessions.append(session(i, client=item))
    return series(sessions)


def test_repaired_when_the_checkin_returns_within_m_sessions():
    s = rupture_then(8, 9)
    outcome = repair_outcome(s, 5, {"total": 9.0}, DEFAULT)
    assert (outcome.state, outcome.session_number) == ("repaired", 7)


def test_unresolved_after_m_sessions_without_recovery():
    outcome = repair_outcome(rupture_then(8, 8.5, 9.5), 5, {"total": 9.0}, DEFAULT)
    assert (outcome.state, outcome.session_number) == ("unresolved", 7)


def test_pending_while_the_window_is_open():
    assert repair_outcome(rupture_then(8), 5, {"total": 9.0}, DEFAULT).state == "pending"


def test_sessions_that_did_not_take_place_do_not_use_up_the_window():
    s = rupture_then("cancelled", "no_show", 7, 9)
    outcome = repair_outcome(s, 5, {"total": 9.0}, DEFAULT)
    assert (outcome.state, outcome.session_number) == ("repaired", 9)


def test_an_attended_session_without_checkin_uses_up_the_window():
    outcome = repair_outcome(rupture_then(None, None, 9), 5, {"total": 9.0}, DEFAULT)
    assert outcome.state == "unresolved"


def test_a_new_concern_is_not_a_repair():
    s = rupture_then(checkin(9, concern=True), 8)
    assert repair_outcome(s, 5, {"total": 9.0}, DEFAULT).state == "unresolved"


def test_without_targets_any_checkin_without_concern_repairs():
    s = series([session(1, client=checkin(8, concern=True)), session(2, client=7)])
    [f] = ruptures(s, EVERY_MARKER)
    assert f.evidence["repair_targets"] == {}
    assert repair_outcome(s, 1, {}, DEFAULT).state == "repaired"


# --- properties -------------------------------------------------------------------------------

dims = st.tuples(*[st.integers(0, 10)] * 4)


def _drop_rules(findings):
    return {
        (f.session_number, m)
        for f in findings
        for m, data in f.evidence["measures"].items()
        if "drop" in data["rules"]
    }


def _series_from_dims(rows, concerns=None):
    return series(
        [
            session(
                i,
                client=checkin(
                    bond=b, goals=g, tasks=t, overall=o, concern=bool(concerns and concerns[i - 1])
                ),
            )
            for i, (b, g, t, o) in enumerate(rows, start=1)
        ]
    )


@settings(max_examples=60, deadline=None)
@given(
    shift=st.integers(1, 5),
    data=st.data(),
)
def test_adding_a_constant_never_changes_the_drop_rule(shift, data):
    rows = data.draw(st.lists(st.tuples(*[st.integers(0, 10 - shift)] * 4), min_size=2, max_size=9))
    shifted = [tuple(v + shift for v in row) for row in rows]
    assert _drop_rules(ruptures(_series_from_dims(shifted))) == _drop_rules(
        ruptures(_series_from_dims(rows))
    )


@settings(max_examples=60, deadline=None)
@given(
    start=st.tuples(*[st.integers(5, 10)] * 4),
    steps=st.lists(st.tuples(*[st.integers(0, 2)] * 4), max_size=9),
)
def test_non_decreasing_checkins_above_the_floor_never_rupture(start, steps):
    rows = [start]
    for step in steps:
        rows.append(tuple(min(10, a + b) for a, b in zip(rows[-1], step, strict=True)))
    assert ruptures(_series_from_dims(rows)) == []


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(dims, min_size=1, max_size=10), cut=st.integers(1, 10))
def test_later_sessions_never_change_an_earlier_rupture(rows, cut):
    full = ruptures(_series_from_dims(rows))
    prefix = ruptures(_series_from_dims(rows[:cut]))
    assert prefix == [f for f in full if f.session_number <= cut]
