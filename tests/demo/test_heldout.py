"""Tests for the held-out simulator (``alliance.demo.heldout``, issue 12).

Every calibration figure is recomputed here from the item answers (sums of PHQ-9 and
GAD-7 items, the four check-in dimensions), not read from ``GroundTruth``; the ground
truth is checked against the answers separately, on one mid-size clinic and, property
style, on many small ones. The bands are those quoted in the module docstring.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import statistics
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.demo import heldout, simulate
from alliance.demo.heldout import simulate_clinic
from alliance.demo.simulate import SimAppointment, SimClinic, SimEpisode
from alliance.measures import get_instrument
from tests.demo.reading import GAD_ITEMS, PHQ_ITEMS, answers, attended, scores

DIMS = ["bond", "goals", "tasks", "overall"]


@pytest.fixture(scope="module")
def demo() -> SimClinic:
    return simulate_clinic()


@pytest.fixture(scope="module")
def mid() -> SimClinic:
    return simulate_clinic(seed=7, n_clients=1500, n_therapists=12, months=24)


# --------------------------------------------------------------------------- reading the answers


def checkin_sums(episode: SimEpisode) -> dict[int, int]:
    """Appointment number -> 4 x the client check-in total (exact integers)."""
    out = {}
    for a in attended(episode):
        if (c := answers(a, "checkin")) is not None:
            out[a.number] = sum(int(c[d]) for d in DIMS)
    return out


def all_appointments(clinic: SimClinic) -> Iterator[tuple[SimEpisode, SimAppointment]]:
    for e in clinic.episodes:
        for a in e.appointments:
            yield e, a


# --------------------------------------------------------------------------- metrics


def deterioration_share(clinic: SimClinic) -> float:
    eligible = [s for e in clinic.episodes if len(s := scores(e)) >= 2]
    return sum(any(p >= s[0][1] + 6 for _, p, _ in s[1:]) for s in eligible) / len(eligible)


def dropout_share(clinic: SimClinic) -> float:
    ended = [e for e in clinic.episodes if e.status == "ended"]
    return sum(e.end_reason == "dropout" for e in ended) / len(ended)


def missed_share(clinic: SimClinic) -> float:
    past = [a for _, a in all_appointments(clinic) if a.attendance != "scheduled"]
    return sum(a.attendance in ("no_show", "late_cancel") for a in past) / len(past)


def rupture_share(clinic: SimClinic) -> float:
    eligible = [e for e in clinic.episodes if len(attended(e)) >= 3]
    return sum(bool(e.truth.ruptures) for e in eligible) / len(eligible)


def repaired_share(clinic: SimClinic) -> float:
    ruptures = [r for e in clinic.episodes for r in e.truth.ruptures]
    return sum(r.repaired for r in ruptures) / len(ruptures)


def checkin_missing(clinic: SimClinic) -> tuple[float, float, float]:
    """Share of attended sessions without a client check-in: overall, at sessions whose
    PHQ-9 is 3+ above the client's first, and at the others."""
    worse = [0, 0]
    other = [0, 0]
    for e in clinic.episodes:
        s = scores(e)
        if not s:
            continue
        first, phq = s[0][1], {n: p for n, p, _ in s}
        for a in attended(e):
            if a.number in phq:
                bucket = worse if phq[a.number] >= first + 3 else other
                bucket[0] += answers(a, "checkin") is None
                bucket[1] += 1
    sessions = [a for e in clinic.episodes for a in attended(e)]
    overall = sum(answers(a, "checkin") is None for a in sessions) / len(sessions)
    return overall, worse[0] / worse[1], other[0] / other[1]


def ceiling_share(clinic: SimClinic) -> float:
    values = [
        int(c[d])
        for _, a in all_appointments(clinic)
        if (c := answers(a, "checkin")) is not None
        for d in DIMS
    ]
    return sum(v == 10 for v in values) / len(values)


def recovery_share(clinic: SimClinic) -> float:
    recovered = cases = 0
    for e in clinic.episodes:
        s = scores(e)
        if e.status != "ended" or len(attended(e)) < 2 or not s:
            continue
        if s[0][1] >= 10 or s[0][2] >= 8:
            cases += 1
            recovered += s[-1][1] < 10 and s[-1][2] < 8
    return recovered / cases


def risk_share(clinic: SimClinic) -> float:
    return sum(
        any((p := answers(a, "phq9")) is not None and int(p["9"]) > 0 for a in attended(e))
        for e in clinic.episodes
    ) / len(clinic.episodes)


def between_client_r(clinic: SimClinic) -> float:
    xs, ys = [], []
    for e in clinic.episodes:
        c, s = checkin_sums(e), scores(e)
        if len(c) >= 3 and len(s) >= 3:
            xs.append(statistics.fmean(c.values()) / 4)
            ys.append(s[0][1] - s[-1][1])
    return float(np.corrcoef(xs, ys)[0, 1])


