"""Rule 3 — early weak alliance against the clinic's lowest quarter."""

from alliance.alerts import AlertSettings, ClinicNorms, compute_norms
from alliance.alerts.early import early_weak_alliance_findings
from tests.alerts.builders import checkin_series

DEFAULT = AlertSettings(trajectory_instruments=())
NORMS = ClinicNorms(early_alliance_q25=7.5, early_alliance_source="clinic", early_alliance_n=80)


def early(s, norms=NORMS):
    return early_weak_alliance_findings(s, DEFAULT, norms)


def test_flagged_as_soon_as_the_first_checkin_is_low():
    [f] = early(checkin_series([6.0]))
    assert (f.key, f.severity, f.session_number) == ("early_weak_alliance:ep12", "yellow", 1)
    assert f.explanation == (
        "The client's mean check-in over sessions 1\u20133 was 6.00 after session 1, below the "
        "lowest quarter of this clinic's clients (cut-off 7.50, the 25th percentile of 80 "
        "episodes)."
    )
    assert f.evidence["currently_below"] is True


def test_mean_over_sessions_1_to_3():
    [f] = early(checkin_series([8.0, 7.0, 6.5, 2.0]))  # session 4 is not early
    assert f.session_number == 3  # running means 8.0, 7.5 (not below), 7.17
    assert f.evidence["running_means"] == [8.0, 7.5, 7.167]
    assert f.evidence["current_mean"] == 7.167


def test_strictly_below_the_cutoff():
    assert early(checkin_series([7.5, 7.5, 7.5])) == []


def test_recovery_is_reported_not_forgotten():
    [f] = early(checkin_series([6.0, 9.0, 9.0]))
    assert "now 8.00, above the cut-off" in f.explanation
    assert f.evidence["currently_below"] is False


def test_no_checkin_by_session_3_no_finding():
    assert early(checkin_series([None, None, None, 3.0])) == []


def test_clinic_quartile_and_default_fallback():
    clinic = [checkin_series([t, t, t], episode_id=i) for i, t in enumerate(range(1, 11), start=1)]
    few = compute_norms(clinic, AlertSettings(trajectory_instruments=()))
    assert few.early_alliance_source == "default" and few.early_alliance_q25 == 7.0
    enough = compute_norms(
        clinic, AlertSettings(trajectory_instruments=(), early_alliance_min_episodes=10)
    )
    assert enough.early_alliance_source == "clinic"
    assert enough.early_alliance_q25 == 3.25  # numpy's linear 25th percentile of 1..10
    [f] = early(checkin_series([6.0]), norms=few)
    assert "default cut-off of 7.0" in f.explanation and "unverified" in f.explanation
