"""The outcomes report on a clinic built by hand, checked episode by episode against a separate,
plain calculation from the definitions in docs/clinical.md and docs/insights.md."""

from __future__ import annotations

import json
import math
import random
import statistics
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.analytics.outcomes import band_keys, band_of, outcomes_report
from alliance.analytics.records import (
    AppointmentRecord,
    ClinicData,
    EpisodeRecord,
    ResponseRecord,
)

# --- the hand-built clinic -----------------------------------------------------------------------

ATTENDANCE = {
    "A": "attended",
    "N": "no_show",
    "L": "late_cancel",
    "C": "cancelled",
    "S": "scheduled",
}


@dataclass(frozen=True)
class Spec:
    """One episode: weekly appointments from `start`, one letter each (ATTENDANCE), and the PHQ-9 /
    GAD-7 given before each appointment (None: no score). A check-in follows every attended session
    except those in `no_checkin` (positions from 0)."""

    episode: str
    therapist: str
    referred: date
    start: date
    pattern: str
    phq: tuple[int | None, ...]
    gad: tuple[int | None, ...]
    ended: date | None = None
    reason: str = ""
    language: str = "en"
    no_checkin: frozenset[int] = frozenset()
    # (position, instrument, total, minutes after the first score that day): corrections
    extra: tuple[tuple[int, str, int, int], ...] = field(default_factory=tuple)

    def day(self, position: int) -> date:
        return self.start + timedelta(weeks=position)


def D(text: str) -> date:
    return date.fromisoformat(text)


NA: int | None = None  # no score at that appointment
CLINIC = (
    # Recovered and reliably improved.
    Spec("E01", "t1", D("2024-01-02"), D("2024-01-08"), "AAAAAA",
         (16, 14, 12, 9, 7, 5), (12, 11, 9, 7, 5, 4), D("2024-02-20"), "planned"),
    # Reliably improved, still a case (PHQ-9 12): not recovered. No check-ins at all.
    Spec("E02", "t1", D("2024-01-05"), D("2024-01-10"), "AAAAA",
         (20, 19, 17, 15, 12), (15, 14, 13, 12, 10), D("2024-02-15"), "planned",
         no_checkin=frozenset(range(5))),
    # Not a case at the start: out of the recovery denominator, in the improvement one.
    Spec("E03", "t1", D("2024-02-01"), D("2024-02-05"), "AAAA",
         (6, 5, 4, 3), (5, 4, 3, 2), D("2024-03-05"), "planned"),
    # Reliable deterioration (PHQ-9 +8); a no-show in the middle.
    Spec("E04", "t2", D("2024-02-10"), D("2024-02-12"), "AANAA",
         (10, 12, NA, 15, 18), (7, 8, NA, 9, 10), D("2024-03-20"), "other"),
    # One attended session, then dropout: not a finished course.
    Spec("E05", "t2", D("2024-03-01"), D("2024-03-04"), "ANN",
         (18, NA, NA), (14, NA, NA), D("2024-04-01"), "dropout", no_checkin=frozenset({0})),
    # A finished course with only one paired date (no GAD-7 after the first): not eligible.
    Spec("E06", "t2", D("2024-03-10"), D("2024-03-11"), "AAA",
         (15, 12, 10), (10, NA, NA), D("2024-04-15"), "dropout"),
    # PHQ-9 reliably better (-7) while GAD-7 reliably worse (+5): deteriorated, not improved.
    Spec("E07", "t1", D("2024-04-01"), D("2024-04-03"), "AAAA",
         (18, 14, 12, 11), (6, 8, 9, 11), D("2024-05-01"), "planned", language="es"),
    # Active, with two bookings that were never recorded.
    Spec("E08", "t3", D("2024-09-30"), D("2024-10-07"), "AAASS",
         (14, 12, 11, NA, NA), (9, 8, 8, NA, NA)),
    # Ended before 2024.
    Spec("E09", "t1", D("2023-09-20"), D("2023-10-02"), "AAAA",
         (16, 10, 8, 4), (10, 8, 6, 4), D("2023-12-10"), "planned"),
    # Referred, never attended, dropped out: no session, no score.
    Spec("E10", "t3", D("2024-02-01"), D("2024-02-08"), "NN",
         (NA, NA), (NA, NA), D("2024-03-01"), "dropout"),
    # Recovered without reliable improvement (-3, -3): recovery yes, reliable recovery no.
    Spec("E11", "t3", D("2024-05-02"), D("2024-05-06"), "AAAAAA",
         (11, 10, 9, 9, 8, 8), (9, 8, 8, 7, 7, 6), D("2024-06-20"), "planned", language="es",
         no_checkin=frozenset({2, 3})),
    # Late cancel, no-show (with a PHQ-9 given before it) and a cancellation with notice; the first
    # PHQ-9 is corrected from 17 to 19 half an hour later.
    Spec("E12", "t1", D("2024-06-01"), D("2024-06-03"), "ALANCAA",
         (17, NA, 15, 14, NA, 10, 6), (13, NA, 11, NA, NA, 7, 5), D("2024-07-25"), "planned",
         extra=((0, "phq9", 19, 30),)),
    # The last attended session has no score: recovered on the last paired date, no last score.
    Spec("E13", "t2", D("2024-07-01"), D("2024-07-08"), "AAAA",
         (13, 11, 9, NA), (9, 8, 6, NA), D("2024-08-10"), "planned"),
    # Reliably improved, still a case; transferred.
    Spec("E14", "t2", D("2024-08-01"), D("2024-08-05"), "AAAAA",
         (22, 20, 16, 14, 13), (17, 16, 14, 12, 11), D("2024-09-10"), "transferred"),
    # Ends after 2024: active at the end of 2024.
    Spec("E15", "t3", D("2024-10-25"), D("2024-11-04"), "AAAA",
         (15, 12, 9, 6), (11, 9, 7, 5), D("2025-01-15"), "planned"),
    # Referred late in 2024, first appointments in 2025.
    Spec("E16", "t1", D("2024-12-20"), D("2025-01-06"), "SS", (NA, NA), (NA, NA)),
)  # fmt: skip