def change_kurtosis(clinic: SimClinic) -> float:
    """Kurtosis of session-to-session PHQ-9 changes outside planted deteriorators (3 = normal)."""
    changes = [
        b - a
        for e in clinic.episodes
        if e.truth.trajectory != "deteriorator"
        for (_, a, _), (_, b, _) in itertools.pairwise(scores(e))
    ]
    z = (np.array(changes, float) - np.mean(changes)) / np.std(changes)
    return float(np.mean(z**4))


def summary(clinic: SimClinic) -> dict[str, float]:
    missing, missing_worse, missing_other = checkin_missing(clinic)
    return {
        "deterioration": deterioration_share(clinic),
        "dropout_of_ended": dropout_share(clinic),
        "missed": missed_share(clinic),
        "rupture_share": rupture_share(clinic),
        "repaired": repaired_share(clinic),
        "checkin_missing": missing,
        "checkin_missing_worse": missing_worse,
        "checkin_missing_other": missing_other,
        "ceiling": ceiling_share(clinic),
        "recovery": recovery_share(clinic),
        "risk_share": risk_share(clinic),
        "between_r": between_client_r(clinic),
        "phq_change_kurtosis": change_kurtosis(clinic),
    }


# --------------------------------------------------------------------------- interface


def test_same_signature_as_the_main_simulator() -> None:
    """A benchmark can call either simulator with the same keywords and defaults."""
    ours = inspect.signature(heldout.simulate_clinic).parameters
    theirs = inspect.signature(simulate.simulate_clinic).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


def test_deterministic_for_a_seed() -> None:
    assert simulate_clinic(seed=5, n_clients=40) == simulate_clinic(seed=5, n_clients=40)
    assert simulate_clinic(seed=5, n_clients=40) != simulate_clinic(seed=6, n_clients=40)


def test_end_defaults_to_a_fixed_day(demo: SimClinic) -> None:
    assert demo.end == simulate.DEFAULT_END
    assert simulate_clinic(end=simulate.DEFAULT_END) == demo


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        simulate_clinic(n_clients=0)


def test_differs_from_the_main_simulator() -> None:
    """Held out means other data, not a copy: the same call gives other clinics."""
    ours, theirs = simulate_clinic(n_clients=30), simulate.simulate_clinic(n_clients=30)
    assert [len(e.appointments) for e in ours.episodes] != [
        len(e.appointments) for e in theirs.episodes
    ]


# --------------------------------------------------------------------------- structure


def test_staff_and_clients(demo: SimClinic) -> None:
    assert len(demo.therapists) == 4 and len(demo.supervisors) == 1
    assert {t for _, t in demo.supervision} == {t.key for t in demo.therapists}
    assert len({c.code for c in demo.clients}) == len(demo.clients) == len(demo.episodes)
    assert [e.client_key for e in demo.episodes] == [c.key for c in demo.clients]
    assert [e.start for e in demo.episodes] == sorted(e.start for e in demo.episodes)
    assert all(demo.start <= e.start < demo.end for e in demo.episodes)


def test_calendar(mid: SimClinic) -> None:
    cutoff = datetime.combine(mid.end, datetime.min.time(), tzinfo=UTC)
    for e in mid.episodes:
        days = [a.scheduled_at for a in e.appointments]
        assert [a.number for a in e.appointments] == list(range(1, len(days) + 1))
        assert all((b - a).days % 7 == 0 and b > a for a, b in itertools.pairwise(days)), (
            "weekly in one slot"
        )
        assert all(d.weekday() < 5 and 9 <= d.hour <= 16 for d in days)
        assert all(e.start <= d.date() for d in days)
        for a in e.appointments:
            assert (a.attendance == "scheduled") == (a.scheduled_at >= cutoff)
            if a.attendance != "attended":
                assert a.responses == [] and a.reflection is None
            for r in a.responses:
                assert r.submitted_at < cutoff
                before = r.instrument in ("phq9", "gad7", "gbo")
                assert (r.submitted_at < a.scheduled_at) == before
        if e.status == "ended":
            assert e.end == e.appointments[-1].scheduled_at.date() and e.end_reason
            assert not any(a.attendance == "scheduled" for a in e.appointments)
        else:
            assert e.end is None and e.end_reason is None
            assert e.appointments[-1].attendance == "scheduled"


def test_time_zone_is_respected() -> None:
    zone = ZoneInfo("America/New_York")
    clinic = simulate_clinic(n_clients=20, tz=zone)
    assert all(
        a.scheduled_at.tzinfo is zone and 9 <= a.scheduled_at.hour <= 16
        for _, a in all_appointments(clinic)
    )


