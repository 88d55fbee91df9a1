"""Hypothesis strategies: random but valid episode series."""

from __future__ import annotations

from hypothesis import strategies as st

from alliance.alerts import CheckinScore, EpisodeSeries, RiskSignal
from tests.alerts.builders import session

ATTENDANCE = ["attended"] * 6 + ["cancelled", "late_cancel", "no_show", "scheduled"]


@st.composite
def checkins(draw: st.DrawFn) -> CheckinScore:
    values = draw(st.tuples(*[st.integers(0, 10)] * 4))
    dims = dict(zip(("bond", "goals", "tasks", "overall"), map(float, values), strict=True))
    return CheckinScore(
        total=sum(values) / 4, dims=dims, concern=draw(st.sampled_from([False] * 5 + [True]))
    )


@st.composite
def episode_series(draw: st.DrawFn, episode_id: int = 12, max_sessions: int = 10) -> EpisodeSeries:
    n = draw(st.integers(1, max_sessions))
    sessions = []
    for number in range(1, n + 1):
        attendance = draw(st.sampled_from(ATTENDANCE))
        attended = attendance == "attended"
        sessions.append(
            session(
                number,
                attendance=attendance,
                client=draw(st.none() | checkins()) if attended else None,
                therapist=draw(st.none() | checkins()) if attended else None,
                outcome=draw(
                    st.fixed_dictionaries(
                        {},
                        optional={"phq9": st.integers(0, 27), "gad7": st.integers(0, 21)},
                    )
                )
                if attended
                else {},
                risk=draw(
                    st.lists(
                        st.builds(
                            RiskSignal,
                            st.just("phq9"),
                            st.just("9"),
                            st.integers(1, 3),
                            st.none() | st.integers(1, 5),
                        ),
                        max_size=1,
                    )
                )
                if attended and draw(st.integers(0, 9)) == 0
                else (),
            )
        )
    return EpisodeSeries(episode_id=episode_id, therapist_id=7, sessions=tuple(sessions))