YEAR = (D("2024-01-01"), D("2024-12-31"))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def build(specs: tuple[Spec, ...] = CLINIC) -> ClinicData:
    episodes, appointments, responses = [], [], []
    for s in specs:
        episodes.append(
            EpisodeRecord(
                s.episode, f"c-{s.episode}", s.therapist, s.referred, s.referred, s.ended,
                s.reason, s.language,
            )
        )  # fmt: skip
        for i, letter in enumerate(s.pattern):
            session = i + 1
            day = s.day(i)
            appointments.append(
                AppointmentRecord(s.episode, session, at(day, 10), ATTENDANCE[letter])
            )
            for instrument, scores in (("phq9", s.phq), ("gad7", s.gad)):
                score = scores[i]
                if score is not None:
                    responses.append(
                        ResponseRecord(s.episode, instrument, at(day, 9), float(score), session)
                    )
            if letter == "A" and i not in s.no_checkin:
                responses.append(
                    ResponseRecord(
                        s.episode, "checkin", at(day, 11), 7.5, session,
                        items={"bond": 8, "goals": 7, "tasks": 7, "overall": 8},
                    )
                )  # fmt: skip
            # The therapist's own rating is not a client check-in and must not count as one.
            if letter == "A":
                responses.append(
                    ResponseRecord(s.episode, "checkin-therapist", at(day, 12), 8.0, session,
                                   respondent="therapist")
                )  # fmt: skip
        for position, instrument, total, minutes in s.extra:
            responses.append(
                ResponseRecord(
                    s.episode, instrument, at(s.day(position), 9, minutes), float(total),
                    position + 1,
                )
            )  # fmt: skip
    return ClinicData(tuple(episodes), tuple(appointments), tuple(responses))


# --- the independent calculation ------------------------------------------------------------------
# Straight from docs/clinical.md "NHS Talking Therapies definitions", written without
# alliance.measures.nhs: caseness PHQ-9 >= 10 or GAD-7 >= 8; finished a course = 2+ attended
# appointments; first and last dates with both measures; the later score counts on a corrected date.


