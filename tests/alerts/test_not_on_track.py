"""Rule 5 — not on track against the expected curve (yellow above q75, red above q90)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.alerts import (
    AlertSettings,
    ClinicNorms,
    TrajectoryModel,
    default_trajectory,
    evaluate_episode,
)
from alliance.alerts.not_on_track import not_on_track_findings
from tests.alerts.builders import outcome_series

CFG = AlertSettings(trajectory_instruments=("phq9",))

# A hand-made "clinic" model: expected = 12 - 2·log(s) for an intake of 15, plus 0.5 per intake
# point; boundaries +2 (yellow) and +4 (red).
MODEL = TrajectoryModel(
    instrument="phq9",
    source="clinic",
    b0=12.0,
    b1=-2.0,
    b_intake=0.5,
    b_intake_log=0.0,
    intake_centre=15.0,
    yellow_percentile=75.0,
    red_percentile=90.0,
    q_yellow=2.0,
    q_red=4.0,
    max_session=20,
    n_episodes=120,
    n_observations=900,
    reason="fitted on this clinic's completed episodes (120 episodes, 900 scores)",
)


def findings(scores, model=MODEL):
    return not_on_track_findings(outcome_series("phq9", scores), model, CFG)


def test_on_track_client_has_no_finding():
    # expected at s=2..4 with intake 15: 10.6, 9.8, 9.2
    assert findings([15, 11, 10, 9]) == []


def test_yellow_then_escalates_to_red_in_one_finding():
    [yellow] = findings([15, 13, 10])  # s2: 13 - 10.61 = +2.39 > 2
    assert (yellow.severity, yellow.session_number) == ("yellow", 2)
    assert yellow.key == "not_on_track:ep12:phq9"
    [red] = findings([15, 13, 10, 15])  # s4: 15 - 9.23 = +5.77 > 4
    assert (red.key, red.severity, red.session_number) == (yellow.key, "red", 4)
    assert red.title == "PHQ-9: not on track (red)"
    assert red.explanation.startswith(
        "PHQ-9 at session 4 was 15; clients in this clinic who started at 15 are expected to "
        "score about 9.2 by then. That is +5.8 points against expectation, beyond the red "
        "boundary (+4.0, the 90th percentile of differences)."
    )
    assert "Expected curve: fitted on this clinic's completed episodes (120 episodes" in (
        red.explanation
    )
    assert [r["session"] for r in red.evidence["flagged_sessions"]] == [2, 4]
    assert red.evidence["model_source"] == "clinic"
    assert "clinical support tools" in red.suggestion.lower()


def test_latest_status_is_reported():
    [f] = findings([15, 13, 9])
    assert "Latest score (session 3): 9, back within the expected range." in f.explanation
    assert f.evidence["latest_level"] == "on_track"


def test_default_curve_is_named_in_the_explanation():
    model = default_trajectory("phq9", CFG, "this clinic has too few completed episodes")
    [f] = findings([15, 20], model=model)
    assert f.evidence["model_source"] == "default"
    assert "the project's default curve, because this clinic has too few" in f.explanation
    assert "unverified" in f.explanation


def test_evaluate_uses_the_clinic_model_from_norms():
    norms = ClinicNorms(early_alliance_q25=7.0, trajectories={"phq9": MODEL})
    found = evaluate_episode(outcome_series("phq9", [15, 13]), CFG, norms)
    assert [f.key for f in found] == ["not_on_track:ep12:phq9"]
    # Without norms the default curve is used (and said so).
    found = evaluate_episode(outcome_series("phq9", [15, 22]), CFG)
    [f] = [f for f in found if f.kind == "not_on_track"]
    assert f.evidence["model_source"] == "default"


_RANK = {"yellow": 1, "red": 2}


def _rank(found):
    return max((_RANK[f.severity] for f in found), default=0)


@settings(max_examples=80, deadline=None)
@given(
    scores=st.lists(st.integers(0, 27), min_size=2, max_size=10),
    data=st.data(),
    default=st.booleans(),
)
def test_monotone_in_the_observed_score(scores, data, default):
    """Raising one post-intake score can only raise the severity."""
    model = default_trajectory("phq9", CFG, "test") if default else MODEL
    index = data.draw(st.integers(1, len(scores) - 1))  # not the intake (session 1)
    bump = data.draw(st.integers(1, 10))
    higher = list(scores)
    higher[index] += bump
    assert _rank(findings(higher, model)) >= _rank(findings(scores, model))
