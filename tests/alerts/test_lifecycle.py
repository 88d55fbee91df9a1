"""Life of an alert: actions, automatic repair transitions and reconciliation."""

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.alerts import (
    SEVERITY_RANK,
    AlertSettings,
    StoredAlert,
    TransitionError,
    allowed_actions,
    apply_action,
    apply_plan,
    evaluate_episode,
    next_states,
    reconcile,
    stored_from_finding,
)
from alliance.alerts.not_on_track import not_on_track_findings
from tests.alerts.builders import checkin_series, outcome_series
from tests.alerts.strategies import episode_series
from tests.alerts.test_not_on_track import MODEL

CFG = AlertSettings(trajectory_instruments=("phq9",))


# --- states and actions -----------------------------------------------------------------------


def test_allowed_actions():
    # "snooze" (brief C, issue 12 point 4): tests/alerts/test_snooze.py has the rest.
    assert allowed_actions("open", "rupture") == (
        "acknowledge",
        "discuss_repair",
        "snooze",
        "close",
    )
    assert allowed_actions("acknowledged", "rupture") == ("discuss_repair", "snooze", "close")
    assert allowed_actions("repair_discussed", "rupture") == ("snooze", "close")
    assert allowed_actions("repaired", "rupture") == ("close",)
    assert allowed_actions("open", "not_on_track") == ("acknowledge", "snooze", "close")
    assert allowed_actions("open", "risk") == ("acknowledge", "close")
    assert allowed_actions("closed", "risk") == ()


def test_next_states_include_automatic_transitions_for_ruptures_only():
    assert next_states("acknowledged", "rupture") == {
        "repair_discussed",
        "repaired",
        "unresolved",
        "closed",
    }
    assert next_states("acknowledged", "deterioration") == {"closed"}
    assert next_states("unresolved", "rupture") == {"closed"}
    assert next_states("closed", "rupture") == frozenset()


def test_actions_need_notes_and_reasons():
    assert apply_action("open", "risk", "acknowledge") == "acknowledged"
    with pytest.raises(TransitionError, match="note"):
        apply_action("acknowledged", "rupture", "discuss_repair", note="  ")
    assert (
        apply_action("acknowledged", "rupture", "discuss_repair", note="We talked about it.")
        == "repair_discussed"
    )
    with pytest.raises(TransitionError, match="reason"):
        apply_action("repaired", "rupture", "close")
    assert apply_action("repaired", "rupture", "close", reason="Repaired.") == "closed"
    with pytest.raises(TransitionError):
        apply_action("open", "not_on_track", "discuss_repair", note="n/a")
    with pytest.raises(TransitionError):
        apply_action("closed", "risk", "acknowledge")


# --- reconcile: worked examples ---------------------------------------------------------------


def sync(existing, s, norms=None):
    plan = reconcile(existing, evaluate_episode(s, CFG, norms), s, CFG)
    return plan, apply_plan(existing, plan)


def through_json_column(alerts):
    """What a database JSON column gives back."""
    return tuple(
        dataclasses.replace(a, evidence=json.loads(json.dumps(a.evidence))) for a in alerts
    )


def by_key(alerts):
    return {a.key: a for a in alerts}


RUPTURE = [8, 9, 8, 9, 5.5]  # drop at session 5


def test_new_findings_are_created_open_and_a_second_run_is_empty():
    s = checkin_series(RUPTURE)
    plan, stored = sync((), s)
    assert [n.key for n in plan.create] == ["rupture:ep12:s5"]
    assert stored[0].status == "open" and stored[0].severity == "red"
    again, _ = sync(stored, s)
    assert again.is_empty


def test_rupture_repaired_automatically():
    _, stored = sync((), checkin_series(RUPTURE))
    stored = [dataclasses.replace(stored[0], status="repair_discussed")]
    plan, after = sync(stored, checkin_series([*RUPTURE, 8, 9]))
    [update] = plan.update
    assert update.status == "repaired" and update.repair.session_number == 7
    assert by_key(after)["rupture:ep12:s5"].status == "repaired"
    assert sync(after, checkin_series([*RUPTURE, 8, 9]))[0].is_empty


def test_rupture_unresolved_after_m_sessions():
    _, stored = sync((), checkin_series(RUPTURE))
    plan, after = sync(stored, checkin_series([*RUPTURE, 7, 8]))
    assert [u.status for u in plan.update] == ["unresolved"]
    assert by_key(after)["rupture:ep12:s5"].status == "unresolved"


def test_a_rupture_first_seen_after_its_window_is_created_already_decided():
    plan, stored = sync((), checkin_series([*RUPTURE, 7, 8]))
    [new] = plan.create
    assert (new.key, new.status) == ("rupture:ep12:s5", "unresolved")
    assert new.repair is not None and new.repair.sessions_checked == (6, 7)
    assert stored[0].status == "unresolved"
    assert sync(stored, checkin_series([*RUPTURE, 7, 8]))[0].is_empty


def test_a_new_rupture_later_is_a_new_key_even_after_closing():
    _, stored = sync((), checkin_series(RUPTURE))
    stored = [dataclasses.replace(stored[0], status="closed")]
    plan, after = sync(stored, checkin_series([*RUPTURE, 9, 9, 9, 9, 5]))
    assert [n.key for n in plan.create] == ["rupture:ep12:s10"]
    assert by_key(after)["rupture:ep12:s5"].status == "closed"  # untouched