def in_period(day: date | None, start: date | None, end: date | None) -> bool:
    return day is not None and (start is None or start <= day) and (end is None or day <= end)


def scores_by_day(s: Spec, instrument: str) -> dict[date, int]:
    got: dict[date, int] = {}
    for i, value in enumerate(s.phq if instrument == "phq9" else s.gad):
        if value is not None:
            got[s.day(i)] = value
    for position, name, total, _minutes in s.extra:
        if name == instrument:
            got[s.day(position)] = total  # given later the same day: the correction wins
    return got


def expected(specs, start=None, end=None, as_of=None) -> dict:
    ended = [s for s in specs if in_period(s.ended, start, end)]
    out: dict = {
        "referrals": sum(in_period(s.referred, start, end) for s in specs),
        "started": 0,
        "finished": len(ended),
        "active": 0,
        "finished_course": 0,
        "eligible": 0,
        "cases": 0,
        "recovered": 0,
        "improved": 0,
        "deteriorated": 0,
        "reliably_recovered": 0,
        "recovered_episodes": set(),
        "dropouts": sum(s.reason == "dropout" for s in ended),
        "sessions": [s.pattern.count("A") for s in ended],
        "due": 0,
        "attended": 0,
        "no_show": 0,
        "late_cancel": 0,
        "cancelled": 0,
        "not_recorded": 0,
        "attended_sessions": 0,
        "with_outcome": 0,
        "with_checkin": 0,
        "ended_with_session": 0,
        "ended_with_last_score": 0,
        "pairs": {"phq9": [], "gad7": []},
    }
    for s in specs:
        attended_days = [s.day(i) for i, letter in enumerate(s.pattern) if letter == "A"]
        if attended_days and in_period(attended_days[0], start, end):
            out["started"] += 1
        if end is None:
            out["active"] += s.ended is None
        else:
            out["active"] += s.referred <= end and (s.ended is None or s.ended > end)
        for i, letter in enumerate(s.pattern):
            if not in_period(s.day(i), start, end):
                continue
            if letter in "ANL":
                out["due"] += 1
            out["attended"] += letter == "A"
            out["no_show"] += letter == "N"
            out["late_cancel"] += letter == "L"
            out["cancelled"] += letter == "C"
            out["not_recorded"] += letter == "S" and as_of is not None and s.day(i) < as_of
            if letter == "A":
                out["attended_sessions"] += 1
                out["with_outcome"] += s.phq[i] is not None or s.gad[i] is not None
                out["with_checkin"] += i not in s.no_checkin
    for s in ended:
        attended = s.pattern.count("A")
        phq, gad = scores_by_day(s, "phq9"), scores_by_day(s, "gad7")
        paired = sorted(day for day in phq if day in gad)
        if attended >= 2:
            out["finished_course"] += 1
        if attended >= 2 and len(paired) >= 2:
            out["eligible"] += 1
            p0, g0 = phq[paired[0]], gad[paired[0]]
            p1, g1 = phq[paired[-1]], gad[paired[-1]]
            case_start = p0 >= 10 or g0 >= 8
            case_end = p1 >= 10 or g1 >= 8
            better = p1 - p0 <= -6 or g1 - g0 <= -4
            worse = p1 - p0 >= 6 or g1 - g0 >= 4
            improved = better and not worse  # the UNVERIFIED combination rule, as in clinical.md
            out["improved"] += improved
            out["deteriorated"] += worse
            if case_start:
                out["cases"] += 1
                if not case_end:
                    out["recovered"] += 1
                    out["recovered_episodes"].add(s.episode)
                    out["reliably_recovered"] += improved
        for instrument, scores in (("phq9", phq), ("gad7", gad)):
            days = sorted(scores)
            if len(days) >= 2:
                out["pairs"][instrument].append((scores[days[0]], scores[days[-1]]))
        last = max((s.day(i) for i, letter in enumerate(s.pattern) if letter == "A"), default=None)
        if last is not None:
            out["ended_with_session"] += 1
            out["ended_with_last_score"] += any(day >= last for day in (*phq, *gad))
    return out


