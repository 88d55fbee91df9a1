"""The outcomes report: what happened to the clinic's clients in a period, with denominators.

`outcomes_report(data, start, end, ...)` takes plain records (`alliance.analytics.records`) and returns
a frozen tree whose `as_dict()` is plain JSON. The NHS Talking Therapies flags come from
`alliance.measures.nhs` (never re-derived here); docs/insights.md "Outcomes report" states every
definition with its source.

Decisions (where the brief left a choice)
  - Period: `start` and `end` are dates, both inclusive; None leaves that side open. A datetime counts
    on its own date (the Django side passes clinic-local datetimes).
  - Filters select *episodes* (therapist, language, intake band, end reason); appointments and
    responses follow their episode. Filtering by end reason leaves out active episodes.
  - The outcome cohort is the episodes that *ended* in the period (NHS Talking Therapies report on
    finished referrals). Recovery, improvement, deterioration, dropout, sessions per episode, the
    pre-post effect sizes and "ended with a last score" are all over that cohort.
  - "Started" means the first *attended* appointment falls in the period (an episode opened but
    never attended has not started treatment); "active at period end" uses the episode's own
    `started_on`/`ended_on` (open on that day), and with no end date it means "not ended".
  - Attendance: an appointment is *due* when it stayed booked until its time: attended, cancelled
    late, or not attended (no-show). Cancellations made with notice are not due (the slot could be
    offered again), and "scheduled" ones have not happened or were never recorded. So attendance,
    late-cancellation and no-show (the clinic's "DNA rate") rates share the denominator "due" and add
    up to 1. Note that the older clinic overview counted cancellations with notice in its
    denominator; this report does not. Appointments still marked "scheduled" before `as_of` are
    counted as *attendance not recorded*, a data gap, not a rate.
  - Sessions per episode counts attended appointments of ended episodes, zeros included (an episode
    that ended without a session is part of the picture, e.g. for dropout).
  - The pre-post effect size per measure uses, for each ended episode with scores on two or more
    dates, the first and the last score by time (`alliance.analytics.intervals.prepost_effect`). Two
    scores on one date count as one, the later (a correction), as in `alliance.measures.nhs`.
  - Completeness: a session "has an outcome measure" when a client PHQ-9 or GAD-7 with a total is
    linked to that session (same episode, same session number); likewise for the check-in. An ended
    episode "has a last score" when a PHQ-9 or GAD-7 total was given at its last attended session or
    on/after that session's date; episodes that ended without an attended session are left out of
    that denominator (there is no last session to measure).
  - Intake band: the PHQ-9 severity band (the instrument's own bands, `alliance.measures`) of the
    episode's first PHQ-9 total (the later one if corrected on that date); "none" when the episode
    has no PHQ-9.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from functools import cache, cached_property
from typing import Any

from alliance.analytics.intervals import (
    MeanInterval,
    PrePostEffect,
    Rate,
    mean_interval,
    prepost_effect,
    rate,
)
from alliance.analytics.phrases import gettext_noop
from alliance.analytics.records import (
    END_REASONS,
    AppointmentRecord,
    ClinicData,
    EpisodeRecord,
    ResponseRecord,
)
from alliance.measures import get_instrument
from alliance.measures.nhs import (
    GAD7,
    PHQ9,
    RECOVERY_TARGET,
    EpisodeOutcome,
    Measurement,
    definitions,
    episode_outcome,
    summarise,
)

OUTCOME_INSTRUMENTS = (PHQ9, GAD7)
CHECKIN = "checkin"
NO_BAND = "none"  # the intake band of an episode without a PHQ-9
DUE = ("attended", "late_cancel", "no_show")  # stayed booked until its time (see the docstring)


# --- result types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    therapist: str | None = None
    language: str | None = None
    intake_band: str | None = None  # a PHQ-9 band key, or "none"
    end_reason: str | None = None  # one of records.END_REASONS


@dataclass(frozen=True)
class Counts:
    referrals: int  # referred_on in the period
    started: int  # first attended appointment in the period
    finished: int  # ended_on in the period
    active_at_end: int  # open on the period's last day (not ended, when the period is open)


@dataclass(frozen=True)
class NhsRates:
    """NHS Talking Therapies rates over the episodes that ended in the period."""

    ended: int
    finished_course: int  # ended with >= MIN_ATTENDED_FOR_FINISHED attended appointments
    eligible: int  # finished a course with two paired PHQ-9 + GAD-7 dates
    case_at_start: int  # eligible and a case at the first paired date
    recovery: Rate  # over case_at_start
    reliable_recovery: Rate  # over case_at_start
    reliable_improvement: Rate  # over eligible
    reliable_deterioration: Rate  # over eligible
    recovery_target: float = RECOVERY_TARGET
    definitions: Mapping[str, Any] = field(default_factory=definitions)


@dataclass(frozen=True)
class Attendance:
    due: int  # attended + late_cancel + no_show, dated in the period
    attended: Rate
    late_cancel: Rate
    no_show: Rate  # the "DNA rate"
    cancelled_with_notice: int  # not due, listed so the total adds up
    not_recorded: int | None  # still "scheduled" before as_of; None without as_of


@dataclass(frozen=True)
class SessionsPerEpisode:
    episodes: int  # ended in the period
    mean: MeanInterval
    median: float | None


@dataclass(frozen=True)
class EffectSizes:
    phq9: PrePostEffect
    gad7: PrePostEffect


@dataclass(frozen=True)
class Completeness:
    sessions_with_outcome: Rate  # attended sessions in the period with a PHQ-9 or GAD-7
    sessions_with_checkin: Rate  # attended sessions in the period with a client check-in
    ended_with_last_score: Rate  # ended episodes (with an attended session) with a last score


@dataclass(frozen=True)
class BandOutcomes:
    band: str  # PHQ-9 band key, or "none"
    label: str  # English label; the pages translate from the key
    ended: int
    recovery: Rate
    reliable_improvement: Rate
    reliable_recovery: Rate
    reliable_deterioration: Rate
    dropout: Rate


@dataclass(frozen=True)
class OutcomesReport:
    start: date | None
    end: date | None
    as_of: date | None
    filters: Filters
    episodes: int  # episodes that pass the filters, whatever their dates
    counts: Counts
    nhs: NhsRates
    dropout: Rate  # end_reason "dropout" over episodes ended in the period
    attendance: Attendance
    sessions_per_episode: SessionsPerEpisode
    effect_sizes: EffectSizes
    completeness: Completeness
    by_intake_band: tuple[BandOutcomes, ...]

    def as_dict(self) -> dict[str, Any]:
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


def _plain(value: Any) -> Any:
    """JSON types only: dataclasses to dicts, dates to ISO strings, tuples to lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- intake band ---------------------------------------------------------------------------------


