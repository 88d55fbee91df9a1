"""Rule 5 — not on track: the client's own deviation from the expected curve, estimated from all
their scores so far (yellow with persistence, red at once), or a single score far above it."""

import itertools
import math
from dataclasses import replace

import pytest
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
from tests.alerts.builders import outcome_series, series, session

CFG = AlertSettings(trajectory_instruments=("phq9",))

# A hand-made "clinic" model: expected = 12 - 2·log(s) for an intake of 15, plus 0.5 per intake
# point. Client variance 4 and noise variance 4, so after m scores the mean difference from the
# curve spreads with SD sqrt(4 + 4/m) across clients; yellow above z = 0.8, red above z = 1.2
# of that; a single score more than 6 above the curve is red at once.
MODEL = TrajectoryModel(
    instrument="phq9",
    source="clinic",
    b0=12.0,
    b1=-2.0,
    b_intake=0.5,
    b_intake_log=0.0,
    intake_centre=15.0,
    yellow_percentile=82.0,
    red_percentile=87.0,
    q_yellow=2.0,
    q_red=4.0,
    max_session=20,
    n_episodes=120,
    n_observations=900,
    random_intercept_var=4.0,
    residual_var=4.0,
    jump_percentile=97.5,
    q_jump=6.0,
    own_yellow_z=0.8,
    own_red_z=1.2,
    reason="fitted on this clinic's completed episodes (120 episodes, 900 scores)",
)
GAD = TrajectoryModel(**{**MODEL.as_dict(), "instrument": "gad7", "q_jump_by_session": {}})


def expected(s):
    return 12 - 2 * math.log(s)


def findings(scores, model=MODEL, cfg=CFG):
    return not_on_track_findings(outcome_series("phq9", scores), [model], cfg)


# --- worked examples: the conditional prediction ----------------------------------------------


def test_own_course_worked_example():
    # Differences from the curve at s2, s3: 13 - 10.614 = 2.386, 12 - 9.803 = 2.197.
    course = MODEL.own_course([2, 3], [13, 12], 15)
    assert course.residual.tolist() == pytest.approx([13 - expected(2), 12 - expected(3)])
    # After one score: shrink 4/(4+4) = 0.5, spread 4/sqrt(8) = 1.414.
    assert course.estimate[0] == pytest.approx(0.5 * 2.386, abs=1e-3)
    assert course.yellow[0] == pytest.approx(0.8 * 4 / math.sqrt(8))
    assert course.red[0] == pytest.approx(1.2 * 4 / math.sqrt(8))
    # After two: shrink 4/(4+2) = 2/3 of the mean 2.292; spread 4/sqrt(6) = 1.633.
    assert course.estimate[1] == pytest.approx(2 / 3 * (2.386 + 2.197) / 2, abs=1e-3)
    assert course.yellow[1] == pytest.approx(0.8 * 4 / math.sqrt(6))
    # z = 2.386/2.828 = 0.84 and 2.292/2.449 = 0.94: yellow at both, red at neither.
    assert course.levels == ["yellow", "yellow"]
    assert course.triggers == ["own", "own"]


def test_a_single_yellow_score_raises_nothing():
    assert findings([15, 13]) == []  # z = 0.84 once
    assert findings([15, 13, 10]) == []  # then 10 at s3: mean 1.29, z = 0.53


def test_two_yellow_scores_in_a_row_raise_a_yellow_alert():
    [f] = findings([15, 13, 12])
    assert (f.key, f.severity, f.session_number) == ("not_on_track:ep12", "yellow", 3)
    assert f.title == "PHQ-9: not on track (yellow)"
    assert f.explanation.startswith(
        "PHQ-9 has run above the expected course: over 2 scores since intake up to session 3 "
        "(13, 12), it was on average +2.3 points against what clients in this clinic who "
        "started at 15 are expected to score. Allowing for session-to-session ups and downs, "
        "the client's own deviation is estimated at +1.5 points, beyond the yellow boundary "
        "for 2 scores (+1.3, the 82nd percentile of this estimate among the clinic's clients). "
        "It was at yellow or worse at 2 scores in a row (sessions 2 and 3)."
    )
    assert f.evidence["persistence"] == 2
    assert [r["session"] for r in f.evidence["flagged_sessions"]] == [3]