def check_rate(got: dict, numerator: int, denominator: int) -> None:
    assert (got["numerator"], got["denominator"]) == (numerator, denominator)
    if denominator:
        assert got["rate"] == pytest.approx(numerator / denominator)
        assert 0 <= got["low"] <= got["rate"] <= got["high"] <= 1
    else:
        assert got["rate"] is None and got["low"] is None and got["high"] is None


def check_against_independent(report: dict, want: dict) -> None:
    assert report["counts"] == {
        "referrals": want["referrals"],
        "started": want["started"],
        "finished": want["finished"],
        "active_at_end": want["active"],
    }
    nhs = report["nhs"]
    assert nhs["ended"] == want["finished"]
    assert nhs["finished_course"] == want["finished_course"]
    assert nhs["eligible"] == want["eligible"]
    assert nhs["case_at_start"] == want["cases"]
    check_rate(nhs["recovery"], want["recovered"], want["cases"])
    check_rate(nhs["reliable_recovery"], want["reliably_recovered"], want["cases"])
    check_rate(nhs["reliable_improvement"], want["improved"], want["eligible"])
    check_rate(nhs["reliable_deterioration"], want["deteriorated"], want["eligible"])
    check_rate(report["dropout"], want["dropouts"], want["finished"])
    attendance = report["attendance"]
    assert attendance["due"] == want["due"]
    check_rate(attendance["attended"], want["attended"], want["due"])
    check_rate(attendance["no_show"], want["no_show"], want["due"])
    check_rate(attendance["late_cancel"], want["late_cancel"], want["due"])
    assert attendance["cancelled_with_notice"] == want["cancelled"]
    sessions = report["sessions_per_episode"]
    assert sessions["episodes"] == len(want["sessions"])
    if len(want["sessions"]) >= 2:
        assert sessions["mean"]["mean"] == pytest.approx(statistics.mean(want["sessions"]))
        assert sessions["median"] == statistics.median(want["sessions"])
    completeness = report["completeness"]
    check_rate(
        completeness["sessions_with_outcome"], want["with_outcome"], want["attended_sessions"]
    )
    check_rate(
        completeness["sessions_with_checkin"], want["with_checkin"], want["attended_sessions"]
    )
    check_rate(
        completeness["ended_with_last_score"],
        want["ended_with_last_score"],
        want["ended_with_session"],
    )
    for instrument in ("phq9", "gad7"):
        pairs = np.array(want["pairs"][instrument], dtype=float)
        effect = report["effect_sizes"][instrument]
        assert effect["n"] == len(pairs)
        if len(pairs) >= 2 and np.std(pairs[:, 0]) > 0:
            d = np.mean(pairs[:, 0] - pairs[:, 1]) / np.std(pairs[:, 0], ddof=1)
            assert effect["d"] == pytest.approx(float(d), abs=1e-12)
        else:
            assert effect["d"] is None  # one pair, or every intake the same: nothing to scale by


# --- tests ---------------------------------------------------------------------------------------


def test_rates_match_the_independent_calculation_for_2024() -> None:
    report = outcomes_report(build(), *YEAR, as_of=D("2025-01-01")).as_dict()
    check_against_independent(report, expected(CLINIC, *YEAR, as_of=D("2025-01-01")))


