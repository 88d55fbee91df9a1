"""A seeded, pure-Python simulator of a psychotherapy clinic with planted ground truth.

``simulate_clinic()`` returns plain frozen dataclasses: staff, clients, episodes of
care with weekly appointments, the item-level answers clients and therapists gave
(PHQ-9, GAD-7, Goal-Based Outcomes, the relationship check-in and the therapist's
version of it, with the linkIds of docs/CONTRACTS.md), a few therapist reflections,
and for every episode the ground truth that was planted (ruptures and whether they
were repaired, dropout, deterioration, risk answers, trajectory class). The demo
loader stores it; the alert benchmark scores alert rules against the truth.

Same ``seed`` and arguments give identical output: all randomness comes from one
``numpy.random.Generator(PCG64(seed))``, which seeds one ``random.Random`` per
episode (scalar draws in pure Python are much faster than numpy's). Nothing reads
the clock; ``end`` ("today") defaults to the fixed ``DEFAULT_END``.

The model
=========

Clinic and calendar. Referrals arrive at a steady rate over the ``months``
before ``end``. Each client is assigned to a therapist (therapists carry different
caseload weights) and gets a fixed weekly slot (weekday, hour 09-16) that is free
in that therapist's diary; therapists take two short holidays a year, during which
no appointments are booked. Appointments are weekly; the last two sessions of a
planned ending are fortnightly. Everything before ``end`` has happened; from
``end`` on, active episodes have their next one or two appointments booked (the
first within the coming week) with no answers.

Random effects per client (correlated, drawn with numpy):

* intake severity: PHQ-9 ~ N(14.5, 5), GAD-7 ~ N(11.5, 4.5), r = .6 between them;
* alliance level ``a`` (the client's typical check-in, 0-10 scale) =
  7.9 + 1.1·z_a + therapist effect, slightly lower for more severe clients;
* responsiveness ``p`` (the share of the intake score lost by session 12) =
  ``P_MEAN + P_SD·(RHO_ALLIANCE_SLOPE·z_a + noise)``: with the within-client
  effect below (ruptures and weak sessions push symptoms up), this gives the
  between-client alliance-outcome correlation of about .28 (Flueckiger et al.
  2018: r = .278);
* trajectory class: "deteriorator" (about 4.5%, more likely with a weak alliance,
  only for intake PHQ-9 <= 19 so there is room to rise; with noise and unrepaired
  ruptures about 7-8% of episodes show a reliable deterioration, cf. Hannan et
  al. 2005: 40 of 550), otherwise "improver" (p >= .45; gains follow
  log(session)), "slow" (.2 <= p < .45; gains linear in sessions) or
  "non-responder" (p < .2);
* planned length 8 + Gamma(2, 4.5) attended sessions (median ~15), longer for
  slow and non-responding clients; improvers well below caseness may end early;
* a suicidal-ideation propensity that rises with intake severity;
* an Exp(1) dropout threshold: the client drops out once the cumulative dropout
  hazard passes it (the same law as a coin flip per session).

Binary traits, planned lengths and dropout thresholds are drawn by Latin
hypercube sampling (one draw per 1/n quantile, shuffled): marginals are exact,
but an 80-client demo reliably shows about the expected number of dropouts,
deteriorators and Spanish speakers instead of whatever luck gives.

Session by session (attended sessions j = 1, 2, ...):

* symptoms: PHQ-9 = intake·(1 - p·progress_j) + momentum + e (sd 1.8), where
  progress grows with log(j) (or j for slow clients) at a rate that halves after
  an unrepaired rupture and rises a little after a repaired one. Deteriorators
  instead rise by 6.5-11 points, mostly from session 2 (about 85% are >= 2 points
  above intake by session 3, when a typical client has improved by about 3, so
  an early-warning rule can catch them as in Hannan et al. 2005), some later. GAD-7 follows the
  same progress with its own noise, correlated with PHQ-9's.
* within-client alliance -> outcome: the deviation of this session's check-in
  from the client's expected level feeds a decaying ``momentum`` term that moves
  the next PHQ-9 (Flueckiger et al. 2020: session-to-session alliance predicts
  next symptoms within clients).
* alliance: a + growth·log(j) + AR(1) noise; check-in dimensions add small
  client-specific offsets and item noise and are rounded to 0-10.
* ruptures: from the third attended session on, with a hazard that is higher for weaker alliances,
  one or two dimensions (bond, goals, tasks) and "overall" drop by 2.5-4.5 points
  from the previous check-in. About half are repaired (more with a strong
  alliance and a therapist skilled at repair): within two sessions the check-in
  total is back at or above its pre-drop level. Unrepaired ruptures keep the
  check-in below the pre-drop level for two sessions, leave a slowly decaying
  dent in the alliance, slow improvement, and raise no-show and dropout hazards
  for a few sessions. Clients often say what went wrong in the open question.
* attendance: cancellations with notice 5%; late cancellations 3% and no-shows
  3.5%, more with a weak alliance and after an unrepaired rupture; with the
  appointments dropouts miss, about one appointment in ten is missed.
* dropout: after each session with a hazard that is highest early, lower with
  a stronger alliance (Sharf et al. 2010: d ~ .55 for early alliance), higher
  after an unrepaired rupture and for clients who are not improving; a dropping
  out client misses one to three more appointments before the episode is closed.
* therapist rating: the client's underlying alliance plus the therapist's own
  bias (``THERAPIST_RATING_BIAS``), without most of a rupture's drop because
  therapists often miss ruptures (perspective gaps), plus occasional sessions the
  therapist rates clearly higher.
* risk: PHQ-9 item 9 is non-zero mainly for ideation-prone clients when their
  total is high.

Item answers are produced by distributing the simulated total over the items with
client-specific item weights (fatigue and sleep tend to score highest, item 9 is
decided separately), so answers always sum exactly to the simulated total.

Calibration, measured by tests/demo/test_simulate.py from the item answers
(10,000 clients, 100 therapists; the test bands in brackets):

* recovery (NHS definition) among finished cases .52 [.45-.55]
* dropout among ended episodes .21 [.15-.25]; missed appointments .094 [.07-.13]
* mean check-in vs PHQ-9 improvement, between clients r = .26 [.18-.38];
  check-in deviation vs next PHQ-9 change, within clients r = -.28
* episodes (>= 3 sessions) with a rupture .42 [.40-.46]; repaired .51 [.40-.60]
* reliable deterioration (PHQ-9 +6 at some point) .075 [.05-.10]
* early check-in, planned endings vs dropouts: d = .53 [.30-.85]
* episodes with a PHQ-9 item 9 answer above 0: .16

Ground truth describes what is observable before ``end`` plus the planted latent
class: ``recovered``/``deteriorated`` are computed from the generated scores with
the NHS Talking Therapies definitions, ``ruptures`` are the planted ones and
their ``repaired`` flag follows the documented repair rule on the generated
check-ins. Session numbers in ``GroundTruth`` are ``SimAppointment.number``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

import numpy as np
from scipy import stats

from alliance.demo import texts
from alliance.demo.names import ClientNamer, Person, make_staff

Role = Literal["administrator", "supervisor", "therapist"]
Attendance = Literal["attended", "cancelled", "late_cancel", "no_show", "scheduled"]
EpisodeStatus = Literal["active", "ended"]
EndReason = Literal["planned", "dropout", "transferred", "other"]
Respondent = Literal["client", "therapist"]
Trajectory = Literal["improver", "slow", "non-responder", "deteriorator"]
Language = Literal["en", "es"]
Dimension = Literal["bond", "goals", "tasks"]

#: "Today" when the caller does not pass ``end``; fixed so output never depends on the clock.
DEFAULT_END = date(2026, 3, 2)
#: Share of Spanish-speaking clients (language "es", Spanish names, goals and comments).
SPANISH_SHARE = 0.20
#: One supervisor for about this many therapists.
THERAPISTS_PER_SUPERVISOR = 8
#: Length of a session; check-ins are submitted after it ends.
SESSION_MINUTES = 50
#: Outcome measures every client answers before attended sessions.
DEFAULT_OUTCOME_INSTRUMENTS: tuple[str, ...] = ("phq9", "gad7")
#: Check-in dimensions, in the order of docs/CONTRACTS.md.
CHECKIN_DIMENSIONS: tuple[str, ...] = ("bond", "goals", "tasks", "overall")
#: Dimensions a rupture can strain ("overall" always moves with them).
RUPTURE_DIMENSIONS: tuple[Dimension, ...] = ("bond", "goals", "tasks")
#: Repair rule: the check-in total is back at its pre-drop level within this many sessions.
REPAIR_WINDOW = 2

# Mean therapist-minus-client difference on the 0-10 check-in scale. The brief for
# this simulator suggested therapists rate a little higher, but the meta-analysis
# of 53 studies by Tryon, Blackwell & Hammel (2007, Psychotherapy Research 17:629)
# found clients rate the alliance higher than their therapists (d = .63, r = .36).
# We follow the evidence on average; per-therapist biases vary around it, and at
# rupture sessions therapists who miss the rupture rate clearly higher.
THERAPIST_RATING_BIAS = -0.4

# Outcome model (calibrated against docs in the module docstring).
PHQ_INTAKE_MEAN, PHQ_INTAKE_SD = 14.5, 5.0
GAD_INTAKE_MEAN, GAD_INTAKE_SD = 11.5, 4.5
PHQ_NOISE_SD, GAD_NOISE_SD = 1.8, 1.6
P_MEAN, P_SD = 0.50, 0.24
RHO_ALLIANCE_SLOPE = 0.33
DETERIORATOR_BASE = 0.045
# Alliance model.
ALLIANCE_MEAN, ALLIANCE_SD = 7.9, 1.1
ALLIANCE_AR, ALLIANCE_INNOVATION_SD = 0.4, 0.35
CHECKIN_ITEM_SD = 0.45
WITHIN_ALLIANCE_EFFECT = 1.8  # PHQ-9 points per check-in point of deviation
# Ruptures, attendance, dropout.
RUPTURE_HAZARD = 0.060
DROPOUT_ALLIANCE_EFFECT = 0.38
P_CANCEL, P_LATE_CANCEL, P_NO_SHOW = 0.05, 0.03, 0.035

# PHQ-9 items 1-8 and GAD-7 items 1-7: typical relative item means in clinical samples
# (sleep and fatigue highest, psychomotor change lowest). Item 9 is handled apart.
_PHQ_ITEM_WEIGHTS = (1.6, 1.6, 1.9, 2.0, 1.4, 1.5, 1.5, 0.9)
_GAD_ITEM_WEIGHTS = (1.8, 1.7, 1.9, 1.8, 1.2, 1.5, 1.2)
_PHQ_LINK_IDS = tuple(str(i) for i in range(1, 10))
_GAD_LINK_IDS = tuple(str(i) for i in range(1, 8))
_SLOT_HOURS = tuple(range(9, 17))


# --------------------------------------------------------------------------- output types


@dataclass(frozen=True, slots=True)
class SimStaff:
    """A staff member of the simulated clinic.

    Attributes:
        key: stable identifier within the simulation ("therapist-01").
        email: unique address at ``@demo.alliance.invalid``.
        first_name: given name.
        last_name: family name.
        role: "administrator", "supervisor" or "therapist".
    """

    key: str
    email: str
    first_name: str
    last_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class SimClient:
    """A client (one per episode in this simulation).

    Attributes:
        key: stable identifier within the simulation ("client-00001", in referral order).
        code: unique pseudonymous code shown instead of the name ("C-7KQ3F").
        first_name: given name (Spanish names for Spanish speakers).
        last_name: family name.
        email: unique fake address at ``@example.com``.
        phone: fictional number in the 555-01xx range.
        language: "en" or "es"; the language the client answers questionnaires in.
    """

    key: str
    code: str
    first_name: str
    last_name: str
    email: str
    phone: str
    language: Language


@dataclass(frozen=True, slots=True)
class SimResponse:
    """One completed questionnaire.

    Attributes:
        instrument: instrument id from docs/CONTRACTS.md ("phq9", "gad7", "gbo",
            "checkin", "checkin-therapist").
        respondent: "client" or "therapist".
        answers: item linkId -> answer. Integers for scored items; the check-in's
            optional "better" is free text (absent when the client left it empty).
        submitted_at: aware datetime; before the session for outcome measures,
            after it for check-ins, always before ``SimClinic.end``.
    """

    instrument: str
    respondent: Respondent
    answers: dict[str, int | str]
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class SimAppointment:
    """One booked appointment of an episode.

    Attributes:
        number: 1-based position among the episode's appointments (all kinds).
        scheduled_at: aware start time, weekday business hours in the clinic's zone.
        attendance: "attended", "cancelled" (with notice), "late_cancel", "no_show"
            or "scheduled" (on or after ``SimClinic.end``: not happened yet).
        responses: questionnaires tied to this appointment; empty unless attended.
        reflection: the therapist's private first-person reflection after the
            session, or None (only on some attended sessions).
        reflection_shared: whether the therapist shared the reflection with their
            supervisor (False when there is no reflection).
        reflection_reactions: the reactions the reflection records, by code, with
            their intensity 1-3 (empty when there is no reflection).
    """

    number: int
    scheduled_at: datetime
    attendance: Attendance
    responses: list[SimResponse]
    reflection: str | None = None
    reflection_shared: bool = False
    # The reactions checklist of the reflection (code -> intensity 1-3), fitting its text.
    reflection_reactions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlantedRupture:
    """A rupture planted in the client's check-ins.

    Attributes:
        session: appointment number at which the check-in dropped.
        dimensions: strained dimensions ("bond", "goals", "tasks"); "overall" dropped too.
        repaired: the check-in total returned to at least its pre-drop level (the
            total of the last check-in before ``session``) within ``REPAIR_WINDOW``
            attended sessions, as observed before ``end``.
        repair_session: appointment number where that happened, else None.
    """

    session: int
    dimensions: tuple[str, ...]
    repaired: bool
    repair_session: int | None


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What was planted, and what the generated data show by ``end``.

    Attributes:
        case_at_intake: first PHQ-9 >= 10 or first GAD-7 >= 8 (NHS Talking Therapies
            caseness); False when no scores exist yet.
        recovered: NHS Talking Therapies recovery, only for ended episodes that
            finished a course (>= 2 attended appointments): a case at the first
            score and a case on neither measure at the last.
        deteriorated: some PHQ-9 was >= 6 points above the first one.
        deterioration_session: appointment number of the first such PHQ-9.
        dropped_out: the client stopped attending for good before ``end`` (the
            episode may still be open if the clinic has not closed it yet).
        dropout_session: appointment number of the last attended session of a dropout.
        ruptures: planted ruptures observed before ``end``, in order.
        risk_sessions: appointment numbers where PHQ-9 item 9 was above 0.
        trajectory: planted class: "improver", "slow", "non-responder", "deteriorator".
    """

    case_at_intake: bool
    recovered: bool
    deteriorated: bool
    deterioration_session: int | None
    dropped_out: bool
    dropout_session: int | None
    ruptures: list[PlantedRupture]
    risk_sessions: list[int]
    trajectory: Trajectory


