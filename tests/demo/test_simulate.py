"""Tests for the simulated clinic: determinism, structure, and calibration.

Calibration metrics are recomputed here from the item answers (sums of PHQ-9 and
GAD-7 items, means of check-in dimensions), not read from ``GroundTruth``; the
ground truth is only used to know *where* ruptures were planted and which class a
client belongs to, and it is checked against the answers.

Two sizes are tested: the demo size (80 clients, default seed) with bands widened
for sampling error, and a 2,000-client clinic with the target bands.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alliance.demo import texts
from alliance.demo.simulate import (
    DEFAULT_END,
    SimAppointment,
    SimClinic,
    SimEpisode,
    distribute_total,
    simulate_clinic,
)
from tests.demo.reading import GAD_ITEMS, PHQ_ITEMS, answers, attended, scores

DIMS = ["bond", "goals", "tasks", "overall"]


@pytest.fixture(scope="module")
def demo() -> SimClinic:
    return simulate_clinic()


@pytest.fixture(scope="module")
def large() -> SimClinic:
    return simulate_clinic(seed=11, n_clients=2000, n_therapists=25)


# --------------------------------------------------------------------------- metric helpers


def checkins(episode: SimEpisode) -> list[tuple[int, float]]:
    """(appointment number, client check-in total = mean of the four dimensions)."""
    out = []
    for a in attended(episode):
        c = answers(a, "checkin")
        if c is not None:
            out.append((a.number, sum(int(c[d]) for d in DIMS) / 4))
    return out


def appointment_count(clinic: SimClinic) -> int:
    return sum(len(e.appointments) for e in clinic.episodes)


def missed_rate(clinic: SimClinic) -> float:
    past = [a for e in clinic.episodes for a in e.appointments if a.attendance != "scheduled"]
    return sum(a.attendance in ("no_show", "late_cancel") for a in past) / len(past)


def dropout_rate(clinic: SimClinic) -> float:
    """Share of ended episodes that ended by dropout."""
    ended = [e for e in clinic.episodes if e.status == "ended"]
    return sum(e.end_reason == "dropout" for e in ended) / len(ended)


def recovery_rate(clinic: SimClinic) -> float:
    """NHS Talking Therapies recovery among ended episodes that finished a course.

    Finished: ended with >= 2 attended appointments. Case at the first score
    (PHQ-9 >= 10 or GAD-7 >= 8); recovered if a case on neither at the last score.
    """
    recovered = cases = 0
    for e in clinic.episodes:
        s = scores(e)
        if e.status != "ended" or len(attended(e)) < 2 or not s:
            continue
        (_, phq0, gad0), (_, phq1, gad1) = s[0], s[-1]
        if phq0 >= 10 or gad0 >= 8:
            cases += 1
            recovered += phq1 < 10 and gad1 < 8
    return recovered / cases


def between_client_r(clinic: SimClinic) -> float:
    """Pearson r between a client's mean check-in total and PHQ-9 improvement.

    Improvement = first PHQ-9 minus last PHQ-9 (positive = better). Clients with at
    least three check-ins and three PHQ-9 scores, ended or still active.
    """
    xs, ys = [], []
    for e in clinic.episodes:
        c, s = checkins(e), scores(e)
        if len(c) >= 3 and len(s) >= 3:
            xs.append(statistics.fmean(t for _, t in c))
            ys.append(s[0][1] - s[-1][1])
    return float(np.corrcoef(xs, ys)[0, 1])


def within_client_r(clinic: SimClinic) -> float:
    """Within-client link: this session's check-in vs. the next PHQ-9 change.

    For each pair of consecutive attended sessions with a check-in at the first
    and PHQ-9 at both, take the person-mean-centred check-in (check-in minus the
    client's mean check-in) and the PHQ-9 change to the next session; remove the
    linear effect of log(session index) from both (alliance grows and symptom
    change slows over treatment) and correlate the residuals across all clients.
    Negative = a better-than-usual session is followed by falling symptoms.
    """
    a_w, d_phq, log_j = [], [], []
    for e in clinic.episodes:
        c = dict(checkins(e))
        if len(c) < 3:
            continue
        mean_c = statistics.fmean(c.values())
        phq = {n: p for n, p, _ in scores(e)}
        sessions = [a.number for a in attended(e)]
        for j, (now, nxt) in enumerate(itertools.pairwise(sessions), start=1):
            if now in c and now in phq and nxt in phq:
                a_w.append(c[now] - mean_c)
                d_phq.append(phq[nxt] - phq[now])
                log_j.append(math.log(j))
    x, y, t = np.array(a_w), np.array(d_phq, dtype=float), np.array(log_j)
    design = np.column_stack([np.ones_like(t), t])

    def resid(v: np.ndarray) -> np.ndarray:
        return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]

    return float(np.corrcoef(resid(x), resid(y))[0, 1])


def rupture_eligible(episode: SimEpisode) -> bool:
    return len(attended(episode)) >= 3


def rupture_share(clinic: SimClinic) -> float:
    """Share of episodes (>= 3 attended sessions) with a planted rupture visible in
    the answers: the check-in total at the planted session is >= 1 point below the
    previous check-in."""
    eligible = [e for e in clinic.episodes if rupture_eligible(e)]
    hit = 0
    for e in eligible:
        c = checkins(e)
        numbers = [n for n, _ in c]
        for r in e.truth.ruptures:
            i = numbers.index(r.session)
            if i > 0 and c[i - 1][1] - c[i][1] >= 1.0:
                hit += 1
                break
    return hit / len(eligible)


def repairs(clinic: SimClinic) -> list[tuple[bool, bool]]:
    """(repaired by the rule on the answers, repaired per ground truth) per rupture.

    Rule (docs/clinical.md default, m = 2): the check-in total returns to at least its
    pre-drop level (the last check-in before the rupture) within the next two
    check-ins after it.
    """
    out = []
    for e in clinic.episodes:
        c = checkins(e)
        numbers = [n for n, _ in c]
        for r in e.truth.ruptures:
            i = numbers.index(r.session)
            pre = c[i - 1][1]
            after = [t for _, t in c[i + 1 : i + 3]]
            out.append((any(t >= pre for t in after), r.repaired))
    return out


def deterioration_share(clinic: SimClinic) -> float:
    """Share of episodes with >= 2 PHQ-9 scores where some PHQ-9 is >= 6 above the first."""
    eligible = [s for e in clinic.episodes if len(s := scores(e)) >= 2]
    return sum(any(p >= s[0][1] + 6 for _, p, _ in s[1:]) for s in eligible) / len(eligible)


def early_alliance_d(clinic: SimClinic) -> float:
    """Cohen's d: mean early check-in (first three sessions) of planned endings minus
    dropouts, over the pooled SD. Positive = dropouts had a weaker early alliance."""

    def early(e: SimEpisode) -> float | None:
        first3 = {a.number for a in attended(e)[:3]}
        values = [t for n, t in checkins(e) if n in first3]
        return statistics.fmean(values) if values else None

    groups: dict[str, list[float]] = {"planned": [], "dropout": []}
    for e in clinic.episodes:
        if e.end_reason in groups and (value := early(e)) is not None:
            groups[e.end_reason].append(value)
    done, drop = groups["planned"], groups["dropout"]
    pooled = math.sqrt(
        ((len(done) - 1) * statistics.variance(done) + (len(drop) - 1) * statistics.variance(drop))
        / (len(done) + len(drop) - 2)
    )
    return (statistics.fmean(done) - statistics.fmean(drop)) / pooled


def risk_share(clinic: SimClinic) -> float:
    """Share of episodes with at least one PHQ-9 item 9 answer above 0."""
    with_scores = [e for e in clinic.episodes if scores(e)]
    return sum(
        any(int(p["9"]) > 0 for a in attended(e) if (p := answers(a, "phq9")) is not None)
        for e in with_scores
    ) / len(with_scores)


def summary(clinic: SimClinic) -> dict[str, float]:
    """All calibration figures, for reports (see the __main__ block)."""
    pairs = repairs(clinic)
    return {
        "appointments": appointment_count(clinic),
        "recovery": recovery_rate(clinic),
        "dropout_of_ended": dropout_rate(clinic),
        "missed": missed_rate(clinic),
        "between_r": between_client_r(clinic),
        "within_r": within_client_r(clinic),
        "rupture_share": rupture_share(clinic),
        "repaired": sum(rule for rule, _ in pairs) / len(pairs),
        "deterioration": deterioration_share(clinic),
        "early_alliance_d": early_alliance_d(clinic),
        "risk_share": risk_share(clinic),
    }


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_output() -> None:
    assert simulate_clinic(seed=5, n_clients=60) == simulate_clinic(seed=5, n_clients=60)


def test_different_seed_different_output() -> None:
    a, b = simulate_clinic(seed=5, n_clients=30), simulate_clinic(seed=6, n_clients=30)
    assert a.episodes != b.episodes


def test_end_defaults_to_fixed_date() -> None:
    clinic = simulate_clinic(n_clients=5)
    assert clinic.end == DEFAULT_END
    assert clinic.start == date(DEFAULT_END.year - 1, DEFAULT_END.month, DEFAULT_END.day)


def test_end_moves_the_calendar() -> None:
    end = date(2031, 7, 15)
    clinic = simulate_clinic(n_clients=20, end=end)
    cutoff = datetime(2031, 7, 15, tzinfo=UTC)
    for e in clinic.episodes:
        for a in e.appointments:
            assert (a.attendance == "scheduled") == (a.scheduled_at >= cutoff)


# --------------------------------------------------------------------------- structure


def all_appointments(clinic: SimClinic) -> Iterable[tuple[SimEpisode, SimAppointment]]:
    for e in clinic.episodes:
        for a in e.appointments:
            yield e, a


def test_staff(demo: SimClinic) -> None:
    assert demo.administrator.role == "administrator"
    assert len(demo.supervisors) == 1 and demo.supervisors[0].role == "supervisor"
    assert len(demo.therapists) == 4 and {t.role for t in demo.therapists} == {"therapist"}
    staff = [demo.administrator, *demo.supervisors, *demo.therapists]
    assert all(s.email.endswith("@demo.alliance.invalid") for s in staff)
    assert len({s.email for s in staff}) == len(staff)
    assert len({s.key for s in staff}) == len(staff)
    assert sorted(t for _, t in demo.supervision) == sorted(t.key for t in demo.therapists)


def test_supervisors_scale_with_therapists() -> None:
    clinic = simulate_clinic(n_clients=50, n_therapists=20)
    assert len(clinic.supervisors) == 3
    supervisor_keys = {s.key for s in clinic.supervisors}
    assert {s for s, _ in clinic.supervision} == supervisor_keys
    assert len(clinic.supervision) == 20


def test_clients(large: SimClinic) -> None:
    clients = large.clients
    assert len({c.code for c in clients}) == len(clients)
    assert len({c.email for c in clients}) == len(clients)
    assert all(c.code.startswith("C-") and len(c.code) == 7 for c in clients)
    assert not any(ch in "01OIL258BSZ" for c in clients for ch in c.code[2:])
    assert all(c.email.endswith("@example.com") and "-555-01" in c.phone for c in clients)
    spanish = sum(c.language == "es" for c in clients) / len(clients)
    assert 0.17 <= spanish <= 0.23
    assert {c.language for c in clients} == {"en", "es"}
    assert len({c.first_name for c in clients}) > 150  # diverse, not a handful of names


def test_episodes_link_and_order(demo: SimClinic) -> None:
    therapists = {t.key for t in demo.therapists}
    assert [e.client_key for e in demo.episodes] == [c.key for c in demo.clients]
    for e in demo.episodes:
        assert e.therapist_key in therapists
        assert demo.start <= e.start <= e.appointments[0].scheduled_at.date()
        times = [a.scheduled_at for a in e.appointments]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert [a.number for a in e.appointments] == list(range(1, len(times) + 1))
        assert 1 <= len(e.goals) <= 3 and len(set(e.goals)) == len(e.goals)
        assert e.outcome_instruments == ("phq9", "gad7")


def test_status_and_end(large: SimClinic) -> None:
    for e in large.episodes:
        if e.status == "active":
            assert e.end is None and e.end_reason is None
            future = [a for a in e.appointments if a.attendance == "scheduled"]
            assert future, "active episodes have a booked appointment"
            assert large.end <= future[0].scheduled_at.date() < large.end + timedelta(days=7)
        else:
            assert e.end_reason in ("planned", "dropout", "transferred", "other")
            assert e.end is not None and e.start <= e.end < large.end
            assert e.end == e.appointments[-1].scheduled_at.date()
            assert all(a.attendance != "scheduled" for a in e.appointments)
        if e.end_reason == "planned":
            assert e.appointments[-1].attendance == "attended"
        if e.end_reason == "dropout":
            assert e.truth.dropped_out
            assert e.appointments[-1].attendance in ("no_show", "late_cancel")


def test_appointments_in_business_hours(large: SimClinic) -> None:
    for _, a in all_appointments(large):
        assert a.scheduled_at.tzinfo is not None
        assert a.scheduled_at.weekday() < 5 and 9 <= a.scheduled_at.hour <= 16


def test_time_zone_is_respected() -> None:
    zone = ZoneInfo("America/New_York")
    clinic = simulate_clinic(n_clients=20, tz=zone)
    for _, a in all_appointments(clinic):
        assert a.scheduled_at.tzinfo is zone and 9 <= a.scheduled_at.hour <= 16


def test_mostly_weekly(demo: SimClinic) -> None:
    gaps = [
        (b.scheduled_at - a.scheduled_at).days
        for e in demo.episodes
        for a, b in zip(e.appointments, e.appointments[1:], strict=False)
    ]
    assert statistics.median(gaps) == 7
    assert all(g % 7 == 0 and g > 0 for g in gaps)


def test_responses_only_on_attended_past_appointments(large: SimClinic) -> None:
    cutoff = datetime.combine(large.end, datetime.min.time(), tzinfo=UTC)
    for e, a in all_appointments(large):
        if a.attendance != "attended":
            assert a.responses == [] and a.reflection is None
        else:
            assert a.scheduled_at < cutoff
        for r in a.responses:
            assert e.start <= r.submitted_at.date()
            assert r.submitted_at < cutoff
            if r.instrument in ("phq9", "gad7", "gbo"):
                assert r.submitted_at < a.scheduled_at
            else:
                assert r.submitted_at > a.scheduled_at
        if a.reflection is None:
            assert not a.reflection_shared


def check_choice_items(ans: dict[str, int | str], items: list[str], extra: str) -> int:
    total = sum(int(ans[i]) for i in items)
    assert all(0 <= int(ans[i]) <= 3 for i in items)
    expected = {*items, extra} if total > 0 else set(items)
    assert set(ans) == expected, "difficulty item only when the total is above 0"
    if total > 0:
        assert 0 <= int(ans[extra]) <= 3
    return total


def test_item_answers_valid(large: SimClinic) -> None:
    for e in large.episodes:
        for a in attended(e):
            kinds = [r.instrument for r in a.responses]
            assert len(kinds) == len(set(kinds))
            assert ("phq9" in kinds) == ("gad7" in kinds)
            for r in a.responses:
                ans = r.answers
                if r.instrument == "phq9":
                    check_choice_items(ans, PHQ_ITEMS, "10")
                elif r.instrument == "gad7":
                    check_choice_items(ans, GAD_ITEMS, "8")
                elif r.instrument == "gbo":
                    assert set(ans) == {f"goal{k + 1}" for k in range(len(e.goals))}
                    assert all(isinstance(v, int) and 0 <= v <= 10 for v in ans.values())
                elif r.instrument in ("checkin", "checkin-therapist"):
                    assert r.respondent == ("client" if r.instrument == "checkin" else "therapist")
                    assert set(DIMS) <= set(ans)
                    assert all(isinstance(ans[d], int) and 0 <= int(ans[d]) <= 10 for d in DIMS)
                    extra = set(ans) - set(DIMS)
                    assert extra <= ({"better"} if r.instrument == "checkin" else set())
                    if "better" in ans:
                        assert isinstance(ans["better"], str) and ans["better"].strip()
                else:
                    pytest.fail(f"unexpected instrument {r.instrument}")


def test_gbo_schedule(demo: SimClinic) -> None:
    for e in demo.episodes:
        for index, a in enumerate(attended(e), start=1):
            if answers(a, "gbo") is not None:
                assert (index - 1) % 4 == 0, "GBO every 4th attended session from session 1"
        first = attended(e)[:1]
        if first:
            assert answers(first[0], "gbo") is not None and answers(first[0], "phq9") is not None


def test_goals_in_the_clients_language(demo: SimClinic) -> None:
    bank = {lang: {g for theme in themes for g in theme} for lang, themes in texts.GOALS.items()}
    for client, e in zip(demo.clients, demo.episodes, strict=True):
        assert set(e.goals) <= bank[client.language]


def test_comments_in_the_clients_language(large: SimClinic) -> None:
    spanish = {t for bank in (texts.BETTER_NEUTRAL, texts.BETTER_MILD) for t in bank["es"]} | {
        t for dims in texts.BETTER_CRITICAL["es"].values() for t in dims
    }
    seen = 0
    for client, e in zip(large.clients, large.episodes, strict=True):
        for a in attended(e):
            c = answers(a, "checkin")
            if c is not None and "better" in c:
                seen += 1
                assert (c["better"] in spanish) == (client.language == "es")
    assert seen > 100


def test_distribute_total_sums_exactly() -> None:
    import random

    rng = random.Random(3)
    weights = [1.6, 1.6, 1.9, 2.0, 1.4, 1.5, 1.5, 0.9]
    for total in range(25):
        for _ in range(20):
            items = distribute_total(total, weights, 3, rng)
            assert sum(items) == total and all(0 <= v <= 3 for v in items)
    with pytest.raises(ValueError):
        distribute_total(25, weights, 3, rng)


def test_items_are_realistic(large: SimClinic) -> None:
    """Sleep/fatigue items score higher than psychomotor; item 9 mostly 0."""
    sums = dict.fromkeys(PHQ_ITEMS, 0)
    n = 0
    for _, a in all_appointments(large):
        if (p := answers(a, "phq9")) is not None:
            n += 1
            for i in PHQ_ITEMS:
                sums[i] += int(p[i])
    assert sums["4"] > sums["8"] and sums["3"] > sums["8"]
    assert sums["9"] < min(sums[i] for i in PHQ_ITEMS[:8])
    item9_positive = sum(
        int(p["9"]) > 0 for _, a in all_appointments(large) if (p := answers(a, "phq9")) is not None
    )
    assert 0.02 < item9_positive / n < 0.08


def test_truth_matches_answers(large: SimClinic) -> None:
    for e in large.episodes:
        s = scores(e)
        risk = [
            a.number
            for a in attended(e)
            if (p := answers(a, "phq9")) is not None and int(p["9"]) > 0
        ]
        assert e.truth.risk_sessions == risk
        if s:
            assert e.truth.case_at_intake == (s[0][1] >= 10 or s[0][2] >= 8)
            first = next((n for n, p, _ in s if p >= s[0][1] + 6), None)
            assert e.truth.deterioration_session == first
            assert e.truth.deteriorated == (first is not None)
        if e.truth.dropped_out:
            assert e.truth.dropout_session is not None
            after = [a for a in e.appointments if a.number > e.truth.dropout_session]
            assert all(a.attendance != "attended" for a in after)
        numbers = {a.number for a in attended(e)}
        for r in e.truth.ruptures:
            assert r.session in numbers and r.dimensions
            assert set(r.dimensions) <= {"bond", "goals", "tasks"}
            assert r.repaired == (r.repair_session is not None)
    assert all(rule == truth for rule, truth in repairs(large))


def test_planted_ruptures_are_visible(large: SimClinic) -> None:
    """Every planted rupture shows as a drop of >= 1 point in the check-in total."""
    drops = []
    for e in large.episodes:
        c = checkins(e)
        numbers = [n for n, _ in c]
        for r in e.truth.ruptures:
            i = numbers.index(r.session)
            drops.append(c[i - 1][1] - c[i][1])
    assert drops and min(drops) >= 1.0
    assert statistics.median(drops) >= 1.5


def test_ruptures_prompt_critical_comments(large: SimClinic) -> None:
    at_rupture = other = with_text_rupture = with_text_other = 0
    for e in large.episodes:
        rupture_sessions = {r.session for r in e.truth.ruptures}
        for a in attended(e):
            c = answers(a, "checkin")
            if c is None:
                continue
            if a.number in rupture_sessions:
                at_rupture += 1
                with_text_rupture += "better" in c
            else:
                other += 1
                with_text_other += "better" in c
    assert with_text_other / other < 0.2, "the open question is mostly left empty"
    assert with_text_rupture / at_rupture > 2 * with_text_other / other


def test_reflections(large: SimClinic) -> None:
    reflections = [a for _, a in all_appointments(large) if a.reflection]
    attended_n = sum(a.attendance == "attended" for _, a in all_appointments(large))
    assert 0.02 < len(reflections) / attended_n < 0.12
    shared = sum(a.reflection_shared for a in reflections) / len(reflections)
    assert 0.3 < shared < 0.7
    texts_ = [a.reflection for a in reflections if a.reflection]
    assert all(f" {t}".count(" I ") + f" {t}".count(" I'") > 0 for t in texts_), "first person"


def test_therapist_perspective(large: SimClinic) -> None:
    """Therapists rate a little lower than clients on average (Tryon et al. 2007),
    but clearly higher at rupture sessions they did not notice (perspective gaps)."""
    diffs: list[float] = []
    rupture_diffs: list[float] = []
    for e in large.episodes:
        ruptures = {r.session for r in e.truth.ruptures}
        for a in attended(e):
            c, t = answers(a, "checkin"), answers(a, "checkin-therapist")
            if c is None or t is None:
                continue
            diff = sum(int(t[d]) for d in DIMS) / 4 - sum(int(c[d]) for d in DIMS) / 4
            (rupture_diffs if a.number in ruptures else diffs).append(diff)
    assert -0.8 < statistics.fmean(diffs) < 0.0
    assert statistics.fmean(rupture_diffs) > 0.5
    assert sum(d >= 1.5 for d in diffs) / len(diffs) > 0.015  # occasional gaps elsewhere too


def test_every_trajectory_class_occurs(large: SimClinic) -> None:
    classes = {e.truth.trajectory for e in large.episodes}
    assert classes == {"improver", "slow", "non-responder", "deteriorator"}


def test_deteriorators_are_catchable_early(large: SimClinic) -> None:
    """Planted deteriorators are mostly off track by session 3 (Hannan et al. 2005: the
    actuarial method flagged 85% by then): PHQ-9 at the 2nd or 3rd score is >= 2 points
    above the first, when a typical client has improved. Not trivially: only about half
    have crossed the reliable-deterioration line (+6) by then, and PHQ-9 noise puts
    some other clients +2 above intake too."""
    signal = crossed = n = others = others_signal = 0
    for e in large.episodes:
        s = scores(e)
        if len(s) < 3:
            continue
        first, early = s[0][1], max(p for _, p, _ in s[1:3])
        if e.truth.trajectory != "deteriorator":
            others += 1
            others_signal += early >= first + 2
            continue
        n += 1
        signal += early >= first + 2
        crossed += early >= first + 6
    assert n >= 30
    assert 0.7 <= signal / n <= 0.97
    assert crossed / n <= 0.75
    assert others_signal / others < 0.3


# --------------------------------------------------------------------------- calibration


def test_demo_size_appointments() -> None:
    for seed in (2026, 1, 2, 3):
        assert 900 <= appointment_count(simulate_clinic(seed=seed)) <= 1150


def test_demo_calibration(demo: SimClinic) -> None:
    """Demo size, default seed: bands are wider than at 2,000 clients because with
    ~50 finished cases and ~12 dropouts one client moves a rate by 2-8 points."""
    m = summary(demo)
    assert 900 <= m["appointments"] <= 1150
    assert 0.35 <= m["recovery"] <= 0.65
    assert 0.10 <= m["dropout_of_ended"] <= 0.30
    assert 0.05 <= m["missed"] <= 0.15
    assert 0.05 <= m["between_r"] <= 0.55
    assert m["within_r"] < 0
    assert 0.30 <= m["rupture_share"] <= 0.58
    assert 0.25 <= m["repaired"] <= 0.75
    assert 0.02 <= m["deterioration"] <= 0.15
    assert m["early_alliance_d"] > 0
    assert 0.03 <= m["risk_share"] <= 0.25


def test_large_calibration(large: SimClinic) -> None:
    """2,000 clients: every figure in its target band. All from the answers:

    * recovery: NHS Talking Therapies, among ended episodes with >= 2 attended
      sessions that were a case at the first PHQ-9/GAD-7 (``recovery_rate``);
    * dropout: end_reason "dropout" among ended episodes; missed: no-shows plus late
      cancellations among appointments that have happened;
    * between-client alliance-outcome r: Pearson r over clients (>= 3 check-ins and
      >= 3 PHQ-9 scores) between the mean check-in total (mean of the four 0-10
      dimensions) and first-minus-last PHQ-9 (``between_client_r``), target ~.28
      (Flueckiger et al. 2018, r = .278);
    * within-client link: person-mean-centred check-in at a session vs the PHQ-9
      change to the next session, both adjusted for log(session)
      (``within_client_r``); negative because PHQ-9 falls when the alliance is
      better than usual, of similar size (|r| in .18-.38);
    * ruptures: share of episodes with >= 3 attended sessions where a planted rupture
      shows as a >= 1 point drop in the check-in total; repaired: the total is back
      at the pre-drop level within two check-ins (``repairs``);
    * deterioration: PHQ-9 >= 6 above the first at some later session;
    * Sharf et al. (2010): Cohen's d of the mean check-in over the first three
      sessions, planned endings minus dropouts, target ~.55.
    """
    m = summary(large)
    per_client = m["appointments"] / len(large.clients)
    assert 11.25 <= per_client <= 14.4  # the demo's 900-1,150 per 80 clients
    assert 0.45 <= m["recovery"] <= 0.55
    assert 0.15 <= m["dropout_of_ended"] <= 0.25
    assert 0.07 <= m["missed"] <= 0.13
    assert 0.18 <= m["between_r"] <= 0.38
    assert -0.38 <= m["within_r"] <= -0.18
    assert 0.40 <= m["rupture_share"] <= 0.46
    assert 0.40 <= m["repaired"] <= 0.60
    assert 0.05 <= m["deterioration"] <= 0.10
    assert 0.30 <= m["early_alliance_d"] <= 0.85
    assert 0.05 <= m["risk_share"] <= 0.20


def test_answers_validate_against_the_instrument_definitions(demo: SimClinic) -> None:
    """Cross-check with alliance.measures: every response is complete and scorable."""
    measures = pytest.importorskip("alliance.measures")
    for e in demo.episodes:
        goals = {f"goal{k + 1}": text for k, text in enumerate(e.goals)}
        for a in e.appointments:
            for r in a.responses:
                instrument = measures.get_instrument(r.instrument)
                assert instrument.respondent == r.respondent
                assert instrument.validate_answers(r.answers, goals) == {}
                assert instrument.score(r.answers).scorable


def test_frozen(demo: SimClinic) -> None:
    with pytest.raises(AttributeError):
        demo.episodes[0].status = "ended"  # type: ignore[misc]
    assert replace(demo.clients[0], first_name="X").first_name == "X"


if __name__ == "__main__":  # python tests/demo/test_simulate.py [seed n_clients n_therapists]
    import sys
    import time

    args = [int(v) for v in sys.argv[1:]] or [2026, 80, 4]
    t0 = time.perf_counter()
    clinic = simulate_clinic(seed=args[0], n_clients=args[1], n_therapists=args[2])
    print(f"generated in {time.perf_counter() - t0:.2f}s")
    for key, value in summary(clinic).items():
        print(f"{key:>18}: {value:.3f}")