def test_not_on_track_escalates_in_place_and_an_acknowledged_one_comes_back_when_worse():
    from alliance.alerts import ClinicNorms

    norms = ClinicNorms(early_alliance_q25=7.0, trajectories={"phq9": MODEL})
    cfg = AlertSettings(trajectory_instruments=("phq9",), reliable_deterioration={"phq9": 20.0})
    yellow = outcome_series("phq9", [15, 13, 12])
    still_yellow = outcome_series("phq9", [15, 13, 12, 12])
    red = outcome_series("phq9", [15, 13, 12, 14])
    _, stored = (lambda p: (p, apply_plan((), p)))(
        reconcile((), evaluate_episode(yellow, cfg, norms), yellow, cfg)
    )
    acknowledged = [dataclasses.replace(stored[0], status="acknowledged")]
    # New numbers, same severity: the explanation is refreshed, the alert stays acknowledged.
    plan = reconcile(acknowledged, evaluate_episode(still_yellow, cfg, norms), still_yellow, cfg)
    [update] = plan.update
    assert update.finding is not None and update.severity is None and update.status is None
    # Worse than when acknowledged: escalated in place, and open again (issue 12).
    plan = reconcile(acknowledged, evaluate_episode(red, cfg, norms), red, cfg)
    assert plan.create == ()
    [update] = plan.update
    assert update.key == "not_on_track:ep12" and update.severity == "red"
    assert update.finding is not None and update.status == "open"
    assert any(r.startswith("reopened: worse than when acknowledged") for r in update.reasons)
    after = apply_plan(acknowledged, plan)
    assert after[0].severity == "red" and after[0].status == "open"
    assert reconcile(after, evaluate_episode(red, cfg, norms), red, cfg).is_empty


def test_closed_alert_escalating_gets_a_successor_not_a_reopen():
    yellow = not_on_track_findings(outcome_series("phq9", [15, 13, 12]), [MODEL], CFG)
    red_series = outcome_series("phq9", [15, 13, 12, 14])
    red = not_on_track_findings(red_series, [MODEL], CFG)
    closed = dataclasses.replace(stored_from_finding(yellow[0]), status="closed")
    plan = reconcile([closed], red, red_series, CFG)
    assert [n.key for n in plan.create] == ["not_on_track:ep12#2"]
    assert plan.update == ()
    after = apply_plan([closed], plan)
    assert after[0] == closed
    assert reconcile(after, red, red_series, CFG).is_empty
    # Same severity as when closed: nothing new.
    assert reconcile([closed], yellow, red_series, CFG).is_empty


def test_severity_is_never_lowered():
    scores = [15, 13, 12]  # yellow
    found = not_on_track_findings(outcome_series("phq9", scores), [MODEL], CFG)
    stored = dataclasses.replace(stored_from_finding(found[0]), severity="red")
    assert reconcile([stored], found, outcome_series("phq9", scores), CFG).is_empty


def test_alert_no_longer_supported_is_marked_not_deleted():
    _, stored = sync((), checkin_series(RUPTURE))
    corrected = checkin_series([8, 9, 8, 9, 8.5])
    plan, after = sync(stored, corrected)
    [update] = plan.update
    assert update.no_longer_met and update.finding is None
    stored_after = by_key(after)["rupture:ep12:s5"]
    assert stored_after.still_met is False and stored_after.evidence["no_longer_met"] is True
    assert sync(after, corrected)[0].is_empty
    # The data changes back: the content is refreshed and the flag goes.
    plan, again = sync(after, checkin_series(RUPTURE))
    assert [u.reasons for u in plan.update] == [("supported by the data again",)]
    assert by_key(again)["rupture:ep12:s5"].still_met is True


def test_duplicate_stored_keys_are_refused():
    a = StoredAlert(key="risk:ep12:r1", kind="risk", status="open", severity="urgent")
    with pytest.raises(ValueError, match="unique"):
        reconcile([a, a], [], checkin_series([8]), CFG)


# --- reconcile: properties --------------------------------------------------------------------

ACTION_PICK = st.integers(0, 3)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=episode_series(max_sessions=9), cut=st.integers(1, 9), picks=st.lists(ACTION_PICK))
def test_reconcile_is_idempotent_never_loses_keys_and_never_reopens(s, cut, picks):
    prefix = dataclasses.replace(s, sessions=s.sessions[:cut])
    _, existing = sync((), prefix)
    # The therapist acts on some alerts.
    acted = []
    for i, alert in enumerate(existing):
        pick = picks[i] if i < len(picks) else 0
        actions = allowed_actions(alert.status, alert.kind)
        if pick and actions:
            action = actions[(pick - 1) % len(actions)]
            status = apply_action(alert.status, alert.kind, action, note="n", reason="r")
            alert = dataclasses.replace(alert, status=status)
        acted.append(alert)

    findings = evaluate_episode(s, CFG)
    plan = reconcile(acted, findings, s, CFG)
    after = through_json_column(apply_plan(acted, plan))

    keys_after = [a.key for a in after]
    assert len(keys_after) == len(set(keys_after))
    assert {a.key for a in acted} <= set(keys_after)
    for before in acted:
        now = by_key(after)[before.key]
        if before.status == "closed":
            assert now == before
        assert SEVERITY_RANK[now.severity] >= SEVERITY_RANK[before.severity]
    # Every finding is represented by a stored alert (its key or a successor).
    bases = {a.key.partition("#")[0] for a in after}
    assert {f.key for f in findings} <= bases
    assert reconcile(after, findings, s, CFG).is_empty
