"""Rule 2 — ruptures in the alliance, and whether they were repaired.

A rupture is a deterioration in the alliance: disagreement on goals, lack of collaboration on
tasks, or a strain in the bond (Eubanks, Muran & Safran 2018). The research has no single
numeric rule, so the markers are configurable (docs/clinical.md#alliance-ruptures-and-repair):

- **drop** — the client's check-in total, or one dimension, falls from the previous check-in by
  at least ``rupture_k`` x the client's own SD of session-to-session change *and* by at least
  ``rupture_min_drop`` points (``rupture_min_drop_dimension`` for a single 0-10 item, which is
  noisier than the mean of four). The SD uses only check-ins *before* the drop, so the drop does
  not inflate its own yardstick and a finding never changes when later sessions arrive. With
  fewer than ``rupture_min_prior_changes`` earlier changes, ``rupture_fallback_sd`` is used; the
  SD is never taken below ``rupture_min_sd``. Adding a constant to every check-in leaves every
  change, hence this rule, unchanged.
- **floor** — the total or a dimension is below ``rupture_floor`` while the previous check-in on
  that measure was not (a first check-in below the floor counts too). Staying below the floor
  does not raise a new alert each session: the open one stays open (and becomes unresolved).
- **concern** — the client wrote something in "What could have been better today?" that is more
  than "nothing to add" (the Django side decides that without passing the text here; see
  ``alliance.care.comments``).
- **no_show** — a missed session without notice is relationship material (docs/clinical.md), so by
  default (``no_show_as = "rupture"``) it is a rupture marker with the same repair tracking.

All markers at one session form one finding, keyed ``rupture:ep<id>:s<n>``. Severity: ``red``
when a drop or floor marker fired (a measured fall), ``yellow`` for a concern or no-show alone.
Issue 12 (fewer, steadier alerts): a measured fall raises its alert at once; a concern or no-show
alone raises one only at ``rupture_marker_persistence`` appointments in a row (default 2;
cancellations with notice are skipped, any other appointment breaks the run), keyed at the first
and dated at the last; and a marker within the repair window of an earlier rupture joins that
rupture's alert (``later_markers``, "Since then: ...") instead of raising a new one. The client's
words are never lost: they stay in the client's record, brief and session page.

Repair (docs/clinical.md, default m = 2): within the next ``repair_window_sessions`` sessions that
took place, a client check-in in which every measure that fell is back to at least its
pre-drop level (and, when concerns count as markers, no new concern was written). For a concern
or no-show the target is the previous check-in total; with no previous check-in, any later
check-in without a concern counts. Repaired ruptures go with better outcomes (r = .29, Eubanks
et al. 2018); unrepaired ones predicted worse outcome (McLaughlin 2014).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ._text import EPS, chain, measure_word
from .findings import JSON, Finding, Severity, make_key
from .message import N_, NP_, Item, Msg, alert_text, msg, number, plural, sessions, signed
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, Session

RuleName = Literal["drop", "floor", "concern", "no_show"]


@dataclass(frozen=True)
class UsualChange:
    """The client's usual session-to-session variation on one measure."""

    sd: float
    source: Literal["own", "own_minimum", "fallback"]
    n_changes: int


def usual_change(history: Sequence[float], settings: AlertSettings) -> UsualChange:
    """SD of successive differences of ``history`` (sample SD), with the documented guards."""
    changes = [b - a for a, b in itertools.pairwise(history)]
    if len(changes) < settings.rupture_min_prior_changes:
        return UsualChange(settings.rupture_fallback_sd, "fallback", len(changes))
    sd = _sample_sd(changes)
    if sd < settings.rupture_min_sd:
        return UsualChange(settings.rupture_min_sd, "own_minimum", len(changes))
    return UsualChange(sd, "own", len(changes))