@dataclass(frozen=True, slots=True)
class SimEpisode:
    """An episode of care: one client with one therapist.

    Attributes:
        key: stable identifier ("episode-00001").
        client_key: the client's key.
        therapist_key: the treating therapist's key.
        start: date the episode was opened (referral), on or before the first appointment.
        end: date it was closed (its last appointment), None while active.
        status: "active" or "ended".
        end_reason: None while active, else "planned", "dropout", "transferred", "other".
        goals: 1-3 goals in the client's own words and language (GBO ``goal1``..).
        outcome_instruments: outcome measures answered before sessions.
        appointments: all appointments in date order, past and booked.
        truth: planted ground truth.
    """

    key: str
    client_key: str
    therapist_key: str
    start: date
    end: date | None
    status: EpisodeStatus
    end_reason: EndReason | None
    goals: list[str]
    outcome_instruments: tuple[str, ...]
    appointments: list[SimAppointment]
    truth: GroundTruth


@dataclass(frozen=True, slots=True)
class SimClinic:
    """The whole simulated clinic.

    Attributes:
        seed: the seed it was generated from.
        start: first day of the simulated window (``months`` before ``end``).
        end: "today": everything before it happened; bookings from it on are future.
        administrator: the clinic administrator.
        supervisors: clinical supervisors (one per ~8 therapists).
        therapists: the therapists.
        supervision: (supervisor_key, therapist_key) pairs; every therapist has one.
        clients: all clients, in referral order.
        episodes: one episode per client, in the same order.
    """

    seed: int
    start: date
    end: date
    administrator: SimStaff
    supervisors: list[SimStaff]
    therapists: list[SimStaff]
    supervision: list[tuple[str, str]]
    clients: list[SimClient]
    episodes: list[SimEpisode]


