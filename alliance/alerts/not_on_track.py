"""Rule 5 — not on track: the client's scores run worse than clients in this clinic who started
alike.

Lambert's and Finch's expected-recovery method (Lutz; Hannan et al. 2005: the actuarial method
flagged all deteriorators by the end of treatment, where therapists predicted 1 of 40) compares
a client's scores with the curve expected for their intake. Feedback helps most for
not-on-track clients (Lambert & Shimokawa 2011; de Jong et al. 2021).

Testing every single score against a percentile flags most clients at some point of a long
episode (docs/alerts-evaluation.md: 64% of clients who never deteriorated). So the rule reads
the client's own course, from the mixed model conditional on their own scores so far
(``own_course.py``):

- **red** at once when the client's *own deviation* from the expected curve — estimated from all
  their scores since intake, so one noisy score counts little — is above the
  ``not_on_track_red_percentile`` of this clinic's clients, or when a single score is above the
  curve by more than the ``not_on_track_jump_percentile`` of differences (a sudden worsening);
- **yellow** when the own deviation is above the ``not_on_track_yellow_percentile`` at
  ``not_on_track_persistence`` scores in a row (default 2): a single yellow score never raises
  an alert.

- **red** from the session on which any outcome score has *reliably deteriorated* — risen from
  intake by the instrument's reliable-change amount, ``settings.reliable_deterioration`` (PHQ-9
  +6, GAD-7 +4), read by ``deterioration.reliable_rise`` exactly as the deterioration rule reads
  it. Such a client is not on track by definition, whatever the curve says (a curve is an
  estimate; the rise is measured). The separate ``deterioration`` alert is kept: it asks for other
  actions (risk and the safety plan first) and is counted in the outcome figures; the not-on-track
  alert names the rise as its reason (docs/alerts-evaluation.md section 0 has the decision and
  what it costs in alerts).

One finding per episode (key ``not_on_track:ep<id>``) for all outcome instruments together: its
severity is the worst level either reached so far, dated at the first session that reached it,
so the alert escalates yellow → red and refreshes its explanation instead of repeating each
session. Raising a post-intake score can only raise the severity: the estimate, the single
score and the rise from intake only go up, and the boundaries do not depend on the scores.

Keys before issue 12 were per instrument (``not_on_track:ep<id>:<instrument>``);
``lifecycle.reconcile`` carries such a stored alert on under its old key (see ``LEGACY_KEYS``
there), so an upgrade never duplicates an alert.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ._text import comma_list, instrument_word, r3
from .deterioration import ReliableRise, reliable_rise
from .findings import JSON, Finding, Severity, make_key
from .message import (
    N_,
    NP_,
    Item,
    Msg,
    Param,
    alert_text,
    msg,
    number,
    ordinal,
    plural,
    render,
    signed,
)
from .own_course import persistent
from .settings import AlertSettings
from .suggestions import suggestion_for
from .trajectory import Level, OwnCourse, TrajectoryModel
from .types import EpisodeSeries, Session

_RANK: dict[Level, int] = {"on_track": 0, "yellow": 1, "red": 2}


@dataclass(frozen=True)
class _Reading:
    """One instrument's course read by the rule."""

    model: TrajectoryModel
    intake: float
    intake_session: int | None
    points: list[tuple[Session, float]]
    course: OwnCourse
    levels: list[Level]  # after persistence, red from a reliable rise on
    rise: ReliableRise | None
    rise_index: int | None  # index in ``points`` of the first reliably deteriorated score

    @property
    def worst(self) -> int:
        return max(_RANK[level] for level in self.levels)

    def first_at(self, rank: int) -> int:
        return next(i for i, level in enumerate(self.levels) if _RANK[level] == rank)

    def led_by_rise(self) -> bool:
        """Whether the reading turned red at its reliable rise (not earlier, on the curve)."""
        return self.rise_index is not None and self.first_at(2) == self.rise_index