def _sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation in plain floats.

    ``statistics.stdev`` computes with exact fractions, which made it most of the cost of a
    whole-clinic recompute; check-in values are tenths on 0-10, where floats are exact enough.
    """
    n = len(values)
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


@dataclass(frozen=True)
class MeasureFall:
    """How one measure (``total`` or a dimension) fell at a session."""

    measure: str
    previous: float | None
    current: float
    rules: tuple[RuleName, ...]
    usual: UsualChange | None
    threshold: float | None

    @property
    def drop(self) -> float | None:
        return None if self.previous is None else self.previous - self.current

    @property
    def target(self) -> float:
        """Level the measure must return to for repair."""
        return self.previous if self.previous is not None else self.current

    def as_json(self) -> dict[str, JSON]:
        return {
            "previous": self.previous,
            "current": self.current,
            "drop": None if self.drop is None else round(self.drop, 3),
            "usual_change_sd": None if self.usual is None else round(self.usual.sd, 3),
            "sd_source": None if self.usual is None else self.usual.source,
            "ratio": (
                None
                if self.usual is None or self.drop is None
                else round(self.drop / self.usual.sd, 3)
            ),
            "threshold": None if self.threshold is None else round(self.threshold, 3),
            "rules": list(self.rules),
        }


def _measures(settings: AlertSettings) -> tuple[str, ...]:
    return ("total", *settings.rupture_dimensions)


def _min_drop(measure: str, settings: AlertSettings) -> float:
    """One item is noisier than the mean of four, so a single dimension must fall further."""
    return settings.rupture_min_drop if measure == "total" else settings.rupture_min_drop_dimension


def _measure_falls(
    history: Mapping[str, list[float]], session: Session, settings: AlertSettings
) -> list[MeasureFall]:
    checkin = session.client_checkin
    assert checkin is not None
    falls: list[MeasureFall] = []
    for measure in _measures(settings):
        current = checkin.value(measure)
        if current is None:
            continue
        past = history.get(measure, [])
        previous = past[-1] if past else None
        rules: list[RuleName] = []
        usual: UsualChange | None = None
        threshold: float | None = None
        below = current < settings.rupture_floor - EPS
        was_below = previous is not None and previous < settings.rupture_floor - EPS
        crosses_floor = below and not was_below
        # The threshold is never below the minimum drop, so the client's usual variation (the costly
        # part) is only needed when the drop could qualify or the measure is reported anyway.
        min_drop = _min_drop(measure, settings)
        if previous is not None and (previous - current >= min_drop - EPS or crosses_floor):
            usual = usual_change(past, settings)
            threshold = max(settings.rupture_k * usual.sd, min_drop)
            drop = previous - current
            if drop > 0 and drop >= threshold - EPS:
                rules.append("drop")
        if crosses_floor:
            rules.append("floor")
        if rules:
            falls.append(MeasureFall(measure, previous, current, tuple(rules), usual, threshold))
    return falls


@dataclass(frozen=True)
class _Marked:
    """An appointment where at least one rupture marker fired."""

    session: Session
    rules: tuple[RuleName, ...]
    falls: tuple[MeasureFall, ...]
    previous_total: float | None

    @property
    def measured(self) -> bool:
        return bool(self.falls)


def _marked_sessions(series: EpisodeSeries, settings: AlertSettings) -> list[_Marked | None]:
    """For each appointment that happened (or was missed), its markers, or None."""
    out: list[_Marked | None] = []
    history: dict[str, list[float]] = {m: [] for m in _measures(settings)}
    for session in series.sessions:
        if session.attendance == "cancelled" or (
            session.attendance == "scheduled" and not session.took_place
        ):
            # Cancelled with notice, or not yet: neither a marker nor a break. A check-in for an
            # appointment whose attendance is not recorded yet shows it took place: it is read.
            continue
        rules: list[RuleName] = []
        falls: list[MeasureFall] = []
        checkin = session.client_checkin
        if session.attendance == "no_show" and settings.no_show_as == "rupture":
            rules.append("no_show")
        if checkin is not None:
            falls = _measure_falls(history, session, settings)
            for fall in falls:
                rules.extend(r for r in fall.rules if r not in rules)
            if checkin.concern and settings.concern_is_rupture:
                rules.append("concern")
        previous_total = history["total"][-1] if history["total"] else None
        out.append(
            _Marked(session, tuple(_order(rules)), tuple(falls), previous_total) if rules else None
        )
        if checkin is not None:
            for measure in history:
                value = checkin.value(measure)
                if value is not None:
                    history[measure].append(float(value))
    return out


def rupture_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    """One finding per rupture: a measured fall (red) at once; a concern or no-show alone
    (yellow) only at ``rupture_marker_persistence`` appointments in a row; markers inside the
    repair window of an earlier rupture join that rupture's alert."""
    marked = _marked_sessions(series, settings)
    groups: list[_Group] = []
    run: list[_Marked] = []  # the current run of unmeasured markers not yet an alert
    for mark in marked:
        if mark is None:
            run = []
            continue
        if mark.measured:
            groups.append(_Group(mark, [mark]))
            run = []
            continue
        host = groups[-1] if groups else None
        if host is not None and _within_window(series, host.dated.session, mark.session, settings):
            host.later.append(mark)
            run = []
            continue
        run.append(mark)
        if len(run) >= settings.rupture_marker_persistence:
            groups.append(_Group(run[-1], list(run)))
            run = []
    return [_finding(series, g, settings) for g in groups]


