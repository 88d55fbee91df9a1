"""Input types validate their data at construction."""

import datetime as dt

import pytest

from alliance.alerts import CheckinScore, Session
from tests.alerts.builders import checkin, series, session


def test_checkin_values_must_be_on_0_to_10():
    with pytest.raises(ValueError, match="bond"):
        CheckinScore(total=5.0, dims={"bond": 11.0})
    with pytest.raises(ValueError, match="total"):
        CheckinScore(total=float("nan"))


def test_unknown_attendance_is_rejected():
    with pytest.raises(ValueError, match="attendance"):
        Session(number=1, date=dt.date(2025, 1, 1), attendance="missed")  # type: ignore[arg-type]


def test_session_numbers_start_at_one():
    with pytest.raises(ValueError, match="session number"):
        session(0)


def test_sessions_must_be_sorted():
    with pytest.raises(ValueError, match="sorted"):
        series([session(2), session(1)])
    with pytest.raises(ValueError, match="sorted"):
        series([session(1), session(1)])


def test_intake_defaults_to_first_score_per_instrument():
    s = series(
        [
            session(1, outcome={"phq9": 14}),
            session(2, outcome={"phq9": 12, "gad7": 9}),
            session(3, outcome={"gad7": 8}),
        ]
    )
    assert s.intake_score("phq9") == (14.0, 1)
    assert s.intake_score("gad7") == (9.0, 2)
    assert s.intake_score("gbo") is None
    assert [x.number for x, _ in s.outcome_after_intake("gad7")] == [3]


def test_explicit_intake_wins_and_all_sessions_count_after_it():
    s = series([session(1, outcome={"phq9": 14})], intake={"phq9": 18})
    assert s.intake_score("phq9") == (18.0, None)
    assert [x.number for x, _ in s.outcome_after_intake("phq9")] == [1]


def test_checkin_builder_total_is_mean_of_dims():
    assert checkin(bond=4, goals=6, tasks=7, overall=7).total == 6.0