def test_persistence_one_raises_at_once():
    [f] = findings([15, 13], cfg=AlertSettings(trajectory_instruments=("phq9",),
                                               not_on_track_persistence=1))  # fmt: skip
    assert (f.severity, f.session_number) == ("yellow", 2)


def test_escalates_to_red_in_the_same_finding():
    [red] = findings([15, 13, 12, 14])
    # s4: 14 - 9.227 = 4.773; mean of three 3.119; z = 3.119 / sqrt(4 + 4/3) = 1.35 > 1.2.
    assert (red.key, red.severity, red.session_number) == ("not_on_track:ep12", "red", 4)
    assert "estimated at +2.3 points, beyond the red boundary for 3 scores (+2.1" in (
        red.explanation
    )
    assert "Expected curve: fitted on this clinic's completed episodes (120 episodes" in (
        red.explanation
    )
    assert red.evidence["model_source"] == "clinic"
    assert "clinical support tools" in red.suggestion.lower()


def test_one_score_far_above_the_curve_is_red_at_once():
    # Three good scores, then 16 at s5: 16 - 8.781 = +7.2 > 6, while the own deviation
    # (mean difference +0.39) is well inside its boundary.
    [f] = findings([15, 8, 8, 8, 16])
    assert (f.severity, f.session_number) == ("red", 5)
    assert "That single score is +7.2 points against expectation, beyond the red boundary " in (
        f.explanation
    )
    assert "(+6.0, the 97.5th percentile of differences)" in f.explanation


def test_latest_status_is_reported():
    [f] = findings([15, 13, 12, 6])
    assert "Latest score (session 4): 6, own deviation now " in f.explanation
    assert f.explanation.count("back within the expected range.") == 1
    assert f.evidence["latest_level"] == "on_track"


def test_one_alert_for_both_instruments_led_by_the_first_at_its_severity():
    sessions = [
        session(1, outcome={"phq9": 15, "gad7": 15}),
        session(2, outcome={"phq9": 13, "gad7": 14}),
        session(3, outcome={"phq9": 12, "gad7": 14}),
        session(4, outcome={"phq9": 12, "gad7": 16}),
    ]
    cfg = AlertSettings()
    [f] = not_on_track_findings(series(sessions), [MODEL, GAD], cfg)
    assert f.key == "not_on_track:ep12" and f.severity == "red" and f.instrument == "gad7"
    instruments = f.evidence["instruments"]
    assert isinstance(instruments, dict) and set(instruments) == {"phq9", "gad7"}
    assert "Also not on track: PHQ-9 (yellow from session 3)." in f.explanation


def test_default_curve_is_named_in_the_explanation():
    model = default_trajectory("phq9", CFG, "this clinic has too few completed episodes")
    [f] = findings([15, 20], model=model)
    assert f.evidence["model_source"] == "default"
    assert "clients who start at 15" in f.explanation
    assert "the project's default curve, because this clinic has too few" in f.explanation
    assert "unverified" in f.explanation


def test_evaluate_uses_the_clinic_model_from_norms():
    norms = ClinicNorms(early_alliance_q25=7.0, trajectories={"phq9": MODEL})
    found = evaluate_episode(outcome_series("phq9", [15, 13, 12]), CFG, norms)
    assert [f.key for f in found] == ["not_on_track:ep12"]
    # Without norms the default curve is used (and said so).
    found = evaluate_episode(outcome_series("phq9", [15, 22]), CFG)
    [f] = [f for f in found if f.kind == "not_on_track"]
    assert f.evidence["model_source"] == "default"


