"""Here-and-now openings: always one to three, deterministic, and fitting what the client showed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alliance.alerts.openings import DIMENSIONS, MAX_OPENINGS, Signals, openings

signals = st.builds(
    Signals,
    fallen=st.frozensets(st.sampled_from(DIMENSIONS)),
    concern=st.booleans(),
    missed=st.booleans(),
    risk=st.booleans(),
    not_on_track=st.booleans(),
)


@given(signals)
def test_always_one_to_three_openings_each_with_a_source(s: Signals) -> None:
    found = openings(s)
    assert 1 <= len(found) <= MAX_OPENINGS
    assert all(o.text and o.source for o in found)
    assert len({o.text for o in found}) == len(found)


@given(signals)
def test_deterministic(s: Signals) -> None:
    assert openings(s) == openings(Signals(**s.__dict__))


@given(signals)
def test_every_opening_answers_a_signal_that_is_there(s: Signals) -> None:
    present = {
        "risk": s.risk,
        "concern": s.concern,
        "missed": s.missed,
        "not_on_track": s.not_on_track,
        **{d: d in s.fallen for d in DIMENSIONS},
    }
    for opening in openings(s):
        if opening.reason == "general":
            assert not any(present.values())
        else:
            assert present[opening.reason], opening


@given(signals)
def test_risk_comes_first_and_is_never_crowded_out(s: Signals) -> None:
    found = openings(s)
    assert (found[0].reason == "risk") == s.risk


@given(st.frozensets(st.sampled_from(("bond", "goals", "tasks")), min_size=1))
def test_a_fallen_dimension_gets_its_own_opening(fallen: frozenset[str]) -> None:
    reasons = {o.reason for o in openings(Signals(fallen=fallen))}
    assert reasons == set(fallen)


def test_goals_drop_asks_about_what_we_work_on() -> None:
    (opening,) = openings(Signals(fallen=frozenset({"goals"})))
    assert "what we're working on" in opening.text
    assert "Safran & Muran" in opening.source and "Eubanks" in opening.source


def test_nothing_notable_gives_a_general_invitation() -> None:
    (opening,) = openings(Signals())
    assert opening.reason == "general"