def test_the_hand_clinic_gives_the_figures_worked_out_on_paper() -> None:
    """The same figures counted by hand from the table above (see the comments on each episode)."""
    report = outcomes_report(build(), *YEAR, as_of=D("2025-01-01"))
    assert report.counts.referrals == 15 and report.counts.started == 13
    assert report.counts.finished == 12 and report.counts.active_at_end == 3  # E08, E15, E16
    nhs = report.nhs
    assert (nhs.finished_course, nhs.eligible, nhs.case_at_start) == (10, 9, 8)
    assert (nhs.recovery.numerator, nhs.recovery.denominator) == (4, 8)  # E01, E11, E12, E13
    assert nhs.recovery.rate == nhs.recovery_target == 0.5
    assert (nhs.reliable_recovery.numerator, nhs.reliable_recovery.denominator) == (2, 8)
    assert (nhs.reliable_improvement.numerator, nhs.reliable_improvement.denominator) == (4, 9)
    assert (nhs.reliable_deterioration.numerator, nhs.reliable_deterioration.denominator) == (2, 9)
    assert (report.dropout.numerator, report.dropout.denominator) == (3, 12)
    assert report.attendance.due == 60 and report.attendance.attended.numerator == 53
    assert report.attendance.no_show.numerator == 6 and report.attendance.late_cancel.numerator == 1
    assert report.attendance.cancelled_with_notice == 1 and report.attendance.not_recorded == 2
    assert report.sessions_per_episode.median == 4.0
    assert report.sessions_per_episode.mean.mean == pytest.approx(46 / 12)
    assert report.completeness.sessions_with_outcome.numerator == 52
    assert report.completeness.sessions_with_outcome.denominator == 53
    checkins = report.completeness.sessions_with_checkin
    assert (checkins.numerator, checkins.denominator) == (53 - 5 - 1 - 2, 53)  # E02, E05, E11
    last = report.completeness.ended_with_last_score
    assert (last.numerator, last.denominator) == (10, 11)  # E13 has none; E10 never attended
    # 11 ended episodes have PHQ-9 on two dates (not E05, E10); E12 starts from the corrected 19.
    assert report.effect_sizes.phq9.n == 10
    assert report.effect_sizes.phq9.mean_first == pytest.approx(
        (16 + 20 + 6 + 10 + 15 + 18 + 11 + 19 + 13 + 22) / 10
    )


def test_rates_match_for_other_periods_and_all_time() -> None:
    data = build()
    for start, end in [
        (D("2024-01-01"), D("2024-03-31")),
        (D("2024-04-01"), D("2024-06-30")),
        (None, D("2024-06-30")),
        (D("2024-07-01"), None),
        (None, None),
        (D("2023-01-01"), D("2023-12-31")),
        (D("2030-01-01"), D("2030-12-31")),  # nothing at all: every rate None, not 0
    ]:
        report = outcomes_report(data, start, end).as_dict()
        check_against_independent(report, expected(CLINIC, start, end))


def test_first_quarter_by_hand() -> None:
    counts = outcomes_report(build(), D("2024-01-01"), D("2024-03-31")).counts
    assert counts.referrals == 7  # E01-E06, E10
    assert counts.started == 6  # E01-E06 (E10 never attended)
    assert counts.finished == 5  # E01-E04, E10
    assert counts.active_at_end == 2  # E05 (ends 1 April) and E06


def test_an_empty_period_reports_none_not_zero() -> None:
    report = outcomes_report(build(), D("2030-01-01"), D("2030-12-31"))
    assert report.nhs.recovery.rate is None and report.nhs.recovery.denominator == 0
    assert report.attendance.attended.rate is None and report.dropout.rate is None
    assert (
        report.sessions_per_episode.mean.mean is None and report.sessions_per_episode.median is None
    )
    assert report.effect_sizes.phq9.d is None and report.by_intake_band == ()


@pytest.mark.parametrize(
    ("keyword", "value", "keep"),
    [
        ("therapist", "t1", lambda s: s.therapist == "t1"),
        ("therapist", "t2", lambda s: s.therapist == "t2"),
        ("language", "es", lambda s: s.language == "es"),
        ("end_reason", "dropout", lambda s: s.reason == "dropout"),
        ("end_reason", "planned", lambda s: s.reason == "planned"),
    ],
)
def test_filters_equal_the_report_on_the_filtered_episodes(keyword, value, keep) -> None:
    subset = tuple(s for s in CLINIC if keep(s))
    assert subset and len(subset) < len(CLINIC)
    report = outcomes_report(build(), *YEAR, **{keyword: value}).as_dict()
    assert report["filters"][keyword] == value
    check_against_independent(report, expected(subset, *YEAR))
    plain = outcomes_report(build(subset), *YEAR).as_dict()
    report.pop("filters"), plain.pop("filters")
    assert report == plain