def test_an_outdated_cached_model_still_works():
    """A model cached before issue 12 has no own-deviation boundaries: normal quantiles of the
    percentiles and the red boundary stand in."""
    old = {k: v for k, v in MODEL.as_dict().items() if k not in (
        "jump_percentile", "q_jump", "q_jump_by_session", "own_yellow_z", "own_red_z")}  # fmt: skip
    model = TrajectoryModel.from_dict(old)
    assert model.own_z_boundaries() == pytest.approx((0.915, 1.126), abs=1e-3)
    assert model.jump_boundaries([3]).tolist() == [4.0]
    assert findings([15, 14, 13], model=model)
    # Until the next refit the norms use the current settings' percentiles for such a model.
    norms = ClinicNorms.from_dict({"early_alliance_q25": 7.0, "trajectories": {"phq9": old | {
        "yellow_percentile": 75.0, "red_percentile": 90.0}}})  # fmt: skip
    current = norms.trajectory("phq9", CFG)
    assert (current.yellow_percentile, current.red_percentile) == (83.0, 88.0)


# --- a reliable deterioration is not on track by definition (issue 12 follow-up) ----------------

# A curve so wide it would never flag: only the reliable rise can make the alert.
WIDE = replace(MODEL, q_jump=30.0, own_yellow_z=5.0, own_red_z=6.0)


def test_a_reliable_rise_is_red_whatever_the_curve_says():
    assert findings([10, 12, 15], model=WIDE) == []  # +5: not reliable
    [f] = findings([10, 12, 16, 13], model=WIDE)
    assert (f.key, f.severity, f.session_number) == ("not_on_track:ep12", "red", 3)
    assert f.title == "PHQ-9: not on track (red)"
    assert f.explanation.startswith(
        "PHQ-9 rose from 10 at session 1 to 16 at session 3 (+6 points; a rise of 6 or more is "
        "a reliable deterioration): a client whose score has reliably deteriorated is not on "
        "track, whatever the expected curve says, so this alert is red from that session on."
    )
    # The latest score fell back below the amount: the alert stays red, and says why.
    assert (
        "Latest score (session 4): 13, +3 from intake: below the reliable-deterioration amount "
        "now, but the alert stays red because the rise was reliable (own deviation from the "
        "expected course now +4.7)."
    ) in f.explanation
    rise = f.evidence["reliable_deterioration"]["phq9"]
    assert (rise["first_session"], rise["rise"], rise["threshold"]) == (3, 6.0, 6.0)
    assert rise["currently_deteriorated"] is False
    assert [r["level"] for r in f.evidence["flagged_sessions"]] == ["red", "red"]


def test_a_yellow_alert_escalates_to_red_at_the_reliable_rise():
    [yellow] = findings([15, 13, 12])
    [red] = findings([15, 13, 12, 21])
    assert (yellow.key, yellow.severity) == (red.key, "yellow")
    assert (red.severity, red.session_number) == ("red", 4)
    assert red.explanation.startswith("PHQ-9 rose from 15 at session 1 to 21 at session 4 (+6")
    assert "It had been not on track (yellow) since session 3." in red.explanation


def test_a_later_rise_is_added_to_a_red_alert():
    [f] = findings([15, 13, 12, 14, 21])
    assert (f.severity, f.session_number) == ("red", 4)  # red on the curve first
    assert (
        "Since session 5 it has also reliably deteriorated: rose from 15 at session 1 to 21 at "
        "session 5 (+6 points; a rise of 6 or more is a reliable deterioration)."
    ) in f.explanation
    assert (
        "Latest score (session 5): 21, +6 from intake: still a reliable deterioration (own "
        "deviation from the expected course now +"
    ) in f.explanation


