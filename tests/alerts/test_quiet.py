"""Issue 12: fewer, steadier alerts — persistence, one alert per episode, acknowledged alerts that
stay quiet, the key-compatibility rule, and risk untouched by all of it."""

import dataclasses
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.alerts import (
    SEVERITY_RANK,
    AlertSettings,
    StoredAlert,
    apply_plan,
    evaluate_episode,
    reconcile,
)
from alliance.alerts.own_course import group_z, own_deviation, persistent
from alliance.alerts.risk import risk_findings
from alliance.alerts.rupture import rupture_findings
from tests.alerts.strategies import episode_series

levels = st.lists(st.sampled_from(["on_track", "yellow", "red"]), max_size=12)
residuals = st.lists(st.floats(-15, 15, allow_nan=False), min_size=1, max_size=12)


# --- own deviation (the conditional prediction) -------------------------------------------------


def test_own_deviation_worked_example():
    # tau2 = sigma2 = 4. Means 2, 3, 2, 2; shrink 1/2, 2/3, 3/4, 4/5.
    dev = own_deviation([2.0, 4.0, 0.0, 2.0], 4.0, 4.0)
    assert dev.estimate.tolist() == pytest.approx([1.0, 2.0, 0.75 * 2, 0.8 * 2.0])
    assert dev.spread.tolist() == pytest.approx([4 / math.sqrt(4 + 4 / m) for m in (1, 2, 3, 4)])
    assert dev.z.tolist() == pytest.approx([2 / math.sqrt(8), 3 / math.sqrt(6), 2 / math.sqrt(4 + 4 / 3), 2 / math.sqrt(5)])  # fmt: skip


def test_no_client_variance_means_no_own_deviation():
    dev = own_deviation([5.0, 6.0], 0.0, 4.0)
    assert dev.estimate.tolist() == [0.0, 0.0] and dev.z.tolist() == [0.0, 0.0]


@given(st.lists(residuals, min_size=1, max_size=5))
def test_group_z_is_own_deviation_per_client(clients):
    flat = [r for c in clients for r in c]
    groups = [i for i, c in enumerate(clients) for _ in c]
    expected = [z for c in clients for z in own_deviation(c, 3.0, 5.0).z.tolist()]
    assert group_z(flat, groups, 3.0, 5.0).tolist() == pytest.approx(expected)


@given(r=residuals, i=st.integers(0, 11), bump=st.floats(0.1, 10))
def test_raising_a_score_never_lowers_a_later_estimate(r, i, bump):
    i = min(i, len(r) - 1)
    higher = list(r)
    higher[i] += bump
    before, after = own_deviation(r, 4.0, 4.0), own_deviation(higher, 4.0, 4.0)
    assert all(a >= b - 1e-9 for a, b in zip(after.estimate, before.estimate, strict=True))
    assert all(a == b for a, b in zip(after.estimate[:i], before.estimate[:i], strict=True))


# --- persistence --------------------------------------------------------------------------------

_RANK = {"on_track": 0, "yellow": 1, "red": 2}


@given(levels=levels, n=st.integers(1, 4))
def test_persistence_never_raises_keeps_red_and_needs_a_run_for_yellow(levels, n):
    out = persistent(levels, n)
    assert len(out) == len(levels)
    for i, (before, after) in enumerate(zip(levels, out, strict=True)):
        assert _RANK[after] <= _RANK[before]
        if before == "red":
            assert after == "red"
        if after == "yellow":
            assert i + 1 >= n and all(level != "on_track" for level in levels[i - n + 1 : i + 1])
    assert persistent(levels, 1) == levels


@given(levels=levels)
def test_a_single_yellow_session_never_raises_a_yellow(levels):
    out = persistent(levels, 2)
    for i, level in enumerate(out):
        if level == "yellow":
            assert levels[i - 1] != "on_track" and i >= 1


# --- rupture markers ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=episode_series(max_sessions=10), n=st.integers(2, 3))
def test_yellow_ruptures_need_markers_in_a_row_and_reds_are_never_delayed(s, n):
    cfg = AlertSettings(rupture_marker_persistence=n)
    found = rupture_findings(s, cfg)
    for f in found:
        if f.severity == "yellow":
            markers = f.evidence["marker_sessions"]
            assert isinstance(markers, list) and len(markers) >= n
    every = rupture_findings(s, AlertSettings(rupture_marker_persistence=1))
    reds = {(f.key, f.session_number) for f in found if f.severity == "red"}
    assert reds == {(f.key, f.session_number) for f in every if f.severity == "red"}
    keys = [f.key for f in found]
    assert len(keys) == len(set(keys))