@cache
def _phq9_bands() -> tuple[tuple[str, float, str], ...]:
    """(key, lowest total, English label) from the PHQ-9 instrument file, lowest first."""
    bands = get_instrument(PHQ9).rules.bands
    return tuple((b.key, b.min, b.label("en")) for b in sorted(bands, key=lambda b: b.min))


def band_keys() -> tuple[str, ...]:
    """Every intake band key in severity order, then "none"."""
    return (*(key for key, _, _ in _phq9_bands()), NO_BAND)


def band_of(first_phq9: float | None) -> str:
    """The PHQ-9 band of a total: the highest band whose lower bound it reaches, as the scorer does
    (so a prorated 4.5 is still "minimal")."""
    if first_phq9 is None:
        return NO_BAND
    found = NO_BAND
    for key, low, _ in _phq9_bands():
        if low <= first_phq9:
            found = key
    return found


def _band_label(key: str) -> str:
    for band, _, label in _phq9_bands():
        if band == key:
            return label
    return gettext_noop("No PHQ-9")


# --- one episode's facts -----------------------------------------------------------------------


@dataclass
class _Episode:
    record: EpisodeRecord
    appointments: list[AppointmentRecord] = field(default_factory=list)
    responses: list[ResponseRecord] = field(default_factory=list)

    # Cached: read only after _select has attached every appointment and response.
    @cached_property
    def attended(self) -> list[AppointmentRecord]:
        return sorted(
            (a for a in self.appointments if a.attendance == "attended"),
            key=lambda a: (a.scheduled_at, a.session_number),
        )

    @cached_property
    def _scores(self) -> dict[str, list[ResponseRecord]]:
        by_instrument: dict[str, list[ResponseRecord]] = defaultdict(list)
        for r in sorted(self.responses, key=lambda r: r.submitted_at):
            if r.respondent == "client" and r.total is not None:
                by_instrument[r.instrument].append(r)
        return by_instrument

    def scores(self, instrument: str) -> list[ResponseRecord]:
        """Client totals of one instrument, oldest first (unscorable responses have no total)."""
        return self._scores.get(instrument, [])

    def first_and_last(self, instrument: str) -> tuple[float | None, float | None]:
        """The first and last total of a measure. Two given on one date count as one, the later
        (a correction), as `alliance.measures.nhs` reads them; with one date there is no last."""
        scores = self.scores(instrument)
        if not scores:
            return None, None
        first_day = scores[0].submitted_at.date()
        first = [r for r in scores if r.submitted_at.date() == first_day][-1].total
        last = scores[-1].total if scores[-1].submitted_at.date() != first_day else None
        return first, last

    def first_phq9(self) -> float | None:
        return self.first_and_last(PHQ9)[0]

    def nhs_outcome(self) -> EpisodeOutcome:
        # Each measure's scores are oldest first, so nhs keeps the later of two on one date.
        measurements = [
            Measurement(r.submitted_at.date(), r.instrument, float(r.total))
            for instrument in OUTCOME_INSTRUMENTS
            for r in self.scores(instrument)
            if r.total is not None
        ]
        return episode_outcome(measurements, len(self.attended), self.record.episode)

    def has_last_score(self) -> bool | None:
        """None when the episode never had an attended session (nothing to measure at its end)."""
        attended = self.attended
        if not attended:
            return None
        last = attended[-1]
        return any(
            r.session_number == last.session_number
            or r.submitted_at.date() >= last.scheduled_at.date()
            for instrument in OUTCOME_INSTRUMENTS
            for r in self.scores(instrument)
        )