def test_gad7_by_its_own_reliable_change_amount_even_without_its_curve():
    gad = series([session(1, outcome={"phq9": 10, "gad7": 8}),
                  session(2, outcome={"phq9": 9, "gad7": 11}),
                  session(3, outcome={"phq9": 9, "gad7": 12})])  # fmt: skip
    # CFG has a curve for PHQ-9 only; GAD-7's reliable deterioration is +4.
    [f] = not_on_track_findings(gad, [WIDE], CFG)
    assert (f.severity, f.session_number, f.instrument) == ("red", 3, "gad7")
    assert f.title == "GAD-7: not on track (red)"
    assert f.explanation.startswith("GAD-7 rose from 8 at session 1 to 12 at session 3 (+4 points")
    rises = f.evidence["reliable_deterioration"]
    assert isinstance(rises, dict) and rises["gad7"] == {
        "intake": 8.0, "intake_session": 1, "threshold": 4.0, "first_session": 3,
        "first_score": 12.0, "rise": 4.0, "latest_session": 3, "latest_score": 12.0,
        "currently_deteriorated": True,
    }  # fmt: skip
    # With a GAD-7 curve too, the same rise leads, and PHQ-9 (not flagged) is not mentioned.
    [both] = not_on_track_findings(gad, [WIDE, replace(WIDE, instrument="gad7")], AlertSettings())
    assert (both.severity, both.session_number, both.instrument) == ("red", 3, "gad7")
    assert "Also not on track" not in both.explanation
    # The amount is the setting the deterioration rule reads.
    cfg = AlertSettings(trajectory_instruments=("phq9",), reliable_deterioration={"gad7": 5.0})
    assert not_on_track_findings(gad, [WIDE], cfg) == []


def test_the_deterioration_alert_is_kept_beside_it():
    found = evaluate_episode(outcome_series("phq9", [10, 12, 16]), CFG,
                             ClinicNorms(early_alliance_q25=7.0, trajectories={"phq9": WIDE}))  # fmt: skip
    assert sorted((f.kind, f.severity, f.session_number) for f in found) == [
        ("deterioration", "red", 3),
        ("not_on_track", "red", 3),
    ]


# --- properties ---------------------------------------------------------------------------------

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


@settings(max_examples=80, deadline=None)
@given(scores=st.lists(st.integers(0, 27), min_size=2, max_size=10))
def test_yellow_needs_two_scores_in_a_row(scores):
    """A yellow alert exists only where two consecutive scores were at yellow or worse; without
    any red score and without two in a row, there is no alert at all."""
    levels = MODEL.own_course(list(range(2, len(scores) + 1)), scores[1:], scores[0]).levels
    two_in_a_row = any(a != "on_track" and b != "on_track" for a, b in itertools.pairwise(levels))
    deteriorated = any(v - scores[0] >= 6 for v in scores[1:])
    found = findings(scores)
    if "red" not in levels and not two_in_a_row and not deteriorated:
        assert found == []
    if found and found[0].severity == "yellow":
        assert two_in_a_row


@settings(max_examples=60, deadline=None)
@given(scores=st.lists(st.integers(0, 27), min_size=2, max_size=10), cut=st.integers(2, 10))
def test_a_flag_never_depends_on_later_scores(scores, cut):
    """The level reached at each session up to k is the same whatever comes after k."""

    def rows(found):
        flagged = found[0].evidence["flagged_sessions"] if found else []
        return [(r["session"], r["level"]) for r in flagged]

    assert [r for r in rows(findings(scores)) if r[0] <= cut] == rows(findings(scores[:cut]))


@settings(max_examples=80, deadline=None)
@given(scores=st.lists(st.integers(0, 27), min_size=2, max_size=10), default=st.booleans())
def test_every_reliable_deteriorator_is_red_from_that_session_on(scores, default):
    """A client with a score 6 or more above intake has one red not-on-track alert, dated at or
    before that session, whatever the curve."""
    model = default_trajectory("phq9", CFG, "test") if default else WIDE
    first = next((n for n, v in enumerate(scores[1:], start=2) if v - scores[0] >= 6), None)
    found = findings(scores, model)
    if first is None:
        return
    [f] = found
    assert f.severity == "red" and f.session_number is not None and f.session_number <= first
    rows = {r["session"]: r["level"] for r in f.evidence["flagged_sessions"]}
    assert all(rows.get(n) == "red" for n in range(first, len(scores) + 1))