def _read(
    series: EpisodeSeries, model: TrajectoryModel, settings: AlertSettings
) -> _Reading | None:
    intake = series.intake_score(model.instrument)
    points = series.outcome_after_intake(model.instrument)
    if intake is None or not points:
        return None
    course = model.own_course([s.number for s, _ in points], [v for _, v in points], intake[0])
    levels = persistent(course.levels, settings.not_on_track_persistence)
    threshold = settings.reliable_deterioration.get(model.instrument)
    rise = None if threshold is None else reliable_rise(series, model.instrument, threshold)
    rise_index = None
    if rise is not None:
        # Red from the first reliably deteriorated score on, whatever the curve says.
        rise_index = next(i for i, (s, _) in enumerate(points) if s.number == rise.first[0].number)
        levels[rise_index:] = ["red"] * (len(levels) - rise_index)
    return _Reading(model, intake[0], intake[1], points, course, levels, rise, rise_index)


def not_on_track_findings(
    series: EpisodeSeries, models: Sequence[TrajectoryModel], settings: AlertSettings
) -> list[Finding]:
    """At most one finding for the episode, from the models of its outcome instruments and the
    reliable deterioration of any outcome instrument (``settings.reliable_deterioration``)."""
    readings = [r for m in models if (r := _read(series, m, settings)) is not None]
    # A reliable rise of an instrument without an expected curve still makes the episode red.
    read = {r.model.instrument for r in readings}
    bare = [
        rise
        for instrument, threshold in sorted(settings.reliable_deterioration.items())
        if instrument not in read
        and (rise := reliable_rise(series, instrument, threshold)) is not None
    ]
    flagged = [r for r in readings if r.worst > 0]
    if not flagged and not bare:
        return []
    worst = max([r.worst for r in flagged] + [2 if bare else 0])
    severity: Severity = "red" if worst == 2 else "yellow"
    # Whatever reached the alert's severity first leads (ties: a reliable rise, then settings
    # order).
    candidates: list[tuple[int, int, _Reading | ReliableRise]] = [
        (r.points[r.first_at(worst)][0].number, 0 if r.led_by_rise() else 1, r)
        for r in flagged
        if r.worst == worst
    ] + [(rise.first[0].number, 0, rise) for rise in bare]
    number, _, lead = min(candidates, key=lambda c: (c[0], c[1]))
    if isinstance(lead, ReliableRise):
        session = lead.first[0]
        sentences = [_rise_sentence(lead, leads=True)]
        instrument = lead.instrument
    else:
        first = lead.first_at(worst)
        session = lead.points[first][0]
        if lead.led_by_rise() and worst == 2:
            assert lead.rise is not None
            sentences = [_rise_sentence(lead.rise, leads=True), _curve_sentence(lead, first)]
            sentences += _earlier_sentence(lead, first)
        else:
            sentences = _lead_sentence(lead, first, severity, settings)
            if lead.rise is not None:
                sentences.append(_rise_sentence(lead.rise, leads=False))
        latest = _latest_sentence(lead, first)
        if latest is not None:
            sentences.append(latest)
        instrument = lead.model.instrument
    others = [r for r in flagged if r is not lead]
    also: list[Item] = [
        msg(
            _ALSO[(r.worst == 2, r.rise is not None)],
            instrument=instrument_word(r.model.instrument),
            n=r.points[r.first_at(r.worst)][0].number,
        )
        for r in others
    ]
    also += [
        msg(
            _ALSO[(True, True)], instrument=instrument_word(rise.instrument), n=rise.first[0].number
        )
        for rise in bare
        if rise is not lead
    ]
    if also:
        sentences.append(msg(N_("Also not on track: {instruments}."), instruments=also))
    if isinstance(lead, _Reading):
        sentences.append(_model_sentence(lead.model))
    label = instrument_word(instrument)
    shown = lead.model if isinstance(lead, _Reading) else readings[0].model if readings else None
    evidence: dict[str, JSON] = {
        **(_instrument_evidence(lead) if isinstance(lead, _Reading) else {}),
        "instrument": instrument,
        "instruments": {r.model.instrument: _instrument_evidence(r) for r in readings},
        "reliable_deterioration": {
            rise.instrument: _rise_evidence(rise)
            for rise in [r.rise for r in readings if r.rise is not None] + bare
        },
        "yellow_percentile": shown.yellow_percentile if shown else None,
        "red_percentile": shown.red_percentile if shown else None,
        "jump_percentile": shown.jump_percentile if shown else None,
        "persistence": settings.not_on_track_persistence,
    }
    return [
        Finding(
            kind="not_on_track",
            severity=severity,
            key=make_key("not_on_track", series.episode_id),
            session_number=number,
            appointment_id=session.appointment_id,
            **alert_text(
                title=msg(_TITLES[severity], instrument=label),
                explanation=sentences,
                suggestion=suggestion_for("not_on_track").message,
                evidence=evidence,
            ),
            episode_id=series.episode_id,
            instrument=instrument,
        )
    ]


