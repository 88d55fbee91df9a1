"""Alert quality, checked against counts made by hand and against independent formulas."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from alliance.analytics.alert_quality import (
    ALL_KINDS,
    alert_quality,
    alert_quality_report,
    per_week,
    quartiles,
    therapist_weeks,
)
from alliance.analytics.records import ALERT_KINDS, AlertRecord, ClinicData, EpisodeRecord

MONDAY = datetime(2025, 3, 3, 9, tzinfo=UTC)


def alert(
    kind: str = "rupture",
    *,
    therapist: str = "T1",
    status: str = "open",
    day: int = 0,
    acknowledged_hours: float | None = None,
    repaired_days: float | None = None,
    close_reason: str = "",
) -> AlertRecord:
    created = MONDAY + timedelta(days=day)
    return AlertRecord(
        episode="E1",
        therapist=therapist,
        kind=kind,
        severity="medium",
        status=status,
        created_at=created,
        acknowledged_at=None
        if acknowledged_hours is None
        else created + timedelta(hours=acknowledged_hours),
        repaired_at=None if repaired_days is None else created + timedelta(days=repaired_days),
        resolved_at=created + timedelta(days=3) if status == "closed" else None,
        close_reason=close_reason,
    )


def episode(therapist: str, start: date, end: date | None = None, name: str = "E") -> EpisodeRecord:
    return EpisodeRecord(name, "C", therapist, start, start, end, "planned" if end else "")


# --- the pieces --------------------------------------------------------------------------------


def test_per_week_matches_the_gamma_form_of_the_exact_poisson_interval() -> None:
    # Garwood's interval written with gamma quantiles: [G(a/2; k), G(1-a/2; k+1) with a = 0.05] / T.
    got = per_week(7, 10.0)
    assert got.rate == pytest.approx(0.7)
    assert got.low == pytest.approx(stats.gamma.ppf(0.025, 7) / 10)
    assert got.high == pytest.approx(stats.gamma.ppf(0.975, 8) / 10)
    # With no events the upper limit solves P(0; mu) = exp(-mu) = 0.025: mu = -ln 0.025 = 3.689.
    zero = per_week(0, 1.0)
    assert (zero.rate, zero.low) == (0.0, 0.0)
    assert zero.high == pytest.approx(-math.log(0.025), abs=1e-9)
    assert per_week(3, 0.0).rate is None


def test_quartiles_match_numpy() -> None:
    values = [0.5, 2.0, 3.0, 7.5, 11.0]
    got = quartiles(values)
    assert (got.n, got.median) == (5, 3.0)
    assert (got.q1, got.q3) == (2.0, 7.5)
    assert quartiles([]).median is None


def test_therapist_weeks_count_days_with_an_open_episode_once() -> None:
    episodes = [
        episode("T1", date(2025, 1, 1), date(2025, 1, 14)),
        episode("T1", date(2025, 1, 10), date(2025, 1, 20)),  # overlaps: Jan 1-20 is 20 days
        episode("T1", date(2025, 2, 1), None),  # open: counts to the period's end (Feb 7)
        episode("T2", date(2024, 6, 1), date(2024, 12, 31)),  # before the period
        episode("T3", date(2024, 12, 1), None),  # open all period: 38 days
    ]
    weeks = therapist_weeks(episodes, date(2025, 1, 1), date(2025, 2, 7))
    assert weeks == pytest.approx({"T1": (20 + 7) / 7, "T3": 38 / 7})


# --- the report ----------------------------------------------------------------------------------


def _clinic_alerts() -> list[AlertRecord]:
    return [
        # T1: three ruptures - one repaired after 4 days, one unresolved, one still pending.
        alert("rupture", status="repaired", acknowledged_hours=2, repaired_days=4),
        alert("rupture", status="unresolved", acknowledged_hours=30),
        alert("rupture", status="open", day=20),
        # T1: a rupture the data repaired before anyone looked (not acknowledged), after 9 days.
        alert("rupture", status="repaired", repaired_days=9),
        # T2: a risk alert acknowledged within an hour; two not-on-track, one closed as not useful.
        alert("risk", therapist="T2", status="acknowledged", acknowledged_hours=0.5),
        alert(
            "not_on_track",
            therapist="T2",
            status="closed",
            acknowledged_hours=5,
            close_reason="not_relevant",
        ),
        alert(
            "not_on_track",
            therapist="T2",
            status="closed",
            acknowledged_hours=8,
            close_reason="addressed",
        ),
        # Outside the period: ignored.
        alert("risk", therapist="T2", day=-10),
    ]


def test_counts_rates_and_times_by_hand() -> None:
    report = alert_quality(
        _clinic_alerts(),
        {"T1": 4.0, "T2": 6.0, "T3": 2.0},
        start=date(2025, 3, 1),
        end=date(2025, 3, 31),
    )
    assert [k.kind for k in report.kinds][:1] == ["risk"]  # risk is reported first
    assert {k.kind for k in report.kinds} == set(ALERT_KINDS)
    kinds = {k.kind: k for k in report.kinds}
    assert report.therapists == 3 and report.therapist_weeks == 12.0

    rupture = kinds["rupture"]
    assert rupture.raised == 4
    assert rupture.per_therapist_week.rate == pytest.approx(4 / 12)
    assert (rupture.acknowledged.numerator, rupture.acknowledged.denominator) == (2, 4)
    assert (rupture.acknowledged.low, rupture.acknowledged.high) == pytest.approx(
        proportion_confint(2, 4, method="wilson")
    )
    assert rupture.hours_to_acknowledge.median == pytest.approx(16.0)  # of 2 and 30
    repair = rupture.repair
    assert repair is not None
    assert (repair.repaired.numerator, repair.repaired.denominator) == (2, 3)
    assert (repair.unresolved, repair.pending, repair.closed_undecided) == (1, 1, 0)
    assert repair.days_to_repair.median == pytest.approx(6.5)  # of 4 and 9
    assert (repair.days_to_repair.q1, repair.days_to_repair.q3) == pytest.approx((5.25, 7.75))

    risk = kinds["risk"]
    assert risk.raised == 1 and risk.acknowledged.rate == 1.0
    assert risk.hours_to_acknowledge.median == pytest.approx(0.5)
    assert risk.repair is None

    not_on_track = kinds["not_on_track"]
    assert (not_on_track.closed, not_on_track.not_useful.numerator) == (2, 1)
    assert not_on_track.not_useful.rate == 0.5
    assert kinds["deterioration"].raised == 0 and kinds["deterioration"].acknowledged.rate is None

    everything = report.all_kinds
    assert everything.kind == ALL_KINDS and everything.raised == 7
    assert everything.per_therapist_week.rate == pytest.approx(7 / 12)

    by_therapist = {t.therapist: t for t in report.by_therapist}
    assert by_therapist["T1"].all_kinds.raised == 4
    assert by_therapist["T1"].all_kinds.per_therapist_week.rate == pytest.approx(4 / 4.0)
    assert by_therapist["T2"].all_kinds.per_therapist_week.rate == pytest.approx(3 / 6.0)
    assert by_therapist["T3"].all_kinds.raised == 0  # in care, no alerts: shown with zero
    assert by_therapist["T3"].all_kinds.per_therapist_week.rate == 0.0


def test_a_closed_repaired_rupture_still_counts_as_repaired() -> None:
    report = alert_quality(
        [
            alert("rupture", status="closed", repaired_days=2, close_reason="addressed"),
            alert("rupture", status="closed", close_reason="not_relevant"),
        ],
        {"T1": 1.0},
    )
    repair = next(k for k in report.kinds if k.kind == "rupture").repair
    assert repair is not None
    assert (repair.repaired.numerator, repair.repaired.denominator) == (1, 1)
    assert repair.closed_undecided == 1 and repair.pending == 0


def test_the_report_from_clinic_data_counts_weeks_from_episodes() -> None:
    data = ClinicData(
        episodes=(
            episode("T1", date(2025, 3, 1), date(2025, 3, 28), "E1"),
            episode("T2", date(2025, 3, 1), None, "E2"),
        ),
        alerts=tuple(_clinic_alerts()),
    )
    report = alert_quality_report(data, date(2025, 3, 1), date(2025, 3, 28))
    assert report.therapist_weeks == pytest.approx(8.0)  # 28 days each
    assert report.all_kinds.raised == 7
    # With no period, it runs from the first date in the data to the last.
    open_ended = alert_quality_report(data)
    assert open_ended.start == date(2025, 2, 21)  # the alert ten days before Monday 3 March
    assert open_ended.all_kinds.raised == 8
    assert alert_quality_report(ClinicData()).all_kinds.raised == 0


def test_as_dict_is_plain_json() -> None:
    report = alert_quality(_clinic_alerts(), {"T1": 4.0, "T2": 6.0}, start=date(2025, 3, 1))
    as_dict = report.as_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert as_dict["start"] == "2025-03-01"
    assert as_dict["kinds"][0]["kind"] == "risk"


# --- properties ------------------------------------------------------------------------------------

alerts_strategy = st.lists(
    st.builds(
        alert,
        kind=st.sampled_from([*ALERT_KINDS, "something_new"]),
        therapist=st.sampled_from(["T1", "T2", "T3"]),
        status=st.sampled_from(
            ["open", "acknowledged", "repair_discussed", "repaired", "unresolved", "closed"]
        ),
        day=st.integers(0, 60),
        acknowledged_hours=st.none() | st.floats(0, 500),
        repaired_days=st.none() | st.floats(0, 30),
        close_reason=st.sampled_from(["", "addressed", "not_relevant", "other"]),
    ),
    max_size=40,
)
# Therapist-weeks are whole days in care divided by 7.
weeks_strategy = st.dictionaries(
    st.sampled_from(["T1", "T2", "T3", "T4"]), st.integers(0, 400).map(lambda d: d / 7), max_size=4
)


def _rates(report_dict: object) -> list[dict]:
    found = []
    if isinstance(report_dict, dict):
        if {"rate", "low", "high"} <= report_dict.keys():
            found.append(report_dict)
        for v in report_dict.values():
            found += _rates(v)
    elif isinstance(report_dict, list):
        for v in report_dict:
            found += _rates(v)
    return found


@settings(max_examples=60, deadline=None)
@given(alerts_strategy, weeks_strategy, st.randoms(use_true_random=False))
def test_report_properties(alerts: list[AlertRecord], weeks: dict, shuffler: random.Random) -> None:
    report = alert_quality(alerts, weeks)
    as_dict = report.as_dict()
    for r in _rates(as_dict):
        if r["rate"] is not None:
            assert r["low"] <= r["rate"] <= r["high"]
            if r.get("method") == "wilson":
                assert r["low"] >= 0 and r["high"] <= 1
    # Every alert is counted once: by kind, and by therapist.
    assert sum(k.raised for k in report.kinds) == report.all_kinds.raised == len(alerts)
    assert sum(t.all_kinds.raised for t in report.by_therapist) == len(alerts)
    assert report.kinds[0].kind == "risk"
    # The order of the alerts changes nothing.
    shuffled = list(alerts)
    shuffler.shuffle(shuffled)
    assert alert_quality(shuffled, weeks).as_dict() == as_dict


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 500), st.integers(1, 5000).map(lambda d: d / 7))
def test_per_week_interval_holds_the_rate(count: int, weeks: float) -> None:
    got = per_week(count, weeks)
    assert got.low is not None and got.high is not None and got.rate is not None
    assert 0 <= got.low <= got.rate <= got.high


def test_per_week_interval_covers_the_true_rate() -> None:
    # Exact intervals are conservative: over many Poisson draws they cover at least 95%.
    rng = np.random.default_rng(8)
    draws = rng.poisson(0.4 * 25, size=2000)
    covered = [per_week(int(k), 25.0) for k in draws]
    share = np.mean([c.low <= 0.4 <= c.high for c in covered])  # type: ignore[operator]
    assert share >= 0.95