# PHQ-9 severity bands as published (Kroenke, Spitzer & Williams 2001): 0-4, 5-9, 10-14, 15-19, 20-27.
PUBLISHED_BANDS = [
    (0, "minimal"),
    (5, "mild"),
    (10, "moderate"),
    (15, "moderately_severe"),
    (20, "severe"),
]


def published_band(total: float | None) -> str:
    if total is None:
        return "none"
    return [key for low, key in PUBLISHED_BANDS if low <= total][-1]


def first_phq9(s: Spec) -> int | None:
    scores = scores_by_day(s, "phq9")
    return scores[min(scores)] if scores else None


def test_intake_bands_follow_the_published_phq9_bands() -> None:
    assert band_keys() == (*[key for _, key in PUBLISHED_BANDS], "none")
    for total in [0, 4, 4.5, 5, 9, 10, 14, 15, 19, 20, 27, None]:
        assert band_of(total) == published_band(total)


@pytest.mark.parametrize("band", ["mild", "moderate", "moderately_severe", "severe", "none"])
def test_intake_band_filter(band: str) -> None:
    subset = tuple(s for s in CLINIC if published_band(first_phq9(s)) == band)
    assert subset
    report = outcomes_report(build(), *YEAR, intake_band=band).as_dict()
    check_against_independent(report, expected(subset, *YEAR))


def test_by_intake_band_splits_the_ended_episodes() -> None:
    report = outcomes_report(build(), *YEAR)
    groups = {g.band: g for g in report.by_intake_band}
    ended = [s for s in CLINIC if in_period(s.ended, *YEAR)]
    for band, group in groups.items():
        members = tuple(s for s in ended if published_band(first_phq9(s)) == band)
        want = expected(members, *YEAR)
        assert group.ended == len(members)
        assert (group.recovery.numerator, group.recovery.denominator) == (
            want["recovered"],
            want["cases"],
        )
        assert group.reliable_improvement.denominator == want["eligible"]
        assert group.dropout.numerator == want["dropouts"]
    assert sum(g.ended for g in groups.values()) == report.nhs.ended
    assert sum(g.recovery.numerator for g in groups.values()) == report.nhs.recovery.numerator
    # E12's intake counts its corrected PHQ-9 (19), E10 has none, E03 is mild.
    assert groups["moderately_severe"].ended == 5  # E01, E05, E06, E07, E12
    assert groups["none"].ended == 1 and groups["mild"].ended == 1
    assert groups["moderately_severe"].label  # from the instrument file, for the pages


def test_corrected_score_on_the_same_day_replaces_the_first() -> None:
    report = outcomes_report(build((CLINIC[11],)))  # E12: PHQ-9 17 corrected to 19
    assert report.effect_sizes.phq9.mean_first == 19.0
    assert [g.band for g in report.by_intake_band] == ["moderately_severe"]


def test_an_unknown_filter_value_or_a_backwards_period_is_refused() -> None:
    with pytest.raises(ValueError, match="end reason"):
        outcomes_report(build(), end_reason="finished")
    with pytest.raises(ValueError, match="intake band"):
        outcomes_report(build(), intake_band="very_bad")
    with pytest.raises(ValueError, match="after it ends"):
        outcomes_report(build(), D("2024-05-01"), D("2024-04-01"))


def test_as_dict_is_plain_json_with_iso_dates() -> None:
    report = outcomes_report(build(), *YEAR, therapist="t1", as_of=D("2025-01-01"))
    data = report.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["start"] == "2024-01-01" and data["as_of"] == "2025-01-01"
    assert data["nhs"]["recovery_target"] == 0.5
    assert data["nhs"]["definitions"]["PHQ9_CASENESS"] == 10
    assert {"numerator", "denominator", "rate", "low", "high"} <= set(data["dropout"])
    with pytest.raises(AttributeError):
        report.counts.referrals = 0  # type: ignore[misc]