def test_every_answer_in_range(mid: SimClinic) -> None:
    for e in mid.episodes:
        for a in attended(e):
            kinds = [r.instrument for r in a.responses]
            assert len(kinds) == len(set(kinds)) and ("phq9" in kinds) == ("gad7" in kinds)
            for r in a.responses:
                ans = r.answers
                if r.instrument in ("phq9", "gad7"):
                    items, extra = (PHQ_ITEMS, "10") if r.instrument == "phq9" else (GAD_ITEMS, "8")
                    assert all(isinstance(ans[i], int) and 0 <= int(ans[i]) <= 3 for i in items)
                    total = sum(int(ans[i]) for i in items)
                    assert set(ans) == ({*items, extra} if total > 0 else set(items))
                    assert total == 0 or 0 <= int(ans[extra]) <= 3
                elif r.instrument == "gbo":
                    assert set(ans) == {f"goal{k + 1}" for k in range(len(e.goals))}
                    assert all(isinstance(v, int) and 0 <= v <= 10 for v in ans.values())
                else:
                    assert r.instrument in ("checkin", "checkin-therapist")
                    assert r.respondent == ("client" if r.instrument == "checkin" else "therapist")
                    assert all(isinstance(ans[d], int) and 0 <= int(ans[d]) <= 10 for d in DIMS)
                    assert set(ans) - set(DIMS) <= (
                        {"better"} if r.instrument == "checkin" else set()
                    )


def test_answers_validate_against_the_instrument_definitions(demo: SimClinic) -> None:
    for e in demo.episodes:
        goals = {f"goal{k + 1}": text for k, text in enumerate(e.goals)}
        for a in e.appointments:
            for r in a.responses:
                instrument = get_instrument(r.instrument)
                assert instrument.respondent == r.respondent
                assert instrument.validate_answers(r.answers, goals) == {}
                assert instrument.score(r.answers).scorable


def test_first_attended_session_has_intake_scores(mid: SimClinic) -> None:
    for e in mid.episodes:
        first = attended(e)[:1]
        if first:
            assert answers(first[0], "phq9") is not None and answers(first[0], "gbo") is not None


# --------------------------------------------------------------------------- ground truth


def check_truth(clinic: SimClinic) -> None:
    """GroundTruth follows from the answers wherever it is defined by them."""
    for e in clinic.episodes:
        t, s, sums = e.truth, scores(e), checkin_sums(e)
        numbers = [a.number for a in attended(e)]
        risk = [a.number for a in attended(e) if (p := answers(a, "phq9")) and int(p["9"]) > 0]
        assert t.risk_sessions == risk
        first_rise = next((n for n, p, _ in s if s and p >= s[0][1] + 6), None)
        assert t.deterioration_session == first_rise and t.deteriorated == (first_rise is not None)
        assert t.case_at_intake == (bool(s) and (s[0][1] >= 10 or s[0][2] >= 8))
        finished = e.status == "ended" and len(numbers) >= 2
        assert t.recovered == (finished and t.case_at_intake and s[-1][1] < 10 and s[-1][2] < 8)
        assert t.dropped_out == (t.dropout_session is not None)
        if t.dropped_out:
            assert t.dropout_session == numbers[-1]
            assert e.status == "active" or e.end_reason == "dropout"
        else:
            assert e.end_reason != "dropout"
        for r in t.ruptures:
            # Planted at a session with a client check-in, visibly below the last one before it.
            assert r.session in sums and r.dimensions
            assert set(r.dimensions) <= {"bond", "goals", "tasks"}
            pre_number = max(n for n in sums if n < r.session)
            pre, at = answers_at(e, pre_number), answers_at(e, r.session)
            assert all(int(at[d]) <= int(pre[d]) - 1 for d in r.dimensions)
            # The repair rule, on the answers: back at the pre-drop total within two attended sessions.
            window = numbers[numbers.index(r.session) + 1 :][:2]
            recovered_at = [n for n in window if n in sums and sums[n] >= sums[pre_number]]
            assert r.repaired == bool(recovered_at)
            assert r.repair_session == (recovered_at[0] if recovered_at else None)
        sessions = [r.session for r in t.ruptures]
        assert sessions == sorted(set(sessions))


def answers_at(episode: SimEpisode, number: int) -> dict[str, int | str]:
    found = answers(next(a for a in episode.appointments if a.number == number), "checkin")
    assert found is not None
    return found


