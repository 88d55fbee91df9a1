"""Rule 3 — early weak alliance: the early check-ins are in the clinic's lowest quarter.

The early alliance predicts outcome (alliance-outcome r = .278, Flückiger et al. 2018) and a
weaker alliance predicts dropout (Sharf et al. 2010, d = .55). Because the check-in is a new,
unvalidated measure, the yardstick is the clinic's own distribution:
``ClinicNorms.early_alliance_q25`` (the ``early_alliance_percentile`` of episodes' mean check-in
over sessions 1..``early_alliance_last_session``), or a documented default while the clinic has
too few episodes.

The rule looks at the running mean after each check-in by session 3, as soon as one exists. It
fires if that mean was ever below the cut-off (a strict "below"), dated at the first such
session; later check-ins update the evidence, and the explanation says when the mean has since
risen above the cut-off. One finding per episode: ``early_weak_alliance:ep<id>`` (``yellow``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._text import EPS, r3
from .findings import JSON, Finding, make_key
from .message import N_, Msg, alert_text, msg, number, sessions
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, Session

if TYPE_CHECKING:
    from .norms import ClinicNorms


def early_checkins(series: EpisodeSeries, settings: AlertSettings) -> list[tuple[Session, float]]:
    """Client check-in totals at sessions 1..``early_alliance_last_session``."""
    return [
        (s, float(s.client_checkin.total))
        for s in series.sessions
        if s.number <= settings.early_alliance_last_session
        and s.client_checkin is not None
        and s.client_checkin.total is not None
    ]


def early_weak_alliance_findings(
    series: EpisodeSeries, settings: AlertSettings, norms: ClinicNorms
) -> list[Finding]:
    points = early_checkins(series, settings)
    cutoff = norms.early_alliance_q25
    running: list[float] = []
    total = 0.0
    for i, (_, value) in enumerate(points, start=1):
        total += value
        running.append(total / i)
    # Persistence: the running mean must be below the cut-off after this many check-ins in a
    # row (or after every check-in of the early sessions, when there are fewer).
    run_needed = settings.early_alliance_persistence
    run, first = 0, -1
    for i, mean in enumerate(running):
        run = run + 1 if mean < cutoff - EPS else 0
        if run >= run_needed:
            first = i
            break
    if first < 0:
        return []
    session = points[first][0]
    last = settings.early_alliance_last_session
    if norms.early_alliance_source == "clinic":
        yardstick = msg(
            N_(
                "the lowest quarter of this clinic's clients (cut-off {cutoff}, the "
                "{percentile}th percentile of {n} episodes)"
            ),
            cutoff=number(cutoff, 2),
            percentile=number(settings.early_alliance_percentile, 0),
            n=norms.early_alliance_n,
        )
    else:
        yardstick = msg(
            N_(
                "the default cut-off of {cutoff} (this clinic has too few episodes for its own "
                "percentile yet; the default is an unverified assumption)"
            ),
            cutoff=number(cutoff),
        )
    numbers = [s.number for s, _ in points[: first + 1]]
    text: list[Msg] = [
        msg(
            N_(
                "The client's mean check-in over sessions 1–{last} was {mean} after "  # noqa: RUF001  (xgettext reads no \u escapes)
                "{sessions}, below {yardstick}."
            ),
            last=last,
            mean=number(running[first], 2),
            sessions=sessions(numbers),
            yardstick=yardstick,
        )
    ]
    current = running[-1]
    if len(points) > first + 1:
        now = (
            N_("With all check-ins up to session {last} the mean is now {mean}, above the cut-off.")
            if current >= cutoff - EPS
            else N_(
                "With all check-ins up to session {last} the mean is now {mean}, still below the "
                "cut-off."
            )
        )
        text.append(msg(now, last=last, mean=number(current, 2)))
    evidence: dict[str, JSON] = {
        "cutoff": r3(cutoff),
        "cutoff_source": norms.early_alliance_source,
        "cutoff_episodes": norms.early_alliance_n,
        "checkins": [{"session": s.number, "total": r3(v)} for s, v in points],
        "running_means": [r3(m) for m in running],
        "mean_when_flagged": r3(running[first]),
        "current_mean": r3(current),
        "currently_below": current < cutoff - EPS,
    }
    return [
        Finding(
            kind="early_weak_alliance",
            severity="yellow",
            key=make_key("early_weak_alliance", series.episode_id),
            session_number=session.number,
            appointment_id=session.appointment_id,
            **alert_text(
                title=Msg(N_("Weak early alliance")),
                explanation=text,
                suggestion=suggestion_for("early_weak_alliance").message,
                evidence=evidence,
            ),
            episode_id=series.episode_id,
        )
    ]