@dataclass
class _Group:
    """One rupture alert: the appointment it is dated at, the markers that raised it (the first
    names the key) and markers that came later within its repair window."""

    dated: _Marked
    raised_by: list[_Marked]
    later: list[_Marked] = field(default_factory=list)


def _within_window(
    series: EpisodeSeries, rupture: Session, later: Session, settings: AlertSettings
) -> bool:
    """``later`` comes before the rupture's repair window has closed (fewer than
    ``repair_window_sessions`` sessions took place between them)."""
    took_place = sum(
        1 for s in series.sessions if rupture.number < s.number < later.number and s.took_place
    )
    return took_place < settings.repair_window_sessions


def _order(rules: Sequence[RuleName]) -> list[RuleName]:
    canonical: tuple[RuleName, ...] = ("drop", "floor", "concern", "no_show")
    return [r for r in canonical if r in rules]


def _finding(series: EpisodeSeries, group: _Group, settings: AlertSettings) -> Finding:
    first, dated = group.raised_by[0], group.dated
    session = dated.session
    falls = dated.falls
    rules = _order([r for m in group.raised_by for r in m.rules])
    measured = bool(falls)
    severity: Severity = "red" if measured else "yellow"
    previous_total = first.previous_total
    targets: dict[str, float] = {f.measure: f.target for f in falls}
    if not targets and previous_total is not None:
        targets["total"] = previous_total
    if measured:
        variant = None
    elif "no_show" in rules and "concern" not in rules:
        variant = "no_show"
    else:
        variant = "concern"

    sentences = _falls_text(falls, settings)
    concerns = [m.session.number for m in group.raised_by if "concern" in m.rules]
    no_shows = [m.session.number for m in group.raised_by if "no_show" in m.rules]
    if concerns:
        sentences.append(msg(_CONCERN_SENTENCE, sessions=sessions(concerns)))
    if no_shows:
        sentences.append(plural(_MISSED_SENTENCE, len(no_shows), numbers=list(no_shows)))
    if not measured and len(group.raised_by) > 1:
        sentences.append(msg(_MARKERS_SENTENCE, n=len(group.raised_by)))
    if group.later:
        sentences.append(msg(N_("Since then: {markers}."), markers=_later_text(group.later)))
    window = settings.repair_window_sessions
    if targets:
        levels: list[Item] = [
            msg(N_("{measure} {level}"), measure=measure_word(m), level=number(v))
            for m, v in targets.items()
        ]
        sentences.append(plural(_REPAIR_LEVEL, window, levels=levels, window=window))
    else:
        sentences.append(plural(_REPAIR_CONCERN, window, window=window))
    fallen = tuple(f.measure for f in falls)
    title = {
        "red": N_("Possible rupture: the check-in fell"),
        "yellow": (
            N_("Possible rupture: missed sessions without notice")
            if variant == "no_show"
            else N_("Possible rupture: the client named a concern")
        ),
    }[severity]
    evidence: dict[str, JSON] = {
        "session": session.number,
        "rules": list(rules),
        "measures": {f.measure: f.as_json() for f in falls},
        "previous_total": previous_total,
        "repair_targets": dict(targets),
        "repair_window_sessions": window,
        "concern": bool(session.client_checkin and session.client_checkin.concern),
        "marker_sessions": [m.session.number for m in group.raised_by],
        "later_markers": [
            {"session": m.session.number, "rules": list(m.rules)} for m in group.later
        ],
    }
    return Finding(
        kind="rupture",
        severity=severity,
        key=make_key("rupture", series.episode_id, f"s{first.session.number}"),
        session_number=session.number,
        appointment_id=session.appointment_id,
        **alert_text(
            title=Msg(title),
            explanation=sentences,
            suggestion=suggestion_for("rupture", variant).message,
            evidence=evidence,
        ),
        pre_drop_level=previous_total,
        episode_id=series.episode_id,
        dimensions=fallen,
    )