def test_truth_matches_answers(mid: SimClinic) -> None:
    check_truth(mid)
    classes = {e.truth.trajectory for e in mid.episodes}
    assert classes == {"improver", "slow", "non-responder", "deteriorator"}


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_clients=st.integers(1, 30),
    n_therapists=st.integers(1, 4),
    months=st.integers(1, 14),
)
def test_truth_matches_answers_for_any_seed(
    seed: int, n_clients: int, n_therapists: int, months: int
) -> None:
    check_truth(simulate_clinic(seed, n_clients, n_therapists, months, date(2025, 1, 15)))


def test_ruptures_come_in_more_than_one_shape(mid: SimClinic) -> None:
    """Single-dimension ruptures whose total barely moves, and sharp multi-dimension ones."""
    small = big = 0
    for e in mid.episodes:
        sums = checkin_sums(e)
        for r in e.truth.ruptures:
            drop = sums[max(n for n in sums if n < r.session)] - sums[r.session]
            small += len(r.dimensions) == 1 and drop < 4  # under 1 point on the 0-10 total
            big += len(r.dimensions) >= 2 and drop >= 8
    assert small > 50 and big > 50


# --------------------------------------------------------------------------- consumable


def load_sim_series() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "_sim_series.py"
    spec = importlib.util.spec_from_file_location("_sim_series", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_sim_series", module)
    spec.loader.exec_module(module)
    return module


def test_converts_to_alert_inputs() -> None:
    sim_series = load_sim_series()
    clinic = simulate_clinic(seed=3, n_clients=300, n_therapists=3, months=24)
    series = sim_series.clinic_series(clinic)
    assert len(series) == len(clinic.episodes)
    for e, s in zip(clinic.episodes, series, strict=True):
        assert [x.number for x in s.sessions] == [a.number for a in e.appointments]
        phq = {x.number: x.outcome.get("phq9") for x in s.sessions if "phq9" in x.outcome}
        assert phq == {n: float(p) for n, p, _ in scores(e)}
        totals = {x.number: x.client_checkin.total for x in s.sessions if x.client_checkin}
        assert totals == {n: v / 4 for n, v in checkin_sums(e).items()}
        risk = sorted({x.number for x in s.sessions for signal in x.risk if signal.item == "9"})
        assert risk == e.truth.risk_sessions
        past = sim_series.past_sessions(s)
        assert sim_series.as_of(s, past, len(past)).sessions == tuple(past)


# --------------------------------------------------------------------------- calibration


def test_demo_size() -> None:
    for seed in (2026, 1, 2):
        clinic = simulate_clinic(seed=seed)
        assert 650 <= sum(len(e.appointments) for e in clinic.episodes) <= 1100
        assert 0.0 <= dropout_share(clinic) <= 0.4


def test_calibration(mid: SimClinic) -> None:
    """1,500 clients over 24 months: each figure in its band (module docstring, with sources).

    * reliable deterioration: some PHQ-9 >= 6 above the first, among episodes with >= 2
      scores (Lambert 2013: 5-10% of adults);
    * dropout: end_reason "dropout" among ended episodes (Swift & Greenberg 2012: 19.7%);
    * ruptures: episodes with >= 3 attended sessions with a planted rupture (about 40%,
      Safran et al. 2011); repaired: by the rule on the answers (test_truth_matches_answers);
    * missing not at random: check-ins missing at sessions whose PHQ-9 is 3+ above the
      client's first at least 1.5 times as often as at the others;
    * heavy tails: kurtosis of session-to-session PHQ-9 changes well above a normal law's 3.
    """
    m = summary(mid)
    assert 0.05 <= m["deterioration"] <= 0.10
    assert 0.15 <= m["dropout_of_ended"] <= 0.25
    assert 0.06 <= m["missed"] <= 0.14
    assert 0.34 <= m["rupture_share"] <= 0.46
    assert 0.30 <= m["repaired"] <= 0.60
    assert 0.07 <= m["checkin_missing"] <= 0.18
    assert m["checkin_missing_worse"] >= 1.5 * m["checkin_missing_other"]
    assert 0.15 <= m["ceiling"] <= 0.50
    assert 0.38 <= m["recovery"] <= 0.58
    assert 0.08 <= m["risk_share"] <= 0.30
    assert 0.08 <= m["between_r"] <= 0.40
    assert m["phq_change_kurtosis"] >= 4.0


if __name__ == "__main__":  # python tests/demo/test_heldout.py [seed n_clients n_therapists months]
    import time

    args = [int(v) for v in sys.argv[1:]] or [7, 1500, 12, 24]
    t0 = time.perf_counter()
    clinic = simulate_clinic(seed=args[0], n_clients=args[1], n_therapists=args[2], months=args[3])
    print(f"generated in {time.perf_counter() - t0:.2f}s")
    for key, value in summary(clinic).items():
        print(f"{key:>22}: {value:.3f}")