_TITLES: dict[str, str] = {
    "yellow": N_("{instrument}: not on track (yellow)"),
    "red": N_("{instrument}: not on track (red)"),
}
# (red?, a reliable deterioration?) -> how another instrument is listed.
_ALSO: dict[tuple[bool, bool], str] = {
    (True, False): N_("{instrument} (red from session {n})"),
    (False, False): N_("{instrument} (yellow from session {n})"),
    (True, True): N_("{instrument} (red from session {n}, a reliable deterioration)"),
    (False, True): N_("{instrument} (yellow from session {n}, a reliable deterioration)"),
}
_LEVELS: dict[str, str] = {"yellow": N_("yellow"), "red": N_("red")}


def _rise_sentence(rise: ReliableRise, *, leads: bool) -> Msg:
    session, value = rise.first
    start = (
        Msg(N_("at intake"))
        if rise.intake_session is None
        else msg(N_("at session {n}"), n=rise.intake_session)
    )
    params: dict[str, Param] = {
        "instrument": instrument_word(rise.instrument),
        "intake": number(rise.intake, 0),
        "start": start,
        "score": number(value, 0),
        "n": session.number,
        "change": signed(value - rise.intake, 0),
        "threshold": number(rise.threshold, 0),
    }
    if leads:
        return Msg(
            N_(
                "{instrument} rose from {intake} {start} to {score} at session {n} ({change} "
                "points; a rise of {threshold} or more is a reliable deterioration): a client whose "
                "score has reliably deteriorated is not on track, whatever the expected curve says, "
                "so this alert is red from that session on."
            ),
            params,
        )
    return Msg(
        N_(
            "Since session {n} it has also reliably deteriorated: rose from {intake} {start} to "
            "{score} at session {n} ({change} points; a rise of {threshold} or more is a reliable "
            "deterioration)."
        ),
        params,
    )


def _curve_sentence(reading: _Reading, i: int) -> Msg:
    course = reading.course
    return msg(
        N_(
            "Against the expected course that score is {difference} points above what {who} at "
            "{intake} are expected to score by then ({expected})."
        ),
        difference=signed(course.residual[i]),
        who=_who(reading.model),
        intake=number(reading.intake, 0),
        expected=number(course.expected[i]),
    )


def _earlier_sentence(reading: _Reading, first_red: int) -> list[Msg]:
    """When the reading was already yellow before its reliable rise, say since when."""
    before = [i for i in range(first_red) if reading.levels[i] == "yellow"]
    if not before:
        return []
    return [
        msg(
            N_("It had been not on track (yellow) since session {n}."),
            n=reading.points[before[0]][0].number,
        )
    ]


def _rise_evidence(rise: ReliableRise) -> dict[str, JSON]:
    session, value = rise.first
    return {
        "intake": r3(rise.intake),
        "intake_session": rise.intake_session,
        "threshold": r3(rise.threshold),
        "first_session": session.number,
        "first_score": r3(value),
        "rise": r3(value - rise.intake),
        "latest_session": rise.latest[0].number,
        "latest_score": r3(rise.latest[1]),
        "currently_deteriorated": rise.current,
    }


def _who(model: TrajectoryModel) -> Msg:
    if model.source == "default":
        return Msg(N_("clients who start"))
    return Msg(N_("clients in this clinic who started"))


