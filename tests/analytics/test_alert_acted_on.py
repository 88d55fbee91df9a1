"""How often alerts were acted on (issue 12, point 4): counts made by hand, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.analytics.alert_quality import (
    ALL_BUT_RISK,
    ALL_KINDS,
    CLOSE_REASON_ORDER,
    acted_on,
    alert_quality,
)
from alliance.analytics.records import ALERT_KINDS, AlertRecord

MONDAY = datetime(2025, 3, 3, 9, tzinfo=UTC)


def alert(
    kind: str = "rupture",
    *,
    status: str = "open",
    acted_hours: float | None = None,
    acknowledged_hours: float | None = None,
    discussed: bool = False,
    snoozed: bool = False,
    close_reason: str = "",
) -> AlertRecord:
    def at(hours: float | None) -> datetime | None:
        return None if hours is None else MONDAY + timedelta(hours=hours)

    return AlertRecord(
        episode="E1",
        therapist="T1",
        kind=kind,
        severity="red",
        status=status,
        created_at=MONDAY,
        acknowledged_at=at(acknowledged_hours),
        close_reason=close_reason,
        first_action_at=at(acted_hours),
        repair_discussed=discussed,
        snoozed=snoozed,
    )


def test_a_worked_example_counted_by_hand() -> None:
    alerts = [
        alert("rupture", status="repair_discussed", acted_hours=2, discussed=True),
        alert("rupture", status="acknowledged", acted_hours=10, snoozed=True),
        alert("rupture", status="repaired"),  # the data decided it; nobody looked
        alert("rupture", status="closed", acted_hours=30, close_reason="addressed"),
        alert("not_on_track", status="closed", acted_hours=4, close_reason="not_relevant"),
        alert("not_on_track"),
        alert("risk", status="acknowledged", acted_hours=0.5),
        alert("risk"),
    ]
    rupture = acted_on("rupture", [a for a in alerts if a.kind == "rupture"])
    assert (rupture.acted_on.numerator, rupture.acted_on.denominator) == (3, 4)
    assert rupture.repair_discussed is not None
    assert (rupture.repair_discussed.numerator, rupture.repair_discussed.denominator) == (1, 4)
    assert rupture.snoozed is not None and rupture.snoozed.numerator == 1
    assert rupture.closed_by_reason == (("addressed", 1),)
    assert rupture.hours_to_first_action.median == 10.0  # of 2, 10, 30
    assert (rupture.hours_to_first_action.q1, rupture.hours_to_first_action.q3) == (6.0, 20.0)

    risk = acted_on("risk", [a for a in alerts if a.kind == "risk"])
    assert risk.snoozed is None  # never snoozable: no share at all
    assert risk.repair_discussed is None
    assert (risk.acted_on.numerator, risk.hours_to_first_action.median) == (1, 0.5)

    report = alert_quality(alerts, {"T1": 1.0})
    assert report.all_but_risk is not None and report.all_but_risk.kind == ALL_BUT_RISK
    assert report.all_but_risk.raised == 6
    others = report.all_but_risk.acted_on
    assert others is not None and others.acted_on.numerator == 4
    assert others.closed_by_reason == (("addressed", 1), ("not_relevant", 1))
    assert report.all_kinds.acted_on is not None
    assert report.all_kinds.acted_on.acted_on.numerator == 5


def test_first_action_is_the_earlier_of_acknowledged_and_the_first_note() -> None:
    [a] = [alert(acted_hours=8, acknowledged_hours=3)]
    assert acted_on("rupture", [a]).hours_to_first_action.median == 3.0
    b = alert(acknowledged_hours=5)  # an acknowledgement alone is an action
    assert acted_on("rupture", [b]).acted_on.numerator == 1


def test_unknown_close_reasons_follow_the_known_ones() -> None:
    alerts = [
        alert(status="closed", close_reason="zzz"),
        alert(status="closed", close_reason="duplicate"),
        alert(status="closed", close_reason="addressed"),
        alert(status="closed", close_reason="addressed"),
    ]
    assert acted_on("rupture", alerts).closed_by_reason == (
        ("addressed", 2),
        ("duplicate", 1),
        ("zzz", 1),
    )


def test_the_figures_survive_json() -> None:
    report = alert_quality([alert(snoozed=True, acted_hours=1)], {"T1": 1.0}).as_dict()
    [rupture] = [k for k in report["kinds"] if k["kind"] == "rupture"]
    assert rupture["acted_on"]["snoozed"]["numerator"] == 1
    assert report["all_but_risk"]["acted_on"]["acted_on"]["denominator"] == 1


RECORDS = st.builds(
    alert,
    st.sampled_from(ALERT_KINDS),
    status=st.sampled_from(
        ["open", "acknowledged", "repair_discussed", "repaired", "unresolved", "closed"]
    ),
    acted_hours=st.none() | st.floats(0, 500),
    acknowledged_hours=st.none() | st.floats(0, 500),
    discussed=st.booleans(),
    snoozed=st.booleans(),
    close_reason=st.sampled_from(["", *CLOSE_REASON_ORDER, "legacy"]),
)


@given(st.lists(RECORDS, max_size=30))
def test_properties(alerts: list[AlertRecord]) -> None:
    report = alert_quality(alerts, {"T1": 2.0})
    for kind in [*report.kinds, report.all_kinds]:
        figures = kind.acted_on
        assert figures is not None
        assert figures.acted_on.denominator == kind.raised
        assert 0 <= figures.acted_on.numerator <= kind.raised
        # Every closed alert is counted under exactly one reason.
        assert sum(n for _, n in figures.closed_by_reason) == kind.closed
        # Time to first action is never negative and counts only alerts acted on.
        assert figures.hours_to_first_action.n <= figures.acted_on.numerator
        if figures.hours_to_first_action.median is not None:
            assert figures.hours_to_first_action.median >= 0
        if kind.kind == "risk":
            assert figures.snoozed is None
        else:
            assert figures.snoozed is not None
    # Risk apart: "every kind but risk" is "all" without the risk alerts.
    risks = sum(1 for a in alerts if a.kind == "risk")
    assert report.all_but_risk is not None
    assert report.all_but_risk.raised == report.all_kinds.raised - risks
    assert report.all_kinds.kind == ALL_KINDS


@pytest.mark.parametrize("status", ["repaired", "unresolved", "open"])
def test_what_the_data_decided_alone_is_not_acted_on(status: str) -> None:
    assert acted_on("rupture", [alert(status=status)]).acted_on.numerator == 0
