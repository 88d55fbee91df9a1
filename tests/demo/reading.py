"""Reading a simulated clinic's answers back, for the tests of both simulators (test_simulate.py,
test_heldout.py): each checks its calibration from the generated answers, not from its own plan."""

from __future__ import annotations

from alliance.demo.simulate import SimAppointment, SimEpisode

PHQ_ITEMS = [str(i) for i in range(1, 10)]
GAD_ITEMS = [str(i) for i in range(1, 8)]


def answers(appointment: SimAppointment, instrument: str) -> dict[str, int | str] | None:
    for response in appointment.responses:
        if response.instrument == instrument:
            return response.answers
    return None


def attended(episode: SimEpisode) -> list[SimAppointment]:
    return [a for a in episode.appointments if a.attendance == "attended"]


def scores(episode: SimEpisode) -> list[tuple[int, int, int]]:
    """(appointment number, PHQ-9 total, GAD-7 total) where both were answered."""
    out = []
    for a in attended(episode):
        phq, gad = answers(a, "phq9"), answers(a, "gad7")
        if phq is not None and gad is not None:
            out.append(
                (a.number, sum(int(phq[i]) for i in PHQ_ITEMS), sum(int(gad[i]) for i in GAD_ITEMS))
            )
    return out