_OWN_DEVIATION = NP_(
    "Allowing for session-to-session ups and downs, the client's own deviation is estimated at "
    "{estimate} points, beyond the {level} boundary for {count} score ({boundary}, the {percentile} "
    "percentile of this estimate among the clinic's clients).",
    "Allowing for session-to-session ups and downs, the client's own deviation is estimated at "
    "{estimate} points, beyond the {level} boundary for {count} scores ({boundary}, the "
    "{percentile} percentile of this estimate among the clinic's clients).",
)


def _lead_sentence(
    reading: _Reading, i: int, severity: Severity, settings: AlertSettings
) -> list[Msg]:
    model, course = reading.model, reading.course
    label = instrument_word(model.instrument)
    number_ = reading.points[i][0].number
    observed = reading.points[i][1]
    trigger = course.triggers[i]
    if severity == "red" and trigger == "jump":
        return [
            msg(
                N_(
                    "{instrument} at session {n} was {score}; {who} at {intake} are expected to "
                    "score about {expected} by then. That single score is {difference} points "
                    "against expectation, beyond the red boundary for one score ({boundary}, the "
                    "{percentile} percentile of differences)."
                ),
                instrument=label,
                n=number_,
                score=number(observed, 0),
                who=_who(model),
                intake=number(reading.intake, 0),
                expected=number(course.expected[i]),
                difference=signed(course.residual[i]),
                boundary=signed(course.jump[i]),
                percentile=ordinal(model.jump_percentile or model.red_percentile),
            )
        ]
    scores = i + 1
    pct = model.red_percentile if severity == "red" else model.yellow_percentile
    boundary = course.red[i] if severity == "red" else course.yellow[i]
    text: list[Msg]
    if scores == 1:
        text = [
            msg(
                N_(
                    "{instrument} at session {n} was {score}, {difference} points against what "
                    "{who} at {intake} are expected to score by then ({expected})."
                ),
                instrument=label,
                n=number_,
                score=number(observed, 0),
                difference=signed(course.residual[i]),
                who=_who(model),
                intake=number(reading.intake, 0),
                expected=number(course.expected[i]),
            )
        ]
    else:
        shown: list[Item] = [number(v, 0) for _, v in reading.points[: i + 1][-6:]]
        mean = float(course.residual[: i + 1].mean())
        text = [
            msg(
                N_(
                    "{instrument} has run above the expected course: over {count} scores since "
                    "intake up to session {n} ({scores}), it was on average {difference} points "
                    "against what {who} at {intake} are expected to score."
                ),
                instrument=label,
                count=scores,
                n=number_,
                scores=comma_list(shown),
                difference=signed(mean),
                who=_who(model),
                intake=number(reading.intake, 0),
            )
        ]
    text.append(
        plural(
            _OWN_DEVIATION,
            scores,
            estimate=signed(course.estimate[i]),
            level=Msg(_LEVELS[severity]),
            count=scores,
            boundary=signed(boundary),
            percentile=ordinal(pct),
        )
    )
    if severity == "yellow" and settings.not_on_track_persistence > 1:
        run = settings.not_on_track_persistence
        numbers: list[Item] = [s.number for s, _ in reading.points[i - run + 1 : i + 1]]
        text.append(
            msg(
                N_("It was at yellow or worse at {run} scores in a row (sessions {numbers})."),
                run=run,
                numbers=numbers,
            )
        )
    return text


def _latest_sentence(reading: _Reading, first: int) -> Msg | None:
    j = len(reading.points) - 1
    if j == first:
        return None
    number_, value = reading.points[j][0].number, reading.points[j][1]
    estimate = signed(reading.course.estimate[j])
    rise = reading.rise
    if rise is not None and reading.rise_index is not None and reading.rise_index <= j:
        worded = (
            N_(
                "Latest score (session {n}): {score}, {change} from intake: still a reliable "
                "deterioration (own deviation from the expected course now {estimate})."
            )
            if rise.current
            else N_(
                "Latest score (session {n}): {score}, {change} from intake: below the "
                "reliable-deterioration amount now, but the alert stays red because the rise was "
                "reliable (own deviation from the expected course now {estimate})."
            )
        )
        return msg(
            worded,
            n=number_,
            score=number(value, 0),
            change=signed(value - rise.intake, 0),
            estimate=estimate,
        )
    level = reading.levels[j]
    if level == "on_track":
        return msg(
            N_(
                "Latest score (session {n}): {score}, own deviation now {estimate}, back within the "
                "expected range."
            ),
            n=number_,
            score=number(value, 0),
            estimate=estimate,
        )
    return msg(
        N_(
            "Latest score (session {n}): {score}, own deviation now {estimate}, still beyond the "
            "{level} boundary."
        ),
        n=number_,
        score=number(value, 0),
        estimate=estimate,
        level=Msg(_LEVELS.get(level, level)),
    )