# --- risk is never suppressed, grouped or delayed -----------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s=episode_series(max_sessions=10),
    rupture_n=st.integers(1, 3),
    not_on_track_n=st.integers(1, 3),
)
def test_risk_findings_are_untouched_by_persistence_and_grouping(s, rupture_n, not_on_track_n):
    cfg = AlertSettings(
        rupture_marker_persistence=rupture_n, not_on_track_persistence=not_on_track_n
    )
    risks = [f for f in evaluate_episode(s, cfg) if f.kind == "risk"]
    assert risks == risk_findings(s, AlertSettings())
    # One per response, dated at its own session: never grouped, never delayed.
    for session in s.sessions:
        for signal in session.risk:
            part = f"r{signal.response_id}" if signal.response_id is not None else None
            if part is not None:
                assert any(
                    f.key.endswith(part) and f.session_number <= session.number for f in risks
                )
            else:
                assert any(f.session_number == session.number for f in risks)
    # Reconcile creates every new risk alert at once, open.
    plan = reconcile((), risks, s, cfg)
    assert [n.key for n in plan.create] == sorted(f.key for f in risks)
    assert all(n.status == "open" for n in plan.create)


# --- the key-compatibility rule (one not-on-track alert per episode) ---------------------------


def _legacy(instrument: str, status: str, severity: str) -> StoredAlert:
    return StoredAlert(
        key=f"not_on_track:ep12:{instrument}",
        kind="not_on_track",
        status=status,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        session_number=3,
        title="old",
        explanation="old",
        evidence={"instrument": instrument},
    )


def _red_series():
    from tests.alerts.builders import outcome_series

    return outcome_series("phq9", [15, 21, 23, 24])


def test_an_old_per_instrument_alert_is_carried_on_not_duplicated():
    s = _red_series()
    cfg = AlertSettings(trajectory_instruments=("phq9",))
    [finding] = [f for f in evaluate_episode(s, cfg) if f.kind == "not_on_track"]
    assert finding.key == "not_on_track:ep12"
    stored = [_legacy("gad7", "open", "yellow"), _legacy("phq9", "acknowledged", "red")]
    plan = reconcile(stored, [finding], s, cfg)
    assert plan.create == ()
    by_key = {u.key: u for u in plan.update}
    # The most severe open one carries on, under its old key, with the new content.
    carried = by_key["not_on_track:ep12:phq9"]
    assert carried.finding is not None and carried.finding.key == "not_on_track:ep12:phq9"
    assert carried.status is None  # not worse than when acknowledged: stays acknowledged
    # The other is no longer supported as a separate alert: marked, never deleted.
    assert by_key["not_on_track:ep12:gad7"].no_longer_met
    after = apply_plan(stored, plan)
    assert [a.key for a in after] == [a.key for a in stored]
    assert reconcile(after, [finding], s, cfg).is_empty


def test_a_closed_old_alert_gets_a_successor_only_when_worse():
    s = _red_series()
    cfg = AlertSettings(trajectory_instruments=("phq9",))
    findings = [f for f in evaluate_episode(s, cfg) if f.kind == "not_on_track"]
    closed_red = _legacy("phq9", "closed", "red")
    assert reconcile([closed_red], findings, s, cfg).is_empty
    closed_yellow = _legacy("phq9", "closed", "yellow")
    plan = reconcile([closed_yellow], findings, s, cfg)
    assert [n.key for n in plan.create] == ["not_on_track:ep12#2"]
    after = apply_plan([closed_yellow], plan)
    assert reconcile(after, findings, s, cfg).is_empty


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s=episode_series(max_sessions=9),
    old=st.lists(
        st.tuples(
            st.sampled_from(["phq9", "gad7"]),
            st.sampled_from(["open", "acknowledged", "closed"]),
            st.sampled_from(["yellow", "red"]),
        ),
        max_size=2,
        unique_by=lambda t: t[0],
    ),
)
def test_reconcile_with_old_keys_never_duplicates_or_loses_an_alert(s, old):
    cfg = AlertSettings()
    stored = [_legacy(*o) for o in old]
    findings = evaluate_episode(s, cfg)
    plan = reconcile(stored, findings, s, cfg)
    after = [
        dataclasses.replace(a, evidence=json.loads(json.dumps(a.evidence)))
        for a in apply_plan(stored, plan)
    ]
    keys = [a.key for a in after]
    assert len(keys) == len(set(keys))
    assert {a.key for a in stored} <= set(keys)
    for before in stored:
        now = next(a for a in after if a.key == before.key)
        assert SEVERITY_RANK[now.severity] >= SEVERITY_RANK[before.severity]
    # At most one not-on-track alert of the episode is live (open or acknowledged and met).
    live = [a for a in after if a.kind == "not_on_track" and a.status != "closed" and a.still_met]
    assert len(live) <= 1
    assert reconcile(after, findings, s, cfg).is_empty