def _in_period(day: date | None, start: date | None, end: date | None) -> bool:
    if day is None:
        return False
    return (start is None or day >= start) and (end is None or day <= end)


# --- the report --------------------------------------------------------------------------------


def outcomes_report(
    data: ClinicData,
    start: date | None = None,
    end: date | None = None,
    *,
    therapist: str | None = None,
    language: str | None = None,
    intake_band: str | None = None,
    end_reason: str | None = None,
    as_of: date | None = None,
) -> OutcomesReport:
    if start is not None and end is not None and start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    if end_reason is not None and end_reason not in END_REASONS:
        raise ValueError(f"end reason {end_reason!r} is not one of {', '.join(END_REASONS)}")
    if intake_band is not None and intake_band not in band_keys():
        raise ValueError(f"intake band {intake_band!r} is not one of {', '.join(band_keys())}")
    filters = Filters(therapist, language, intake_band, end_reason)
    episodes = _select(data, filters)

    ended = [e for e in episodes if _in_period(e.record.ended_on, start, end)]
    outcomes = {e.record.episode: e.nhs_outcome() for e in ended}
    bands = {e.record.episode: band_of(e.first_phq9()) for e in ended}

    return OutcomesReport(
        start=start,
        end=end,
        as_of=as_of,
        filters=filters,
        episodes=len(episodes),
        counts=_counts(episodes, start, end),
        nhs=_nhs_rates(len(ended), outcomes.values()),
        dropout=_dropout(ended),
        attendance=_attendance(episodes, start, end, as_of),
        sessions_per_episode=_sessions_per_episode(ended),
        effect_sizes=EffectSizes(
            phq9=prepost_effect(_first_last(ended, PHQ9)),
            gad7=prepost_effect(_first_last(ended, GAD7)),
        ),
        completeness=_completeness(episodes, ended, start, end),
        by_intake_band=_by_band(ended, outcomes, bands),
    )


def _select(data: ClinicData, filters: Filters) -> list[_Episode]:
    chosen: dict[str, _Episode] = {}
    for record in data.episodes:
        if filters.therapist is not None and record.therapist != filters.therapist:
            continue
        if filters.language is not None and record.language != filters.language:
            continue
        if filters.end_reason is not None and record.end_reason != filters.end_reason:
            continue
        chosen[record.episode] = _Episode(record)
    for appointment in data.appointments:
        if (found := chosen.get(appointment.episode)) is not None:
            found.appointments.append(appointment)
    for response in data.responses:
        if (found := chosen.get(response.episode)) is not None:
            found.responses.append(response)
    selected = list(chosen.values())
    if filters.intake_band is not None:
        selected = [e for e in selected if band_of(e.first_phq9()) == filters.intake_band]
    return selected


def _counts(episodes: list[_Episode], start: date | None, end: date | None) -> Counts:
    def started(e: _Episode) -> bool:
        attended = e.attended
        return bool(attended) and _in_period(attended[0].scheduled_at.date(), start, end)

    def active(e: _Episode) -> bool:
        ended_on = e.record.ended_on
        if end is None:
            return ended_on is None
        return e.record.started_on <= end and (ended_on is None or ended_on > end)

    return Counts(
        referrals=sum(_in_period(e.record.referred_on, start, end) for e in episodes),
        started=sum(started(e) for e in episodes),
        finished=sum(_in_period(e.record.ended_on, start, end) for e in episodes),
        active_at_end=sum(active(e) for e in episodes),
    )