def _instrument_evidence(reading: _Reading) -> dict[str, JSON]:
    course = reading.course
    rows: list[JSON] = [
        {
            "session": s.number,
            "observed": r3(v),
            "expected": r3(course.expected[i]),
            "difference": r3(course.residual[i]),
            "own_deviation": r3(course.estimate[i]),
            "yellow_boundary": r3(course.yellow[i]),
            "red_boundary": r3(course.red[i]),
            "jump_boundary": r3(course.jump[i]),
            "level": reading.levels[i],
        }
        for i, (s, v) in enumerate(reading.points)
        if reading.levels[i] != "on_track"
    ]
    worst = reading.worst
    j = len(reading.points) - 1
    return {
        "instrument": reading.model.instrument,
        "model_source": reading.model.source,
        "model_reason": reading.model.reason,
        "intake": r3(reading.intake),
        "intake_session": reading.intake_session,
        "flagged_sessions": rows,
        "first_worst_session": (
            reading.points[reading.first_at(worst)][0].number if worst > 0 else None
        ),
        "latest_session": reading.points[j][0].number,
        "latest_level": reading.levels[j],
        "latest_own_deviation": r3(course.estimate[j]),
    }


def _model_sentence(model: TrajectoryModel) -> Msg:
    if model.source == "clinic":
        return msg(N_("Expected curve: {reason}."), reason=_reason(model.reason))
    return msg(
        N_(
            "Expected curve: the project's default curve, because {reason}; the default curve is an "
            "unverified assumption, so read this flag with care."
        ),
        reason=_reason(model.reason),
    )


# The curve's reason is written when the norms are fitted (alliance.alerts.trajectory and norms) and
# cached with them as English; it is read back into a message here so that a reader in another
# language sees it translated. A reason in any other wording is shown as it is.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"no curve has been computed for this clinic yet"),
        N_("no curve has been computed for this clinic yet"),
    ),
    (
        re.compile(
            r"this clinic has too few completed episodes to fit its own curve \((?P<episodes>\d+) "
            r"episodes and (?P<scores>\d+) scores after intake; (?P<min_episodes>\d+) and "
            r"(?P<min_scores>\d+) needed\)"
        ),
        N_(
            "this clinic has too few completed episodes to fit its own curve ({episodes} episodes "
            "and {scores} scores after intake; {min_episodes} and {min_scores} needed)"
        ),
    ),
    (
        re.compile(
            r"fitted on this clinic's completed episodes \((?P<episodes>\d+) episodes, "
            r"(?P<scores>\d+) scores\)"
        ),
        N_("fitted on this clinic's completed episodes ({episodes} episodes, {scores} scores)"),
    ),
    (
        re.compile(
            r"fitted on this clinic's completed episodes \((?P<episodes>\d+) episodes, "
            r"(?P<scores>\d+) scores; curve from a seeded subsample of (?P<subsample>\d+)\)"
        ),
        N_(
            "fitted on this clinic's completed episodes ({episodes} episodes, {scores} scores; "
            "curve from a seeded subsample of {subsample})"
        ),
    ),
    (
        re.compile(r"the mixed model did not converge \((?P<details>.*)\)"),
        N_("the mixed model did not converge ({details})"),
    ),
)


def _reason(reason: str) -> Param:
    for pattern, message in _REASONS:
        match = pattern.fullmatch(reason)
        if match is None:
            continue
        params: dict[str, Param] = {
            k: (int(v) if v.isdigit() else v) for k, v in match.groupdict().items()
        }
        worded = Msg(message, params)
        if render(worded) == reason:
            return worded
    return reason