def test_not_recorded_needs_a_reference_date() -> None:
    assert outcomes_report(build(), *YEAR).attendance.not_recorded is None
    assert outcomes_report(build(), *YEAR, as_of=D("2024-11-01")).attendance.not_recorded == 1


# --- properties -----------------------------------------------------------------------------------


def shuffled(data: ClinicData, rnd: random.Random) -> ClinicData:
    episodes, appointments, responses = (
        list(data.episodes),
        list(data.appointments),
        list(data.responses),
    )
    for items in (episodes, appointments, responses):
        rnd.shuffle(items)
    return ClinicData(tuple(episodes), tuple(appointments), tuple(responses))


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_record_order_does_not_change_the_report(rnd: random.Random) -> None:
    data = build()
    assert outcomes_report(shuffled(data, rnd), *YEAR).as_dict() == (
        outcomes_report(data, *YEAR).as_dict()
    )


def test_therapists_add_up_to_the_clinic() -> None:
    data = build()
    whole = outcomes_report(data, *YEAR)
    parts = [outcomes_report(data, *YEAR, therapist=t) for t in ("t1", "t2", "t3")]
    for path in (
        ("nhs", "recovery"),
        ("nhs", "reliable_improvement"),
        ("dropout",),
        ("attendance", "no_show"),
        ("completeness", "sessions_with_checkin"),
    ):

        def pick(report, path=path):
            value = report
            for name in path:
                value = getattr(value, name)
            return value

        assert sum(pick(p).numerator for p in parts) == pick(whole).numerator
        assert sum(pick(p).denominator for p in parts) == pick(whole).denominator
    assert sum(p.counts.referrals for p in parts) == whole.counts.referrals


random_spec = st.builds(
    lambda n, pattern, phq, gad, start, length, reason, therapist: Spec(
        f"R{n}",
        therapist,
        start - timedelta(days=3),
        start,
        pattern,
        tuple(phq[: len(pattern)]),
        tuple(gad[: len(pattern)]),
        start + timedelta(weeks=length) if reason else None,
        reason,
    ),
    st.integers(0, 10**6),
    st.text("AAAANLCS", min_size=1, max_size=8),
    st.lists(st.one_of(st.none(), st.integers(0, 27)), min_size=8, max_size=8),
    st.lists(st.one_of(st.none(), st.integers(0, 21)), min_size=8, max_size=8),
    st.dates(date(2023, 6, 1), date(2025, 6, 1)),
    st.integers(1, 12),
    st.sampled_from(["", "planned", "dropout", "transferred", "other"]),
    st.sampled_from(["t1", "t2"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(random_spec, min_size=1, max_size=12, unique_by=lambda s: s.episode))
def test_random_clinics_match_the_independent_calculation(specs: list[Spec]) -> None:
    report = outcomes_report(build(tuple(specs)), *YEAR).as_dict()
    check_against_independent(report, expected(tuple(specs), *YEAR))
    for value in _rates(report):
        assert value["rate"] is None or 0 <= value["low"] <= value["rate"] <= value["high"] <= 1


def _rates(tree):
    if isinstance(tree, dict):
        if {"numerator", "denominator", "rate"} <= set(tree):
            yield tree
        for value in tree.values():
            yield from _rates(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _rates(value)


def test_a_rate_never_hides_its_denominator() -> None:
    report = outcomes_report(build(), *YEAR).as_dict()
    rates = list(_rates(report))
    assert len(rates) >= 14
    for value in rates:
        assert isinstance(value["denominator"], int)
        assert value["low"] is None or not math.isnan(value["low"])


def test_spec_replace_keeps_the_clinic_honest() -> None:
    """A mutation check on the test itself: moving E01's last GAD-7 to a case changes recovery."""
    changed = tuple(replace(s, gad=(*s.gad[:-1], 9)) if s.episode == "E01" else s for s in CLINIC)
    before = outcomes_report(build(), *YEAR).nhs.recovery.numerator
    after = outcomes_report(build(changed), *YEAR).nhs.recovery.numerator
    assert after == before - 1 == expected(changed, *YEAR)["recovered"]