# --------------------------------------------------------------------------- internal plans


@dataclass(slots=True)
class _Therapist:
    """A therapist's hidden traits and diary (mutable while episodes are placed)."""

    staff: SimStaff
    alliance_effect: float  # therapist effect on clients' alliance level
    repair_skill: float  # added to the repair log-odds
    rating_bias: float  # therapist-minus-client on the check-in scale
    holidays: frozenset[date]  # Mondays of weeks without appointments
    busy_until: dict[tuple[int, int], date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _ClientPlan:
    """Latent random effects of one client, drawn up front with numpy."""

    phq_intake: float
    gad_intake: float
    alliance_z: float
    alliance_level: float
    responsiveness: float  # share of intake PHQ-9 lost by session 12
    gad_responsiveness: float
    trajectory: Trajectory
    planned_sessions: int
    ideation_prone: bool
    spanish: bool
    dropout_threshold: float  # Exp(1): the client drops out once cumulative hazard passes it


@dataclass(slots=True)
class _Rupture:
    """A rupture in progress."""

    session: int  # appointment number
    att: int  # attended-session index
    dims: tuple[Dimension, ...]
    magnitude: float
    pre_answers: dict[str, int]
    pre_total: float
    will_repair: bool
    repair_after: int  # 1 or 2 sessions
    repair_session: int | None = None


# --------------------------------------------------------------------------- small helpers


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _round_clip(value: float, low: int, high: int) -> int:
    return int(_clip(round(value), low, high))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (clamped to the month's length)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def checkin_total(answers: dict[str, int]) -> float:
    """Check-in total as scored by the contract: the mean of the four dimensions."""
    return sum(answers[d] for d in CHECKIN_DIMENSIONS) / len(CHECKIN_DIMENSIONS)


def distribute_total(
    total: int, weights: Sequence[float], cap: int, rng: random.Random, jitter: float = 0.35
) -> list[int]:
    """Split ``total`` into integer item scores in 0..cap that sum exactly to ``total``.

    Items get shares proportional to their (randomly jittered) weights; shares above
    ``cap`` are capped and the excess is passed on to the other items; the
    fractional parts are rounded by largest remainder so the sum is exact.
    """
    if not 0 <= total <= cap * len(weights):
        raise ValueError(f"total {total} cannot be split over {len(weights)} items of 0..{cap}")
    # Uniform rather than Gaussian log-jitter (same sd): it is the hottest loop, and
    # random() is several times cheaper than gauss().
    spread = jitter * math.sqrt(3.0)
    jittered = [w * math.exp(spread * (2.0 * rng.random() - 1.0)) for w in weights]
    alloc = [0.0] * len(weights)
    free = list(range(len(weights)))
    remaining = float(total)
    while remaining > 1e-9 and free:
        scale = remaining / sum(jittered[i] for i in free)
        remaining = 0.0
        still_free = []
        for i in free:
            value = alloc[i] + scale * jittered[i]
            if value >= cap:
                remaining += value - cap
                alloc[i] = float(cap)
            else:
                alloc[i] = value
                still_free.append(i)
        free = still_free
    scores = [int(a + 1e-9) for a in alloc]
    shortfall = total - sum(scores)
    by_fraction = sorted(range(len(alloc)), key=lambda i: alloc[i] - scores[i], reverse=True)
    for i in by_fraction[:shortfall]:
        scores[i] += 1
    return scores


def _lower_one(answers: dict[str, int], preferred: tuple[str, ...]) -> None:
    """Lower the highest preferred dimension by one point (any dimension if those are 0)."""
    candidates = [d for d in preferred if answers[d] > 0] or [
        d for d in CHECKIN_DIMENSIONS if answers[d] > 0
    ]
    answers[max(candidates, key=lambda d: answers[d])] -= 1


def _difficulty(total: int, max_total: int, rng: random.Random) -> int:
    """The unscored "how difficult" item: rises with the total."""
    return _round_clip(3.3 * total / max_total + rng.gauss(0.0, 0.5), 0, 3)


# --------------------------------------------------------------------------- one episode


class _EpisodeSimulator:
    """Runs one episode appointment by appointment and builds its ``SimEpisode``."""

    def __init__(
        self,
        key: str,
        client: SimClient,
        plan: _ClientPlan,
        therapist: _Therapist,
        referral: date,
        end: date,
        tz: tzinfo,
        rng: random.Random,
    ) -> None:
        self.key, self.client, self.plan, self.therapist = key, client, plan, therapist
        self.referral, self.end, self.tz, self.rng = referral, end, tz, rng
        self.cutoff = datetime.combine(end, time(0), tzinfo=tz)
        self.language: Language = client.language
        self.goals = texts.choose_goals(rng, self.language, rng.choice((1, 2, 2, 3, 3)))
        self.goal_base = [rng.uniform(1.0, 4.0) for _ in self.goals]
        self.goal_gain = [rng.uniform(0.6, 1.2) for _ in self.goals]
        self.phq_weights = [w * math.exp(rng.gauss(0, 0.3)) for w in _PHQ_ITEM_WEIGHTS]
        self.gad_weights = [w * math.exp(rng.gauss(0, 0.3)) for w in _GAD_ITEM_WEIGHTS]
        self.dim_offset = {
            "bond": 0.3 + rng.gauss(0, 0.3),
            "goals": -0.1 + rng.gauss(0, 0.3),
            "tasks": -0.2 + rng.gauss(0, 0.3),
            "overall": 0.0,
        }
        self.growth = rng.gauss(0.25, 0.2)
        # Deteriorators: size, start and speed of the rise (most start right away).
        self.rise = rng.uniform(6.5, 11.0)
        self.rise_onset = rng.choices((1, 2, 4, 5, 6), weights=(75, 13, 5, 4, 3))[0]
        self.rise_duration = rng.choice((2, 3))
        # Running state.
        self.appointments: list[SimAppointment] = []
        self.number = 0
        self.att = 0
        self.progress = 0.0
        self.rate = 1.0
        self.momentum = 0.0
        self.alliance_dev = 0.0
        self.residual = 0.0
        self.boost = 0.0
        self.strain_until = 0
        self.missed_since_session = 0
        self.last_checkin: dict[str, int] | None = None
        self.rupture: _Rupture | None = None
        self.last_rupture_att = -99
        self.finished_ruptures: list[_Rupture] = []
        self.first_phq: int | None = None
        self.last_scores: tuple[int, int] | None = None
        self.deteriorated_seen = False
        self.dropout_session: int | None = None
        self.trailing_misses = 0
        self.dropout_pressure = 0.0  # cumulative dropout hazard so far

    # ----------------------------------------------------------------- calendar

    def _at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.tz)

    def _next_day(self, day: date) -> date:
        """Next booking: a week on (a fortnight while tapering), skipping holidays."""
        tapering = self.plan.planned_sessions >= 8 and self.att >= self.plan.planned_sessions - 2
        day += timedelta(days=14 if tapering and self.trailing_misses == 0 else 7)
        while _monday(day) in self.therapist.holidays:
            day += timedelta(days=7)
        return day

    def _choose_slot(self) -> tuple[int, int]:
        """A weekly slot free in the therapist's diary (least-recently-freed if none)."""
        diary = self.therapist.busy_until
        slots = [(d, h) for d in range(5) for h in _SLOT_HOURS]
        free = [s for s in slots if diary.get(s, date.min) < self.referral]
        if free:
            return self.rng.choice(free)
        # Fully booked: double-book the slot that frees up soonest (rare at demo sizes).
        return min(slots, key=lambda s: diary[s])

    # ----------------------------------------------------------------- main loop

    def run(self) -> SimEpisode:
        weekday, hour = self._choose_slot()
        day = self.referral + timedelta(days=2 + (weekday - self.referral.weekday() - 2) % 7)
        while _monday(day) in self.therapist.holidays:
            day += timedelta(days=7)
        end_reason: EndReason | None = None
        while True:
            self.number += 1
            if day >= self.end:
                self._book_future(weekday, hour)
                break
            end_reason = self._appointment(self._at(day, hour))
            if end_reason is not None:
                break
            day = self._next_day(day)
        last_day = self.appointments[-1].scheduled_at.date()
        self.therapist.busy_until[(weekday, hour)] = last_day if end_reason else date.max
        return self._episode(end_reason)

    def _appointment(self, at: datetime) -> EndReason | None:
        """Simulate one past appointment; return an end reason if the episode closes."""
        if self.trailing_misses > 0:
            self.trailing_misses -= 1
            kind: Attendance = "no_show" if self.rng.random() < 0.75 else "late_cancel"
            self.appointments.append(SimAppointment(self.number, at, kind, []))
            return "dropout" if self.trailing_misses == 0 else None
        kind = self._attendance()
        if kind != "attended":
            self.appointments.append(SimAppointment(self.number, at, kind, []))
            self.missed_since_session += kind != "cancelled"
            return None
        self._session(at)
        return self._after_session()

    def _attendance(self) -> Attendance:
        strained = self.att > 0 and self.att <= self.strain_until
        risk = math.exp(-0.35 * self.plan.alliance_z) * (2.0 if strained else 1.0)
        if self.att == 0:
            risk *= 1.3  # first appointments are missed a little more often
        u = self.rng.random()
        if u < P_NO_SHOW * risk:
            return "no_show"
        if u < (P_NO_SHOW + P_LATE_CANCEL) * risk:
            return "late_cancel"
        if u < (P_NO_SHOW + P_LATE_CANCEL) * risk + P_CANCEL:
            return "cancelled"
        return "attended"

    def _book_future(self, weekday: int, hour: int) -> None:
        """Active episode: the next one or two weekly slots from ``end`` on."""
        first = self.end + timedelta(days=(weekday - self.end.weekday()) % 7)
        remaining = self.plan.planned_sessions - self.att
        count = 1 if 0 < remaining <= 1 and self.trailing_misses == 0 else 2
        for i in range(count):
            at = self._at(first + timedelta(days=7 * i), hour)
            self.appointments.append(SimAppointment(self.number + i, at, "scheduled", []))

    def _after_session(self) -> EndReason | None:
        """Decide whether the client ends, is transferred, or drops out after a session."""
        rng, plan, j = self.rng, self.plan, self.att
        if j >= plan.planned_sessions:
            return "planned"
        if (
            plan.trajectory == "improver"
            and j >= 8
            and self.last_scores is not None
            and self.last_scores[0] < 8
            and self.last_scores[1] < 6
            and rng.random() < 0.1
        ):
            return "planned"  # well enough to finish early, by agreement
        worse = self.deteriorated_seen
        if rng.random() < 0.003 * (8.0 if worse else 1.0):
            return "transferred"  # e.g. stepped up to a more intensive service
        if rng.random() < 0.004:
            return "other"  # moved away, changed jobs, ...
        base = 0.03 if j == 1 else 0.018 if j <= 4 else 0.007
        hazard = base * math.exp(-DROPOUT_ALLIANCE_EFFECT * plan.alliance_z)
        if j <= self.strain_until:
            hazard *= 2.5
        if plan.trajectory in ("non-responder", "deteriorator"):
            hazard *= 1.4
        # Same law as a Bernoulli(hazard) draw per session, but driven by the client's
        # stratified dropout threshold so small clinics get near the expected count.
        self.dropout_pressure -= math.log1p(-min(hazard, 0.99))
        if self.dropout_pressure >= self.plan.dropout_threshold:
            self.dropout_session = self.number
            self.trailing_misses = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
        return None

    # ----------------------------------------------------------------- one session

    def _session(self, at: datetime) -> None:
        self.att += 1
        rng, j = self.rng, self.att
        phq_latent, gad_latent = self._symptom_latents(j)
        responses: list[SimResponse] = []
        phq_total: int | None = None
        risk_now = False
        if j == 1 or rng.random() > 0.05:  # intake measures are always done
            phq_total, gad_total = self._outcome_responses(phq_latent, gad_latent, at, responses)
            risk_now = int(responses[0].answers["9"]) > 0
            if (j - 1) % 4 == 0:  # goals are rated with the other pre-session measures
                after_gad = responses[-1].submitted_at + timedelta(minutes=2)
                responses.append(self._gbo(phq_latent, after_gad))
            self.last_scores = (phq_total, gad_total)
        self.alliance_dev = ALLIANCE_AR * self.alliance_dev + rng.gauss(0, ALLIANCE_INNOVATION_SD)
        expected = self.plan.alliance_level + self.growth * math.log(j)
        latent = expected + self.alliance_dev - self.residual + self.boost
        checkin, ruptured_now, dip = self._checkin(latent, j)
        if checkin is not None:
            answers: dict[str, int | str] = dict(checkin)
            comment = self._comment(ruptured_now)
            if comment:
                answers["better"] = comment
            responses.append(SimResponse("checkin", "client", answers, self._after(at, 8)))
        if rng.random() < 0.9:
            # Therapists often miss a rupture: they see only part of the client's dip.
            noticed = 0.8 if ruptured_now and rng.random() < 0.35 else 0.15
            responses.append(self._therapist_rating(latent - noticed * dip, at))
        # Latent, not rounded answers, drive the outcome: a client at the 10-point
        # ceiling is not having a worse session than their (higher) latent level.
        deviation = latent - dip - expected
        self.momentum = 0.5 * self.momentum - WITHIN_ALLIANCE_EFFECT * deviation
        self.residual *= 0.85
        self.boost *= 0.7
        reflection, shared, reactions = self._reflection(ruptured_now, risk_now, phq_total)
        self.appointments.append(
            SimAppointment(self.number, at, "attended", responses, reflection, shared, reactions)
        )
        self.missed_since_session = 0

    def _symptom_latents(self, j: int) -> tuple[float, float]:
        plan = self.plan
        if plan.trajectory == "deteriorator":
            rise = _clip((j - self.rise_onset) / self.rise_duration, 0.0, 1.0) * self.rise
            return plan.phq_intake + rise, plan.gad_intake + 0.6 * rise
        shape = self._shape
        self.progress += self.rate * (shape(j) - shape(j - 1)) if j > 1 else 0.0
        phq = plan.phq_intake * (1.0 - plan.responsiveness * self.progress)
        gad = plan.gad_intake * (1.0 - plan.gad_responsiveness * self.progress)
        return phq, gad

    def _shape(self, j: int) -> float:
        """Share of the session-12 improvement reached by attended session j."""
        if self.plan.trajectory == "slow":
            return min((j - 1) / 11.0, 1.6)
        return math.log(j) / math.log(12.0)

    def _outcome_responses(
        self, phq_latent: float, gad_latent: float, at: datetime, out: list[SimResponse]
    ) -> tuple[int, int]:
        rng = self.rng
        e = rng.gauss(0, 1)
        phq = _round_clip(phq_latent + self.momentum + PHQ_NOISE_SD * e, 0, 27)
        e_gad = 0.5 * e + math.sqrt(0.75) * rng.gauss(0, 1)
        gad = _round_clip(gad_latent + 0.7 * self.momentum + GAD_NOISE_SD * e_gad, 0, 21)
        before = at - timedelta(minutes=rng.randint(15, 30 * 60))
        out.append(SimResponse("phq9", "client", self._phq_answers(phq), before))
        gad_answers = self._items(gad, self.gad_weights, _GAD_LINK_IDS, "8", 21)
        out.append(SimResponse("gad7", "client", gad_answers, before + timedelta(minutes=3)))
        if self.first_phq is None:
            self.first_phq = phq
        elif phq >= self.first_phq + 6:
            self.deteriorated_seen = True
        return phq, gad

    def _phq_answers(self, total: int) -> dict[str, int | str]:
        """PHQ-9 items; item 9 is decided first from severity and ideation propensity."""
        rng = self.rng
        if self.plan.ideation_prone:
            p_item9 = 0.85 * _sigmoid((total - 13.0) / 2.5)
        else:
            p_item9 = 0.006 if total >= 12 else 0.0
        item9 = rng.choices((1, 2, 3), weights=(70, 22, 8))[0] if rng.random() < p_item9 else 0
        item9 = min(max(item9, total - 24), total)  # items 1-8 can carry at most 24
        rest = distribute_total(total - item9, self.phq_weights, 3, rng)
        answers: dict[str, int | str] = dict(zip(_PHQ_LINK_IDS, [*rest, item9], strict=True))
        if total > 0:
            answers["10"] = _difficulty(total, 27, rng)
        return answers

    def _items(
        self, total: int, weights: list[float], ids: tuple[str, ...], extra: str, top: int
    ) -> dict[str, int | str]:
        scores = distribute_total(total, weights, 3, self.rng)
        answers: dict[str, int | str] = dict(zip(ids, scores, strict=True))
        if total > 0:
            answers[extra] = _difficulty(total, top, self.rng)
        return answers

    def _gbo(self, phq_latent: float, submitted_at: datetime) -> SimResponse:
        """Goal progress follows symptom change, each goal at its own pace."""
        intake = self.plan.phq_intake
        improvement = _clip((intake - phq_latent) / max(intake, 5.0), -0.5, 1.0)
        answers: dict[str, int | str] = {}
        for k, (base, gain) in enumerate(zip(self.goal_base, self.goal_gain, strict=True)):
            value = base + (9.0 - base) * improvement * gain + self.rng.gauss(0, 0.8)
            answers[f"goal{k + 1}"] = _round_clip(value, 0, 10)
        return SimResponse("gbo", "client", answers, submitted_at)

    # ----------------------------------------------------------------- alliance and ruptures

    def _dims(self, latent: float, shift: dict[str, float] | None = None) -> dict[str, int]:
        rng = self.rng
        return {
            d: _round_clip(
                latent
                + self.dim_offset[d]
                + (shift or {}).get(d, 0.0)
                + rng.gauss(0, CHECKIN_ITEM_SD),
                0,
                10,
            )
            for d in CHECKIN_DIMENSIONS
        }

    def _checkin(self, latent: float, j: int) -> tuple[dict[str, int] | None, bool, float]:
        """Client check-in answers (None if skipped), whether a rupture started now,
        and the rupture's dip: how far the check-in total sits below its pre-drop level."""
        rng = self.rng
        if self.rupture is not None:
            rupture = self.rupture
            answers = self._rupture_followup(latent, j)
            return answers, False, max(0.0, rupture.pre_total - checkin_total(answers))
        if self._rupture_starts(j):
            answers = self._start_rupture(j)
            assert self.rupture is not None
            return answers, True, self.rupture.pre_total - checkin_total(answers)
        skip = 0.12 * math.exp(-0.3 * self.plan.alliance_z)
        if rng.random() < skip:
            return None, False, 0.0
        answers = self._dims(latent)
        self.last_checkin = answers
        return answers, False, 0.0

    def _rupture_starts(self, j: int) -> bool:
        if j < 3 or j - self.last_rupture_att <= REPAIR_WINDOW + 1 or self.last_checkin is None:
            return False
        if checkin_total(self.last_checkin) < 4.5:
            return False  # no room for a visible drop
        hazard = RUPTURE_HAZARD * math.exp(-0.3 * self.plan.alliance_z)
        return self.rng.random() < hazard

    def _start_rupture(self, j: int) -> dict[str, int]:
        rng = self.rng
        assert self.last_checkin is not None
        pre = self.last_checkin
        dims: tuple[Dimension, ...] = tuple(
            rng.sample(RUPTURE_DIMENSIONS, k=1 if rng.random() < 0.7 else 2)
        )
        magnitude = rng.uniform(2.5, 4.5)
        answers: dict[str, int] = {}
        for d in CHECKIN_DIMENSIONS:
            if d in dims:
                drop = magnitude + rng.gauss(0, 0.5)
            elif d == "overall":
                drop = 0.6 * magnitude + rng.gauss(0, 0.4)
            else:
                drop = 0.15 * magnitude + rng.gauss(0, 0.3)
            answers[d] = _round_clip(pre[d] - drop, 0, 10)
        pre_total = checkin_total(pre)
        while pre_total - checkin_total(answers) < 1.0:  # always clearly visible
            _lower_one(answers, (*dims, "overall"))
        repair_logit = 0.9 * self.plan.alliance_z + self.therapist.repair_skill + 0.55
        self.rupture = _Rupture(
            session=self.number,
            att=j,
            dims=dims,
            magnitude=magnitude,
            pre_answers=dict(pre),
            pre_total=pre_total,
            will_repair=rng.random() < _sigmoid(repair_logit),
            repair_after=1 if rng.random() < 0.6 else 2,
        )
        self.last_rupture_att = j
        self.last_checkin = answers
        return answers

    def _rupture_followup(self, latent: float, j: int) -> dict[str, int]:
        """Check-ins in the repair window: repaired ones climb back, the rest stay down."""
        rupture = self.rupture
        assert rupture is not None
        k = j - rupture.att
        if rupture.will_repair and k == rupture.repair_after:
            answers = self._dims(latent + 0.3)
            answers = {d: max(answers[d], rupture.pre_answers[d]) for d in CHECKIN_DIMENSIONS}
            rupture.repair_session = self.number
            self.boost = 0.4  # repaired ruptures tend to strengthen the alliance
            self.rate *= 1.1
            self._close_rupture()
        else:
            dent = rupture.magnitude * (0.55 if k == 1 else 0.45)
            shift = {d: -dent for d in (*rupture.dims, "overall")}
            answers = self._dims(latent, shift)
            while checkin_total(answers) >= rupture.pre_total:  # not repaired (yet)
                _lower_one(answers, (*rupture.dims, "overall"))
            if k >= REPAIR_WINDOW:
                self.residual = self.rng.uniform(0.8, 1.8)
                self.rate *= 0.5  # unrepaired ruptures slow improvement
                self.strain_until = j + 4
                self._close_rupture()
        self.last_checkin = answers
        return answers

    def _close_rupture(self) -> None:
        assert self.rupture is not None
        self.finished_ruptures.append(self.rupture)
        self.rupture = None

    def _comment(self, ruptured_now: bool) -> str:
        """Answer to "What could have been better today?" (mostly empty)."""
        rng, lang = self.rng, self.language
        rupture = self.rupture
        if ruptured_now and rupture is not None and rng.random() < 0.65:
            return texts.critical_text(rng, lang, rng.choice(rupture.dims))
        if rupture is not None and not ruptured_now and rng.random() < 0.25:
            return texts.critical_text(rng, lang, rng.choice(rupture.dims))
        if rng.random() < 0.12:
            return texts.better_text(rng, lang, "neutral" if rng.random() < 0.65 else "mild")
        return ""

    def _therapist_rating(self, latent: float, at: datetime) -> SimResponse:
        rng = self.rng
        view = latent + self.therapist.rating_bias + rng.gauss(0, 0.25)
        if rng.random() < 0.05:
            view += rng.uniform(1.5, 3.0)  # the therapist thought it went much better
        answers: dict[str, int | str] = {
            d: _round_clip(view + 0.5 * self.dim_offset[d] + rng.gauss(0, 0.5), 0, 10)
            for d in CHECKIN_DIMENSIONS
        }
        return SimResponse("checkin-therapist", "therapist", answers, self._after(at, 24))

    def _reflection(
        self, ruptured_now: bool, risk_now: bool, phq_total: int | None
    ) -> tuple[str | None, bool, dict[str, int]]:
        """Occasional first-person therapist reflection, likelier after hard moments, with the
        reactions its text describes."""
        rng = self.rng
        context: texts.ReflectionContext
        if ruptured_now:
            context, chance = "rupture", 0.3
        elif risk_now:
            context, chance = "risk", 0.35
        elif self.deteriorated_seen and phq_total is not None and rng.random() < 0.5:
            context, chance = "deterioration", 0.3
        elif self.missed_since_session:
            context, chance = "missed", 0.15
        elif (
            phq_total is not None and self.first_phq is not None and phq_total <= self.first_phq - 6
        ):
            context, chance = "progress", 0.05
        else:
            context, chance = "general", 0.035
        if rng.random() >= chance:
            return None, False, {}
        shared = rng.random() < (0.6 if context in ("rupture", "risk") else 0.4)
        text = texts.reflection_text(rng, context, self.client.first_name)
        return text, shared, texts.reflection_reactions(context, text, self.client.first_name)

    # ----------------------------------------------------------------- output

    def _after(self, at: datetime, late_hours: int) -> datetime:
        """Submission time after the session: usually within 90 minutes, sometimes up to
        ``late_hours`` later; never on or after ``end``."""
        rng = self.rng
        minutes = rng.randint(2, 90) if rng.random() < 0.85 else rng.randint(120, late_hours * 60)
        submitted = at + timedelta(minutes=SESSION_MINUTES + minutes)
        return min(submitted, self.cutoff - timedelta(minutes=1))

    def _episode(self, end_reason: EndReason | None) -> SimEpisode:
        if self.rupture is not None:
            self.finished_ruptures.append(self.rupture)
        status: EpisodeStatus = "ended" if end_reason else "active"
        end = self.appointments[-1].scheduled_at.date() if end_reason else None
        first_day = self.appointments[0].scheduled_at.date()
        return SimEpisode(
            key=self.key,
            client_key=self.client.key,
            therapist_key=self.therapist.staff.key,
            start=min(self.referral, first_day),
            end=end,
            status=status,
            end_reason=end_reason,
            goals=self.goals,
            outcome_instruments=DEFAULT_OUTCOME_INSTRUMENTS,
            appointments=self.appointments,
            truth=self._truth(end_reason),
        )

    def _truth(self, end_reason: EndReason | None) -> GroundTruth:
        scores = _score_series(self.appointments)
        first = scores[0] if scores else None
        last = scores[-1] if scores else None
        case = first is not None and (first[1] >= 10 or first[2] >= 8)
        attended = sum(a.attendance == "attended" for a in self.appointments)
        recovered = (
            end_reason is not None
            and attended >= 2
            and case
            and last is not None
            and last[1] < 10
            and last[2] < 8
        )
        deterioration = next(
            (n for n, phq, _ in scores if first is not None and phq >= first[1] + 6), None
        )
        ruptures = [
            PlantedRupture(r.session, r.dims, r.repair_session is not None, r.repair_session)
            for r in self.finished_ruptures
        ]
        return GroundTruth(
            case_at_intake=case,
            recovered=recovered,
            deteriorated=deterioration is not None,
            deterioration_session=deterioration,
            dropped_out=self.dropout_session is not None,
            dropout_session=self.dropout_session,
            ruptures=ruptures,
            risk_sessions=_risk_sessions(self.appointments),
            trajectory=self.plan.trajectory,
        )


def _answers_of(appointment: SimAppointment, instrument: str) -> dict[str, int | str] | None:
    for response in appointment.responses:
        if response.instrument == instrument:
            return response.answers
    return None


def _total(answers: dict[str, int | str], link_ids: tuple[str, ...]) -> int:
    return sum(int(answers[i]) for i in link_ids)


def _score_series(appointments: list[SimAppointment]) -> list[tuple[int, int, int]]:
    """(appointment number, PHQ-9 total, GAD-7 total) where both were answered."""
    series = []
    for appointment in appointments:
        phq = _answers_of(appointment, "phq9")
        gad = _answers_of(appointment, "gad7")
        if phq is not None and gad is not None:
            series.append(
                (appointment.number, _total(phq, _PHQ_LINK_IDS), _total(gad, _GAD_LINK_IDS))
            )
    return series


def _risk_sessions(appointments: list[SimAppointment]) -> list[int]:
    sessions = []
    for appointment in appointments:
        phq = _answers_of(appointment, "phq9")
        if phq is not None and int(phq["9"]) > 0:
            sessions.append(appointment.number)
    return sessions


# --------------------------------------------------------------------------- the clinic


def _staff(
    rng: random.Random, n_therapists: int
) -> tuple[SimStaff, list[SimStaff], list[SimStaff]]:
    n_supervisors = max(1, math.ceil(n_therapists / THERAPISTS_PER_SUPERVISOR))
    people = make_staff(rng, 1 + n_supervisors + n_therapists)

    def staff(person: Person, key: str, role: Role) -> SimStaff:
        return SimStaff(key, person.email, person.first_name, person.last_name, role)

    admin = staff(people[0], "administrator", "administrator")
    supervisors = [
        staff(p, f"supervisor-{i + 1:02d}", "supervisor")
        for i, p in enumerate(people[1 : 1 + n_supervisors])
    ]
    therapists = [
        staff(p, f"therapist-{i + 1:02d}", "therapist")
        for i, p in enumerate(people[1 + n_supervisors :])
    ]
    return admin, supervisors, therapists


def _holidays(rng: random.Random, start: date, end: date) -> frozenset[date]:
    """Two holiday blocks of one or two weeks per year, never in the last three weeks."""
    first, last = _monday(start), _monday(end - timedelta(days=21))
    weeks = (last - first).days // 7
    mondays: set[date] = set()
    for _ in range(max(1, round(2 * weeks / 52))):
        if weeks < 3:
            break
        begin = first + timedelta(weeks=rng.randrange(weeks - 1))
        for w in range(rng.choice((1, 2))):
            mondays.add(begin + timedelta(weeks=w))
    return frozenset(mondays)


def _therapist_plans(
    staff: list[SimStaff], rng: random.Random, start: date, end: date
) -> list[_Therapist]:
    return [
        _Therapist(
            staff=s,
            alliance_effect=rng.gauss(0, 0.3),
            repair_skill=rng.gauss(0, 0.4),
            rating_bias=rng.gauss(THERAPIST_RATING_BIAS, 0.35),
            holidays=_holidays(rng, start, end),
        )
        for s in staff
    ]


def _stratified_uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform(0, 1) draws with exactly one in each interval [k/n, (k+1)/n), shuffled.

    Latin hypercube sampling: each draw is still uniform, but a small clinic gets
    close to the expected number of deteriorators, Spanish speakers, long courses...
    instead of, say, one deteriorator in eighty clients by bad luck.
    """
    return np.asarray((rng.permutation(n) + rng.random(n)) / n, dtype=float)


def _client_plans(
    rng: np.random.Generator, n: int, therapist_effects: np.ndarray
) -> list[_ClientPlan]:
    """Correlated random effects for all clients at once (vectorised with numpy)."""
    corr = np.array(
        [
            [1.0, 0.6, -0.10, 0.0],
            [0.6, 1.0, -0.05, 0.0],
            [-0.10, -0.05, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    z = rng.multivariate_normal(np.zeros(4), corr, size=n, method="cholesky")
    phq = np.clip(PHQ_INTAKE_MEAN + PHQ_INTAKE_SD * z[:, 0], 2.0, 26.0)
    gad = np.clip(GAD_INTAKE_MEAN + GAD_INTAKE_SD * z[:, 1], 1.0, 21.0)
    alliance_z = z[:, 2]
    alliance = ALLIANCE_MEAN + ALLIANCE_SD * alliance_z + therapist_effects
    drive = RHO_ALLIANCE_SLOPE * alliance_z + math.sqrt(1 - RHO_ALLIANCE_SLOPE**2) * z[:, 3]
    responsiveness = np.clip(P_MEAN + P_SD * drive, -0.15, 0.92)
    gad_responsiveness = np.clip(responsiveness + rng.normal(0, 0.08, n), -0.15, 0.95)
    # Deteriorators: likelier with a weak alliance; need room to rise on PHQ-9.
    p_det = DETERIORATOR_BASE * np.exp(-0.4 * alliance_z - 0.08) * (phq <= 19)
    deteriorator = _stratified_uniform(rng, n) < p_det
    planned = 8 + np.rint(stats.gamma.ppf(_stratified_uniform(rng, n), 2.0, scale=4.5)).astype(int)
    extra = rng.integers(0, 4, n)
    p_prone = np.clip(0.02 + 0.015 * (phq - 10.0), 0.01, 0.3)
    prone = _stratified_uniform(rng, n) < p_prone
    spanish = _stratified_uniform(rng, n) < SPANISH_SHARE
    dropout_threshold = -np.log1p(-_stratified_uniform(rng, n))
    plans = []
    for i in range(n):
        trajectory: Trajectory
        if deteriorator[i]:
            trajectory = "deteriorator"
        elif responsiveness[i] >= 0.45:
            trajectory = "improver"
        elif responsiveness[i] >= 0.2:
            trajectory = "slow"
        else:
            trajectory = "non-responder"
        sessions = int(planned[i]) + (
            int(extra[i]) if trajectory in ("slow", "non-responder") else 0
        )
        plans.append(
            _ClientPlan(
                phq_intake=float(phq[i]),
                gad_intake=float(gad[i]),
                alliance_z=float(alliance_z[i]),
                alliance_level=float(alliance[i]),
                responsiveness=float(responsiveness[i]),
                gad_responsiveness=float(gad_responsiveness[i]),
                trajectory=trajectory,
                planned_sessions=min(sessions, 30),
                ideation_prone=bool(prone[i]),
                spanish=bool(spanish[i]),
                dropout_threshold=float(dropout_threshold[i]),
            )
        )
    return plans


def simulate_clinic(
    seed: int = 2026,
    n_clients: int = 80,
    n_therapists: int = 4,
    months: int = 12,
    end: date | None = None,
    *,
    tz: tzinfo = UTC,
) -> SimClinic:
    """Simulate a clinic; same arguments -> identical output.

    Args:
        seed: seed for every random draw.
        n_clients: number of clients (one episode each), referred over the window.
        n_therapists: number of therapists; supervisors are added at one per ~8.
        months: length of the simulated window, ending at ``end``.
        end: "today" (default ``DEFAULT_END``): appointments before it have happened,
            from it on they are booked. The demo loader passes today's date.
        tz: zone in which appointments fall in business hours (default UTC).
    """
    if n_clients < 1 or n_therapists < 1 or months < 1:
        raise ValueError("n_clients, n_therapists and months must be positive")
    end = end or DEFAULT_END
    start = _months_before(end, months)
    master = np.random.Generator(np.random.PCG64(seed))
    staff_rng = random.Random(int(master.integers(2**63)))
    name_rng = random.Random(int(master.integers(2**63)))
    admin, supervisors, therapist_staff = _staff(staff_rng, n_therapists)
    therapists = _therapist_plans(therapist_staff, staff_rng, start, end)
    supervision = [
        (supervisors[i * len(supervisors) // n_therapists].key, t.key)
        for i, t in enumerate(therapist_staff)
    ]
    # Referral dates (sorted, so client-00001 is the earliest), therapists, seeds.
    window = (end - start).days
    # Stratified over the window (a steady flow of referrals, not random clumps).
    referrals = np.sort((np.arange(n_clients) + master.random(n_clients)) * window / n_clients)
    referrals = referrals.astype(int)
    caseload = master.uniform(0.6, 1.4, n_therapists)
    assigned = master.choice(n_therapists, size=n_clients, p=caseload / caseload.sum())
    effects = np.array([therapists[t].alliance_effect for t in assigned])
    plans = _client_plans(master, n_clients, effects)
    seeds = master.integers(0, 2**63, n_clients)

    namer = ClientNamer(name_rng)
    clients: list[SimClient] = []
    episodes: list[SimEpisode] = []
    for i, plan in enumerate(plans):
        person = namer.person(plan.spanish)
        client = SimClient(
            key=f"client-{i + 1:05d}",
            code=namer.code(),
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            phone=person.phone,
            language="es" if plan.spanish else "en",
        )
        simulator = _EpisodeSimulator(
            key=f"episode-{i + 1:05d}",
            client=client,
            plan=plan,
            therapist=therapists[int(assigned[i])],
            referral=start + timedelta(days=int(referrals[i])),
            end=end,
            tz=tz,
            rng=random.Random(int(seeds[i])),
        )
        clients.append(client)
        episodes.append(simulator.run())
    return SimClinic(
        seed=seed,
        start=start,
        end=end,
        administrator=admin,
        supervisors=supervisors,
        therapists=therapist_staff,
        supervision=supervision,
        clients=clients,
        episodes=episodes,
    )