def _nhs_rates(ended: int, outcomes: Iterable[EpisodeOutcome]) -> NhsRates:
    # Counts and denominators from alliance.measures.nhs.summarise; only the intervals are ours.
    s = summarise(outcomes)
    return NhsRates(
        ended=ended,
        finished_course=s.finished_course,
        eligible=s.eligible,
        case_at_start=s.case_at_start,
        recovery=rate(s.recovered, s.case_at_start),
        reliable_recovery=rate(s.reliable_recovery, s.case_at_start),
        reliable_improvement=rate(s.reliable_improvement, s.eligible),
        reliable_deterioration=rate(s.reliable_deterioration, s.eligible),
    )


def _dropout(ended: list[_Episode]) -> Rate:
    return rate(sum(e.record.end_reason == "dropout" for e in ended), len(ended))


def _attendance(
    episodes: list[_Episode], start: date | None, end: date | None, as_of: date | None
) -> Attendance:
    tally: dict[str, int] = defaultdict(int)
    not_recorded = 0
    for e in episodes:
        for a in e.appointments:
            day = a.scheduled_at.date()
            if not _in_period(day, start, end):
                continue
            tally[a.attendance] += 1
            if a.attendance == "scheduled" and as_of is not None and day < as_of:
                not_recorded += 1
    due = sum(tally[k] for k in DUE)
    return Attendance(
        due=due,
        attended=rate(tally["attended"], due),
        late_cancel=rate(tally["late_cancel"], due),
        no_show=rate(tally["no_show"], due),
        cancelled_with_notice=tally["cancelled"],
        not_recorded=not_recorded if as_of is not None else None,
    )


def _sessions_per_episode(ended: list[_Episode]) -> SessionsPerEpisode:
    counts = [len(e.attended) for e in ended]
    return SessionsPerEpisode(
        episodes=len(counts),
        mean=mean_interval(counts),
        median=float(statistics.median(counts)) if counts else None,
    )


def _first_last(ended: list[_Episode], instrument: str) -> list[tuple[float, float]]:
    pairs = []
    for e in ended:
        first, last = e.first_and_last(instrument)
        if first is not None and last is not None:
            pairs.append((first, last))
    return pairs


def _completeness(
    episodes: list[_Episode], ended: list[_Episode], start: date | None, end: date | None
) -> Completeness:
    sessions = with_outcome = with_checkin = 0
    for e in episodes:
        measured: set[int] = set()
        checked_in: set[int] = set()
        for r in e.responses:
            if r.respondent != "client" or r.total is None or r.session_number is None:
                continue
            if r.instrument in OUTCOME_INSTRUMENTS:
                measured.add(r.session_number)
            elif r.instrument == CHECKIN:
                checked_in.add(r.session_number)
        for a in e.attended:
            if _in_period(a.scheduled_at.date(), start, end):
                sessions += 1
                with_outcome += a.session_number in measured
                with_checkin += a.session_number in checked_in
    last_scores = [flag for flag in (e.has_last_score() for e in ended) if flag is not None]
    return Completeness(
        sessions_with_outcome=rate(with_outcome, sessions),
        sessions_with_checkin=rate(with_checkin, sessions),
        ended_with_last_score=rate(sum(last_scores), len(last_scores)),
    )


def _by_band(
    ended: list[_Episode], outcomes: Mapping[str, EpisodeOutcome], bands: Mapping[str, str]
) -> tuple[BandOutcomes, ...]:
    grouped: dict[str, list[_Episode]] = defaultdict(list)
    for e in ended:
        grouped[bands[e.record.episode]].append(e)
    result = []
    for key in band_keys():
        members = grouped.get(key, [])
        if not members:
            continue
        nhs = _nhs_rates(len(members), (outcomes[e.record.episode] for e in members))
        result.append(
            BandOutcomes(
                band=key,
                label=_band_label(key),
                ended=len(members),
                recovery=nhs.recovery,
                reliable_improvement=nhs.reliable_improvement,
                reliable_recovery=nhs.reliable_recovery,
                reliable_deterioration=nhs.reliable_deterioration,
                dropout=_dropout(members),
            )
        )
    return tuple(result)
