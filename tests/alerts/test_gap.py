"""Rule 4 — perspective gap between the therapist's and the client's check-in."""

from alliance.alerts import AlertSettings
from alliance.alerts.gap import perspective_gap_findings
from tests.alerts.builders import checkin, series, session

DEFAULT = AlertSettings()


def gaps(s, cfg=DEFAULT):
    return perspective_gap_findings(s, cfg)


def test_single_gap_is_info_and_names_the_largest_differences():
    s = series(
        [
            session(1, client=8, therapist=8.5),
            session(
                2,
                client=checkin(bond=5, goals=6, tasks=5, overall=4),  # 5.0
                therapist=checkin(bond=9, goals=8, tasks=8, overall=9),  # 8.5
            ),
            session(3, client=8, therapist=8),
        ]
    )
    [f] = gaps(s)
    assert (f.key, f.severity, f.session_number) == ("perspective_gap:ep12", "info", 2)
    assert f.explanation.startswith(
        "At session 2 you rated the session 8.5 and the client rated it 5.0 (a gap of 3.5 "
        "points; threshold 2.0). Largest differences: overall +5, bond +4."
    )
    assert f.dimensions == ("overall", "bond")
    [row] = f.evidence["gap_sessions"]
    assert row["dimension_gaps"] == {"bond": 4.0, "goals": 2.0, "tasks": 3.0, "overall": 5.0}


def test_gap_in_consecutive_sessions_is_yellow():
    s = series(
        [
            session(1, client=6, therapist=8),
            session(2, client=6, therapist=8.5),
            session(3, client=8, therapist=8),
        ]
    )
    [f] = gaps(s)
    assert f.severity == "yellow" and f.session_number == 2
    assert "2 consecutive sessions" in f.explanation
    assert f.evidence["latest_gap"] == 0.0


def test_threshold_is_inclusive_and_client_higher_is_no_gap():
    at = series([session(1, client=6, therapist=8)])
    below = series([session(1, client=6.25, therapist=8)])
    client_higher = series([session(1, client=9, therapist=5)])
    assert len(gaps(at)) == 1
    assert gaps(below) == [] and gaps(client_higher) == []


def test_sessions_rated_by_only_one_side_are_skipped():
    s = series(
        [
            session(1, client=6, therapist=8),
            session(2, therapist=9),
            session(3, client=6, therapist=8),
        ]
    )
    [f] = gaps(s)
    # Sessions 1 and 3 are consecutive among sessions rated by both.
    assert f.severity == "yellow" and f.session_number == 3
