"""Snoozing an alert (issue 12, point 4): the pure rules. The Django side is tests/care/test_snooze.py."""

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.alerts import (
    KINDS,
    SEVERITY_RANK,
    STATUSES,
    AlertSettings,
    StoredAlert,
    TransitionError,
    allowed_actions,
    apply_action,
    apply_plan,
    evaluate_episode,
    reconcile,
)
from alliance.alerts.lifecycle import SNOOZE_WEEKS, is_quiet, next_states, snooze_until
from tests.alerts.builders import checkin_series
from tests.alerts.strategies import episode_series

CFG = AlertSettings(trajectory_instruments=("phq9",))
NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
RUPTURE = [8, 9, 8, 9, 5.5]  # a red rupture at session 5 (tests/alerts/test_lifecycle.py)


def _alert(kind="not_on_track", status="acknowledged", until=None, severity="yellow"):
    return StoredAlert(key="k", kind=kind, status=status, severity=severity, snoozed_until=until)


# --- worked examples --------------------------------------------------------------------------


def test_a_two_week_snooze_ends_at_the_same_time_two_weeks_later():
    until = snooze_until(NOW, 2)
    assert until == datetime(2026, 12, 19, 9, 30, tzinfo=UTC)
    alert = _alert(until=until)
    assert is_quiet(alert, datetime(2026, 12, 19, 9, 29, tzinfo=UTC))
    assert not is_quiet(alert, until)  # back from that moment
    assert not is_quiet(_alert(), NOW)  # never snoozed


def test_only_the_offered_periods():
    assert SNOOZE_WEEKS == (1, 2, 4)
    with pytest.raises(TransitionError, match="weeks"):
        snooze_until(NOW, 3)


def test_snoozing_needs_a_short_reason_and_acknowledges_an_open_alert():
    with pytest.raises(TransitionError, match="reason"):
        apply_action("open", "not_on_track", "snooze", note="  ")
    with pytest.raises(TransitionError, match="300"):
        apply_action("open", "not_on_track", "snooze", note="x" * 301)
    assert apply_action("open", "not_on_track", "snooze", note="Seen; wait") == "acknowledged"
    assert apply_action("unresolved", "rupture", "snooze", note="Seen") == "unresolved"
    assert apply_action("acknowledged", "rupture", "unsnooze", snoozed=True) == "acknowledged"


def test_a_snoozed_alert_can_be_woken_not_snoozed_again():
    assert "unsnooze" in allowed_actions("acknowledged", "rupture", snoozed=True)
    assert "snooze" not in allowed_actions("acknowledged", "rupture", snoozed=True)
    with pytest.raises(TransitionError):
        apply_action("acknowledged", "rupture", "snooze", note="again", snoozed=True)
    with pytest.raises(TransitionError):
        apply_action("acknowledged", "rupture", "unsnooze")  # not snoozed


def test_resolved_alerts_are_not_snoozed():
    assert "snooze" not in allowed_actions("repaired", "rupture")
    assert "snooze" not in allowed_actions("closed", "rupture")


def test_a_snoozed_alert_that_gets_worse_is_woken_saying_why():
    s = checkin_series(RUPTURE)
    [finding] = evaluate_episode(s, CFG)
    assert finding.severity == "red"
    snoozed = StoredAlert(
        key=finding.key,
        kind=finding.kind,
        status="acknowledged",
        severity="yellow",
        session_number=finding.session_number,
        title=finding.title,
        explanation=finding.explanation,
        suggestion=finding.suggestion,
        evidence=dict(finding.evidence),
        snoozed_until=snooze_until(NOW, 4),
    )
    plan = reconcile([snoozed], [finding], s, CFG)
    [update] = plan.update
    assert update.unsnooze and update.severity == "red"
    assert any("worse" in reason for reason in update.reasons)
    [after] = apply_plan([snoozed], plan)
    assert after.snoozed_until is None and after.severity == "red"
    assert reconcile([after], [finding], s, CFG).is_empty


def test_a_snoozed_alert_that_stays_the_same_stays_snoozed():
    s = checkin_series(RUPTURE)
    [finding] = evaluate_episode(s, CFG)
    until = snooze_until(NOW, 1)
    stored = dataclasses.replace(
        apply_plan([], reconcile([], [finding], s, CFG))[0],
        status="acknowledged",
        snoozed_until=until,
    )
    assert reconcile([stored], [finding], s, CFG).is_empty


# --- properties -------------------------------------------------------------------------------


@given(
    status=st.sampled_from(STATUSES),
    snoozed=st.booleans(),
    note=st.text(max_size=20),
    until=st.none() | st.datetimes(timezones=st.just(UTC)),
    now=st.datetimes(timezones=st.just(UTC)),
)
def test_risk_is_never_snoozed_nor_quiet(status, snoozed, note, until, now):
    assert "snooze" not in allowed_actions(status, "risk", snoozed=snoozed)
    with pytest.raises(TransitionError):
        apply_action(status, "risk", "snooze", note=note or "a reason", snoozed=snoozed)
    # Whatever a row holds (a bug, a hand edit), a risk alert is never quiet.
    assert not is_quiet(_alert(kind="risk", status=status, until=until), now)


@given(status=st.sampled_from(STATUSES), kind=st.sampled_from(KINDS), snoozed=st.booleans())
def test_snooze_never_moves_an_alert_anywhere_but_acknowledged(status, kind, snoozed):
    for action in ("snooze", "unsnooze"):
        if action in allowed_actions(status, kind, snoozed=snoozed):
            new = apply_action(status, kind, action, note="reason", snoozed=snoozed)
            assert new == status or (status, new) == ("open", "acknowledged")
    assert status not in next_states(status, kind)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=episode_series(max_sessions=9), cut=st.integers(1, 9), snooze=st.lists(st.booleans()))
def test_no_alert_stays_snoozed_after_it_got_worse(s, cut, snooze):
    prefix = dataclasses.replace(s, sessions=s.sessions[:cut])
    first = apply_plan((), reconcile((), evaluate_episode(prefix, CFG), prefix, CFG))
    until = snooze_until(NOW, 2)
    existing = [
        dataclasses.replace(a, snoozed_until=until)
        if i < len(snooze) and snooze[i] and "snooze" in allowed_actions(a.status, a.kind)
        else a
        for i, a in enumerate(first)
    ]
    findings = evaluate_episode(s, CFG)
    after = {a.key: a for a in apply_plan(existing, reconcile(existing, findings, s, CFG))}
    for before in existing:
        now = after[before.key]
        if is_quiet(now, NOW):
            assert SEVERITY_RANK[now.severity] == SEVERITY_RANK[before.severity]
            assert now.kind != "risk"
        if SEVERITY_RANK[now.severity] > SEVERITY_RANK[before.severity]:
            assert now.snoozed_until is None
    # New alerts are never born snoozed; risk never quiet.
    assert all(not is_quiet(a, NOW) for a in after.values() if a.kind == "risk")