_CONCERN_SENTENCE = N_(
    "The client wrote something in answer to “What could have been better today?” at "
    "{sessions} (read it in the client's record)."
)
_MISSED_SENTENCE = NP_(
    "Session {numbers} was missed without notice; a missed session is relationship material, not "
    "only an administrative event, so it is treated as a rupture marker.",
    "Sessions {numbers} were missed without notice; a missed session is relationship material, "
    "not only an administrative event, so it is treated as a rupture marker.",
)
_MARKERS_SENTENCE = N_(
    "Markers came at {n} appointments in a row; a single concern or missed session does not raise "
    "an alert on its own."
)
_REPAIR_LEVEL = NP_(
    "It counts as repaired if the check-in returns to at least its earlier level ({levels}) within "
    "the next {window} session that take place.",
    "It counts as repaired if the check-in returns to at least its earlier level ({levels}) within "
    "the next {window} sessions that take place.",
)
_REPAIR_CONCERN = NP_(
    "It counts as repaired if a check-in without a new concern follows within the next {window} "
    "session that take place.",
    "It counts as repaired if a check-in without a new concern follows within the next {window} "
    "sessions that take place.",
)


def _later_text(later: Sequence[_Marked]) -> Msg:
    parts: list[Msg] = []
    for m in later:
        n = m.session.number
        if "no_show" in m.rules:
            parts.append(msg(N_("session {n} was missed without notice"), n=n))
        if "concern" in m.rules:
            parts.append(msg(N_("the client wrote something at session {n}"), n=n))
    return chain(parts)


def _lead_name(measure: str) -> Msg:
    if measure == "total":
        return Msg(N_("The check-in total"))
    return msg(N_("The {measure} rating"), measure=measure_word(measure))


def _falls_text(falls: Sequence[MeasureFall], settings: AlertSettings) -> list[Msg]:
    """One full sentence for the main drop, a compact list for the rest, then the floor."""
    sentences: list[Msg] = []
    drops = [f for f in falls if "drop" in f.rules and f.usual is not None]
    if drops:
        lead = next((f for f in drops if f.measure == "total"), None) or max(
            drops, key=lambda f: (f.drop or 0) / f.usual.sd if f.usual else 0
        )
        sentences.append(_drop_sentence(lead, settings))
        others = [f for f in drops if f is not lead]
        if others:
            fell: list[Item] = [
                msg(
                    N_("{measure} {previous} → {current} ({ratio}×)"),  # noqa: RUF001
                    measure=measure_word(f.measure),
                    previous=number(f.previous or 0),
                    current=number(f.current),
                    ratio=number((f.drop or 0) / f.usual.sd),
                )
                for f in others
                if f.usual is not None
            ]
            sentences.append(msg(N_("Also fell by at least the threshold: {falls}."), falls=fell))
    floors = [f for f in falls if "floor" in f.rules]
    if floors:
        below: list[Item] = [
            msg(
                N_("{measure} {current}"),
                measure=measure_word(f.measure),
                current=number(f.current),
            )
            if f.previous is None or f in drops
            else msg(
                N_("{measure} {current} (was {previous})"),
                measure=measure_word(f.measure),
                current=number(f.current),
                previous=number(f.previous),
            )
            for f in floors
        ]
        sentences.append(
            msg(
                N_("Now below the floor of {floor}: {measures}."),
                floor=number(settings.rupture_floor),
                measures=below,
            )
        )
    return sentences


