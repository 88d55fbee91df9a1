"""NHS Talking Therapies outcome rules, case by case."""

from __future__ import annotations

from datetime import date

import pytest

from alliance.measures import nhs
from alliance.measures.nhs import Measurement, episode_outcome, summarise


def series(*points: tuple[int, float | None, float | None]) -> list[Measurement]:
    out = []
    for day, phq, gad in points:
        when = date(2024, 1, day)
        if phq is not None:
            out.append(Measurement(when, "phq9", phq))
        if gad is not None:
            out.append(Measurement(when, "gad7", gad))
    return out


def test_constants_match_clinical_md() -> None:
    assert (nhs.PHQ9_CASENESS, nhs.GAD7_CASENESS) == (10, 8)
    assert nhs.MIN_ATTENDED_FOR_FINISHED == 2
    assert (nhs.PHQ9_RELIABLE_IMPROVEMENT, nhs.GAD7_RELIABLE_IMPROVEMENT) == (6, 4)
    assert nhs.RECOVERY_TARGET == 0.5
    assert set(nhs.UNVERIFIED_RULES) <= set(nhs.definitions())


@pytest.mark.parametrize(
    ("phq", "gad", "case"), [(9, 7, False), (10, 0, True), (0, 8, True), (9.9, 7.9, False)]
)
def test_caseness(phq: float, gad: float, case: bool) -> None:
    assert nhs.is_case(phq, gad) is case


def test_recovery_and_reliable_recovery() -> None:
    out = episode_outcome(series((1, 16, 12), (8, 12, 9), (15, 8, 6)), attended=3)
    assert out.eligible and out.case_at_start and not out.case_at_end
    assert out.recovery and out.reliable_improvement and out.reliable_recovery
    assert not out.reliable_deterioration


def test_recovery_without_reliable_improvement() -> None:
    out = episode_outcome(series((1, 11, 8), (9, 9, 7)), attended=4)
    assert out.recovery is True and out.reliable_improvement is False
    assert out.reliable_recovery is False


def test_not_a_case_at_start_has_no_recovery() -> None:
    out = episode_outcome(series((1, 8, 6), (9, 2, 1)), attended=4)
    assert out.recovery is None and out.reliable_recovery is None
    assert out.reliable_improvement is True  # 8 -> 2 is a fall of 6
    assert "not a case" in out.note


def test_mixed_change_counts_as_deterioration_not_improvement() -> None:
    out = episode_outcome(series((1, 18, 5), (9, 12, 9)), attended=4)
    assert out.reliable_improvement is False  # PHQ-9 fell 6 but GAD-7 rose 4
    assert out.reliable_deterioration is True
    assert nhs.IMPROVEMENT_REQUIRES_NO_DETERIORATION
    assert not nhs.DETERIORATION_REQUIRES_NO_IMPROVEMENT


def test_deterioration_thresholds() -> None:
    assert episode_outcome(series((1, 5, 5), (9, 11, 5)), 2).reliable_deterioration
    assert not episode_outcome(series((1, 5, 5), (9, 10, 8)), 2).reliable_deterioration
    assert episode_outcome(series((1, 5, 5), (9, 5, 9)), 2).reliable_deterioration


def test_unfinished_course_gets_no_flags() -> None:
    out = episode_outcome(series((1, 20, 15), (9, 5, 3)), attended=1)
    assert not out.finished_course and not out.eligible
    assert out.recovery is None and out.reliable_improvement is None
    assert "not a finished course" in out.note


def test_single_paired_date() -> None:
    out = episode_outcome(series((1, 20, 15), (9, 5, None), (10, None, 3)), attended=5)
    assert out.paired_dates == 1 and not out.eligible and out.recovery is None
    assert out.first_date == date(2024, 1, 1) and out.last_date is None
    assert "two are needed" in out.note


def test_pairs_use_dates_with_both_measures() -> None:
    out = episode_outcome(
        series((1, 20, None), (2, 18, 14), (5, 3, None), (9, 9, 7), (12, None, 1)), attended=5
    )
    assert (out.first_date, out.last_date) == (date(2024, 1, 2), date(2024, 1, 9))
    assert (out.phq9_first, out.gad7_first, out.phq9_last, out.gad7_last) == (18, 14, 9, 7)


def test_last_duplicate_on_a_date_wins() -> None:
    points = [*series((1, 20, 15)), Measurement(date(2024, 1, 1), "phq9", 12), *series((9, 9, 7))]
    assert episode_outcome(points, 3).phq9_first == 12


def test_other_instruments_are_refused() -> None:
    with pytest.raises(ValueError, match="checkin"):
        episode_outcome([Measurement(date(2024, 1, 1), "checkin", 5)], 2)


def test_summary_denominators() -> None:
    outs = [
        episode_outcome(series((1, 16, 12), (9, 5, 4)), 3),  # case, recovered, RI
        episode_outcome(series((1, 16, 12), (9, 15, 11)), 3),  # case, not recovered
        episode_outcome(series((1, 6, 5), (9, 0, 0)), 3),  # not a case, RI
        episode_outcome(series((1, 16, 12), (9, 5, 4)), 1),  # unfinished
    ]
    s = summarise(outs)
    assert (s.episodes, s.finished_course, s.eligible, s.case_at_start) == (4, 3, 3, 2)
    assert (s.recovered, s.recovery_rate) == (1, 0.5)
    assert (s.reliable_improvement, s.reliable_improvement_rate) == (2, round(2 / 3, 4))
    assert s.reliable_recovery_rate == 0.5
    assert s.as_dict()["definitions"]["unverified"]