_FALLBACK_USUAL = NP_(
    "there are too few earlier check-ins to know this client's usual variation ({n} earlier "
    "change, {needed} needed), so a default of ±{sd} was used; the drop is {ratio} times that",
    "there are too few earlier check-ins to know this client's usual variation ({n} earlier "
    "changes, {needed} needed), so a default of ±{sd} was used; the drop is {ratio} times that",
)


def _drop_sentence(fall: MeasureFall, settings: AlertSettings) -> Msg:
    assert fall.previous is not None and fall.usual is not None
    drop = fall.previous - fall.current
    ratio = drop / fall.usual.sd
    usual: Msg
    if fall.usual.source == "fallback":
        usual = plural(
            _FALLBACK_USUAL,
            fall.usual.n_changes,
            n=fall.usual.n_changes,
            needed=settings.rupture_min_prior_changes,
            sd=number(fall.usual.sd),
            ratio=number(ratio),
        )
    elif fall.usual.source == "own_minimum":
        usual = msg(
            N_(
                "this client's usual session-to-session change is ±{sd} (the minimum "
                "assumed), so the drop is {ratio} times their usual variation"
            ),
            sd=number(fall.usual.sd),
            ratio=number(ratio),
        )
    else:
        usual = msg(
            N_(
                "this client's usual session-to-session change is ±{sd}, so the drop is "
                "{ratio} times their usual variation"
            ),
            sd=number(fall.usual.sd),
            ratio=number(ratio),
        )
    return msg(
        N_(
            "{lead} fell from {previous} to {current} ({change} points); {usual} (threshold "
            "{k}×, and at least {min_drop} points)."  # noqa: RUF001
        ),
        lead=_lead_name(fall.measure),
        previous=number(fall.previous),
        current=number(fall.current),
        change=signed(-drop),
        usual=usual,
        k=number(settings.rupture_k),
        min_drop=number(_min_drop(fall.measure, settings)),
    )


RepairState = Literal["pending", "repaired", "unresolved"]


@dataclass(frozen=True)
class RepairOutcome:
    """Whether a rupture was repaired; ``session_number`` is where that was decided."""

    state: RepairState
    session_number: int | None
    sessions_checked: tuple[int, ...]


def repair_outcome(
    series: EpisodeSeries,
    rupture_session: int,
    targets: Mapping[str, float],
    settings: AlertSettings,
) -> RepairOutcome:
    """Repaired / unresolved / still pending, looking at the sessions after the rupture."""
    window = settings.repair_window_sessions
    after = [s for s in series.sessions if s.number > rupture_session and s.took_place][:window]
    for session in after:
        checkin = session.client_checkin
        if checkin is None:
            continue
        if settings.concern_is_rupture and checkin.concern:
            continue
        if all(_at_least(checkin.value(m), level) for m, level in targets.items()):
            return RepairOutcome("repaired", session.number, tuple(s.number for s in after))
    if len(after) >= window:
        return RepairOutcome("unresolved", after[-1].number, tuple(s.number for s in after))
    return RepairOutcome("pending", None, tuple(s.number for s in after))


def _at_least(value: float | None, level: float) -> bool:
    return value is not None and value >= level - EPS


def repair_targets(evidence: Mapping[str, JSON]) -> dict[str, float] | None:
    """Read ``repair_targets`` back from stored or fresh evidence (``None`` if malformed)."""
    raw = evidence.get("repair_targets")
    if not isinstance(raw, dict):
        return None
    out: dict[str, float] = {}
    for measure, level in raw.items():
        if isinstance(level, bool) or not isinstance(level, int | float):
            return None
        out[measure] = float(level)
    return out
