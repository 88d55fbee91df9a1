"""A held-out clinic simulator, written independently of ``alliance.demo.simulate``.

The alert rules were tuned on ``alliance.demo.simulate``; a rule that only works on
the assumptions of the simulator it was tuned on is not proven. This module builds
the same output types (``SimClinic`` and friends, imported from ``simulate``) from
*different* generative assumptions, each taken from the literature or stated as an
assumption, so ``benchmarks/alerts_evaluation.py`` can score the rules on data they
were not tuned on (issue 12). It was written without reading the alert rules or the
main simulator's generative code; only its output types and its documented model
(to differ from it) were read.

``simulate_clinic(seed, n_clients, n_therapists, months, end, *, tz)`` has the main
simulator's signature and meaning. Same arguments give identical output: per-client
traits are drawn with one ``numpy.random.Generator(PCG64(seed))``, which also seeds
one ``random.Random`` per episode. Nothing reads the clock; ``end`` defaults to
``simulate.DEFAULT_END``. Pure Python and numpy.

The model, and how it differs
=============================

Symptoms follow a *client-specific response time*, not a common curve.
    Howard, Kopta, Krause & Orlinsky (1986, American Psychologist 41:159) found the
    share of clients improved rises with the log of the number of sessions: about
    half by session 8 and three quarters by session 26 (a probit in log dose). We
    give each client a response time ``T`` (in attended sessions) drawn from a
    log-normal with median ``RESPONSE_MEDIAN_SESSIONS`` = 8 and log-SD
    ``RESPONSE_LOG_SD`` = 1.6, which reproduces that curve (50% by 8, 77% by 26, 88%
    by 52); Lambert, Hansen & Finch (2001, J Consult Clin Psychol 69:159) report the
    same log-linear dose-response with about half of clients reliably improved by
    session 7. Before ``T`` a client changes little: a remoralization lift of 8% of
    the intake score over the first two sessions (Howard, Lueger, Maling &
    Martinovich 1993, J Consult Clin Psychol 61:678, phase model) and a log-linear
    drift worth 30% of the possible improvement by session 20. Around ``T`` the
    score falls to the client's post-response level (intake x (1 - depth), depth ~
    Beta(6, 2.5), mean .71). Clients who respond do so either
    gradually (an S-curve in log sessions) or by a *sudden gain*: 40% of responders
    drop about 60% of their total improvement between two sessions (Tang & DeRubeis
    1999, J Consult Clin Psychol 67:894: 39% of clients, a gain of about half the
    total improvement, followed by a better alliance; we add 0.5 check-in points
    after the gain). A stronger alliance shortens ``T`` (between-client link).
    Trajectory classes are read off the planted ``T``: "improver" T <= 8, "slow"
    8 < T <= the client's session cap, "non-responder" T beyond it.

Deterioration (planted in ``DETERIORATOR_SHARE`` = 6.5% of clients, intake <= 20).
    Lambert (2013, Bergin & Garfield's Handbook, 6th ed.) puts deterioration of
    adults in routine care at 5-10%. Unlike a rise from session 2, ours come in
    three shapes: early (onset at session 2-3, 40%), after an initial improvement
    (onset 4-10, 40%) and a *sudden loss* (a one-session step, 20%; cf. Lutz et al.
    2013, Psychotherapy Research 23:14), 6.5-10 points above intake at their worst
    (rising over four sessions unless sudden), losing any earlier improvement.
    With noise and unrepaired ruptures the measured reliable deterioration (PHQ-9
    >= 6 above the first) is about 7.5% (target band 5-10%).

Noise is heavy-tailed. Every score and check-in gets Student-t noise with 4
    degrees of freedom (an assumption: single sessions with unusually bad or good
    weeks are more common than a normal law allows). PHQ-9: an AR(1) week-to-week
    state (0.5, t scale 0.9) plus measurement noise (t scale 1.0); GAD-7 shares the
    progress and part of the state.

Check-ins have a ceiling. The client's latent session alliance (mean 8.4 on 0-10,
    SD 1.2 between clients, a therapist effect SD .35, growing .4 over five sessions)
    is rounded and cut at 10: about a quarter of answers are 10, so a drop from a
    latent 11 can show as little or nothing (session-rating scales are known to be
    negatively skewed with a ceiling, e.g. Duncan et al. 2003, J Brief Therapy 3:3).

Ruptures (about 40% of episodes with >= 3 attended sessions).
    Safran, Muran & Eubanks-Carter (2011, Psychotherapy 48:80) report client-rated
    ruptures in 19-42% of sessions (therapists 43-56%); at the episode level far
    more clients have one, so 40% of episodes is conservative. Following Eubanks,
    Muran & Safran (2018, Psychotherapy 55:508) ruptures are of two kinds:
    *confrontation* (a third: a sharp drop of 3-5 points in bond, often with goals,
    "overall" dropping too, a pointed comment 70% of the time, noticed by the
    therapist 70% of the time) and *withdrawal* (two thirds: 2-3.5 points, often in
    one dimension only with "overall" unmoved, or a *slide* over two sessions;
    rarely a pointed comment, often "nothing to add"; noticed 25% of the time;
    clients skip the next check-ins and appointments more often). A rupture can
    begin only at a session with a client check-in, from the second attended
    session on. It is resolved (latent) with probability .60, higher with a strong
    alliance and a therapist skilled at repair; a resolved rupture restores the
    alliance one or two sessions after the full drop, V-shaped (Stiles et al. 2004,
    J Couns Psychol 51:81): the mending session is rated 0.8 above the old level
    and 0.3 of that stays. An unresolved one fades over four sessions. The
    meta-analysis found resolution related to outcome (r = .29): unresolved
    ruptures delay the response time by 4 sessions and add 1.5-3 PHQ-9 points
    that fade by 15% a session; resolved ones bring the response forward by 2
    sessions. ``PlantedRupture.session`` is the session of the first drop
    (a slide's first step); every strained dimension is at least 2 points (a
    slide's first step: 1 point) below the last check-in there.
    ``repaired`` is computed from the generated answers by the documented rule:
    the check-in total is back at or above the last check-in before the rupture
    at one of the next ``REPAIR_WINDOW`` (2) attended sessions before ``end``; a
    skipped check-in at those sessions cannot show a repair.

Missing data is not at random (assumptions, no published figure).
    Client check-ins are skipped about 10% of the time overall, more by clients
    whose symptoms are worse than at intake, whose alliance is weak, and during an
    unresolved rupture; a quarter of therapists have clients who skip much more
    (their routine does not ask for the form). PHQ-9/GAD-7 are skipped together
    (never at the first attended session) about 3% of the time, more when worse.
    Therapists complete their own check-in at 75-98% of sessions.

Attendance and dropout (dropout about 20% of ended episodes).
    Swift & Greenberg (2012, J Consult Clin Psychol 80:547): weighted mean dropout
    19.7%. A client decides to drop out after an attended session with a hazard
    that is highest in the first sessions, varies between clients (a Gamma frailty)
    and rises after a *bad session*: a check-in 1.5 below the client's usual, a
    PHQ-9 3 points above the last, a skipped check-in, an unresolved rupture. The
    dropout then misses one or two more appointments before the episode is closed.
    Cancellations 5.5%; late cancellations and no-shows rise after a bad session
    and during a withdrawal rupture.

Endings follow the good-enough level model (Barkham et al. 2006, J Consult Clin
    Psychol 74:160; Baldwin et al. 2009, J Consult Clin Psychol 77:203): clients end
    when they have improved enough (two sessions below caseness, from session 6),
    so fast responders have short episodes; otherwise at a session cap drawn from
    12-20, or earlier after a review when nothing moves. Appointments are weekly
    in a fixed slot; the clinic closes from 24 December to 1 January.

Risk. PHQ-9 item 9 is above 0 with a probability that rises with the current score
    and a client propensity (SD 1.6 on the log-odds), so a minority of clients
    account for most risk answers.

Calibration, measured by tests/demo/test_heldout.py from the item answers
(1,500 clients, 12 therapists, 24 months, seed 7; the test bands in brackets; seeds
1 and 2 give figures within .03 of these):

* reliable deterioration (PHQ-9 +6 above the first at some point) .075 [.05-.10]
* dropout among ended episodes .21 [.15-.25]; missed appointments (no-shows and late
  cancellations) .10 [.06-.14]
* episodes (>= 3 attended sessions) with a planted rupture .40 [.34-.46]; repaired by
  the rule .42 [.30-.60]; 56% of ruptures strain a single dimension
* client check-ins missing at attended sessions .11 [.07-.18]: .21 when the PHQ-9 is
  3+ above the first, .10 otherwise [at least 1.5 times]
* check-in answers at the ceiling (10) .26 [.15-.50]
* kurtosis of session-to-session PHQ-9 changes 5.8 [>= 4; a normal law gives 3]
* recovery (NHS definition) among finished cases .50 [.38-.58]
* episodes with a PHQ-9 item 9 answer above 0 .21 [.08-.30]
* between-client r, mean check-in vs PHQ-9 improvement .19 [.08-.40]

Ground truth is computed from the generated answers (recovery, deterioration,
risk sessions, repair) or is the planted latent fact (ruptures' sessions and
dimensions, dropout, trajectory class). Session numbers are ``SimAppointment.number``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

import numpy as np

from alliance.demo import texts
from alliance.demo.names import ClientNamer, make_staff
from alliance.demo.simulate import (
    DEFAULT_END,
    REPAIR_WINDOW,
    SESSION_MINUTES,
    Attendance,
    Dimension,
    EndReason,
    GroundTruth,
    Language,
    PlantedRupture,
    SimAppointment,
    SimClient,
    SimClinic,
    SimEpisode,
    SimResponse,
    SimStaff,
    Trajectory,
)

RuptureKind = Literal["confrontation", "withdrawal"]
RuptureShape = Literal["sharp", "slide"]

# Response-time model (Howard et al. 1986; Lambert et al. 2001).
RESPONSE_MEDIAN_SESSIONS = 8.0
RESPONSE_LOG_SD = 1.6
RESPONSE_ALLIANCE_CORR = -0.5  # a stronger alliance -> an earlier response
REMORALIZATION = 0.08  # share of the intake score lost over the first two sessions
SUDDEN_GAIN_SHARE = 0.40  # of responders (Tang & DeRubeis 1999: 39%)
SUDDEN_GAIN_SIZE = 0.60  # share of the client's total improvement in the one step
DRIFT = 0.3  # share of the improvement gained log-linearly by session 20 without a response
# Deterioration (Lambert 2013: 5-10%).
DETERIORATOR_SHARE = 0.065
DETERIORATOR_MAX_INTAKE = 20
# Heavy-tailed noise.
T_DF = 4
PHQ_STATE_AR, PHQ_STATE_SCALE, PHQ_NOISE_SCALE = 0.5, 0.9, 1.0
GAD_NOISE_SCALE = 0.9
# Alliance (0-10 check-in, latent scale before rounding and the ceiling).
ALLIANCE_MEAN, ALLIANCE_SD, THERAPIST_ALLIANCE_SD = 8.4, 1.2, 0.35
ALLIANCE_GROWTH = 0.4
ALLIANCE_AR, ALLIANCE_INNOVATION_SCALE = 0.6, 0.25
CHECKIN_ITEM_SCALE = 0.45
SUDDEN_GAIN_ALLIANCE_BOOST = 0.5
# Ruptures (Safran et al. 2011; Eubanks et al. 2018).
RUPTURE_HAZARD = 0.062
CONFRONTATION_SHARE = 1 / 3
RESOLUTION_BASE = 0.60
NOTICED = {"confrontation": 0.70, "withdrawal": 0.25}
UNRESOLVED_DELAY, RESOLVED_ADVANCE = 4.0, 2.0
REPAIR_REBOUND = 0.8
# Missing data (assumptions).
CHECKIN_SKIP_LOGIT = -2.6
OUTCOME_SKIP_LOGIT = -3.3
HIGH_SKIP_THERAPIST_SHARE = 0.25
# Attendance and dropout (Swift & Greenberg 2012: 19.7%).
P_CANCEL, P_LATE_CANCEL, P_NO_SHOW = 0.055, 0.022, 0.03
DROPOUT_BASE = (0.024, 0.017, 0.009)  # sessions 1-2, 3-5, later
BAD_SESSION_EFFECT = 0.9  # log-hazard per unit of "badness"
# Endings (good-enough level).
SESSION_CAP = (12, 20)
GOOD_ENOUGH_MIN_SESSIONS = 6
GOOD_ENOUGH_END_PROBABILITY = 0.45
SPANISH_SHARE = 0.15
THERAPISTS_PER_SUPERVISOR = 8

_DIMS: tuple[Dimension, ...] = ("bond", "goals", "tasks")
_CHECKIN_KEYS = ("bond", "goals", "tasks", "overall")
_PHQ_WEIGHTS = (1.5, 1.5, 2.0, 2.1, 1.4, 1.4, 1.5, 0.8)  # items 1-8; sleep and fatigue highest
_GAD_WEIGHTS = (1.8, 1.6, 1.9, 1.8, 1.3, 1.5, 1.2)
_HOURS = tuple(range(9, 17))


# --------------------------------------------------------------------------- small helpers


def _t(rng: random.Random, scale: float) -> float:
    """Student-t noise with ``T_DF`` degrees of freedom (normal over sqrt(chi2/df))."""
    chi2 = rng.gammavariate(T_DF / 2, 2.0)
    return scale * rng.gauss(0.0, 1.0) / math.sqrt(chi2 / T_DF)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clip_round(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, 28))


def _clinic_closed(day: date) -> bool:
    """Closed between Christmas Eve and New Year's Day."""
    return (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1)


def _distribute(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """``total`` points over items scored 0-3, one at a time in proportion to ``weights``."""
    values = [0] * len(weights)
    open_items = list(range(len(weights)))
    for _ in range(total):
        index = rng.choices(open_items, weights=[weights[i] for i in open_items])[0]
        values[index] += 1
        if values[index] == 3:
            open_items.remove(index)
    return values


def _checkin_sum(answers: dict[str, int | str]) -> int:
    """Four times the check-in total (integer, so comparisons are exact)."""
    return sum(int(answers[d]) for d in _CHECKIN_KEYS)


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class _TherapistTraits:
    key: str
    alliance_effect: float
    rating_bias: float
    repair_skill: float  # log-odds added to a rupture's resolution
    skip_effect: float  # log-odds added to their clients' check-in skipping
    rating_completion: float
    weight: float


@dataclass(frozen=True, slots=True)
class _ClientTraits:
    phq0: float
    gad0: float
    z_alliance: float
    response_time: float  # attended sessions
    depth: float
    gad_depth: float
    sudden_gain: bool
    deteriorator: bool
    deterioration_onset: int
    deterioration_size: float
    deterioration_sudden: bool
    risk_propensity: float
    skip_propensity: float
    frailty: float
    cap: int
    spanish: bool
    referral: date
    therapist: int
    seed: int


@dataclass(slots=True)
class _Rupture:
    session: int  # appointment number of the first drop
    attended_index: int  # attended-session index of the first drop
    kind: RuptureKind
    shape: RuptureShape
    dimensions: tuple[Dimension, ...]
    drop: dict[str, float]  # full latent drop per check-in key
    resolved: bool
    resolve_at: int  # attended index at which a resolved rupture is mended
    noticed: bool
    pre_answers: dict[str, int]  # the last check-in before the rupture


@dataclass(slots=True)
class _EpisodeState:
    """What the episode loop carries from session to session."""

    attended: int = 0
    phq_state: float = 0.0
    alliance_state: float = 0.0
    alliance_boost: float = 0.0
    response_shift: float = 0.0
    symptom_penalty: float = 0.0
    last_checkin: dict[str, int] | None = None
    checkin_sums: list[int] = field(default_factory=list)
    first_phq: int | None = None
    last_phq: int | None = None
    below_caseness_run: int = 0
    bad: float = 0.0
    missed_last: bool = False
    rupture: _Rupture | None = None
    rupture_cooldown: int = 0
    gained: bool = False


# --------------------------------------------------------------------------- the episode


class _Episode:
    """Generates one episode of care, appointment by appointment."""

    def __init__(
        self,
        traits: _ClientTraits,
        therapist: _TherapistTraits,
        client: SimClient,
        first_day: date,
        slot: tuple[int, int],
        end: date,
        tz: tzinfo,
    ) -> None:
        self.c = traits
        self.th = therapist
        self.client = client
        self.rng = random.Random(traits.seed)
        self.first_day = first_day
        self.hour = slot[1]
        self.end = end
        self.tz = tz
        self.s = _EpisodeState()
        self.alliance_level = (
            ALLIANCE_MEAN
            + ALLIANCE_SD * traits.z_alliance
            + therapist.alliance_effect
            - 0.04 * (traits.phq0 - 15)
        )
        rng = self.rng
        self.dim_offset = {d: rng.gauss(0.0, 0.4) for d in _CHECKIN_KEYS}
        self.phq_weights = [w * math.exp(rng.gauss(0.0, 0.3)) for w in _PHQ_WEIGHTS]
        self.gad_weights = [w * math.exp(rng.gauss(0.0, 0.3)) for w in _GAD_WEIGHTS]
        self.goals = texts.choose_goals(rng, client.language, rng.choice((1, 2, 2, 3)))
        self.ruptures: list[_Rupture] = []
        self.appointments: list[SimAppointment] = []

    # ----------------------------------------------------------------- latent scores

    def _progress(self, j: int) -> float:
        """Share of the way from the pre-response level to the post-response level."""
        t = max(1.0, self.c.response_time + self.s.response_shift)
        if self.c.sudden_gain:
            step = math.ceil(t)
            drift = 1 - SUDDEN_GAIN_SIZE - 0.25  # change before the gain
            if j < step:
                return drift * (j - 1) / step
            return 1 - 0.25 * math.exp(-(j - step) / 2)
        # Lambert's log-linear drift before the response, then the S-curve around it.
        response = _sigmoid((math.log(j) - math.log(t)) / 0.2)
        return response + (1 - response) * DRIFT * min(1.0, math.log(j) / math.log(20))

    def _deterioration(self, j: int) -> float:
        c = self.c
        if not c.deteriorator or j < c.deterioration_onset:
            return 0.0
        if c.deterioration_sudden:
            return c.deterioration_size
        return c.deterioration_size * min(1.0, (j - c.deterioration_onset + 1) / 4)

    def _symptoms(self, j: int) -> tuple[float, float, float]:
        """Latent PHQ-9 and GAD-7 before measurement noise, and the progress."""
        c, s = self.c, self.s
        lift = 1 - REMORALIZATION * min(j - 1, 2) / 2
        progress = self._progress(j)
        if c.deteriorator:
            # Whatever improvement came before the onset is lost over four sessions.
            before = self._progress(max(1, min(j, c.deterioration_onset - 1)))
            progress = before * max(0.0, 1 - max(0, j - c.deterioration_onset + 1) / 4)
        pre_phq, pre_gad = c.phq0 * lift, c.gad0 * lift
        phq = pre_phq - (pre_phq - c.phq0 * (1 - c.depth)) * progress
        gad = pre_gad - (pre_gad - c.gad0 * (1 - c.gad_depth)) * progress
        worse = self._deterioration(j)
        phq += worse + s.symptom_penalty
        gad += 0.6 * worse + 0.6 * s.symptom_penalty
        return phq, gad, progress

    # ----------------------------------------------------------------- responses

    def _stamp_before(self, at: datetime) -> datetime:
        return at - timedelta(minutes=self.rng.randint(20, 20 * 60))

    def _stamp_after(self, at: datetime, latest_hours: int) -> datetime:
        return at + timedelta(minutes=SESSION_MINUTES + self.rng.randint(1, latest_hours * 60))

    def _phq_answers(self, total: int, latent: float) -> dict[str, int | str]:
        rng = self.rng
        logit = -4.4 + self.c.risk_propensity + 0.22 * (latent - 14)
        item9 = 0
        if rng.random() < _sigmoid(logit):
            item9 = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        item9 = max(min(item9, total), total - 24)
        items = _distribute(total - item9, self.phq_weights, rng)
        answers: dict[str, int | str] = {str(i + 1): v for i, v in enumerate(items)}
        answers["9"] = item9
        if total > 0:
            answers["10"] = _clip_round(total / 8 + rng.gauss(0.0, 0.6), 0, 3)
        return answers

    def _gad_answers(self, total: int) -> dict[str, int | str]:
        items = _distribute(total, self.gad_weights, self.rng)
        answers: dict[str, int | str] = {str(i + 1): v for i, v in enumerate(items)}
        if total > 0:
            answers["8"] = _clip_round(total / 7 + self.rng.gauss(0.0, 0.6), 0, 3)
        return answers

    def _comment(self, rupture_now: _Rupture | None) -> str | None:
        rng, lang = self.rng, self.client.language
        u = rng.random()
        if rupture_now is not None:
            critical = 0.70 if rupture_now.kind == "confrontation" else 0.20
            if u < critical:
                return texts.critical_text(rng, lang, rng.choice(rupture_now.dimensions))
            if rupture_now.kind == "withdrawal" and u < critical + 0.35:
                return texts.better_text(rng, lang, "neutral")
            return None
        if u < 0.07:
            return texts.better_text(rng, lang, "neutral")
        if u < 0.12:
            return texts.better_text(rng, lang, "mild")
        if u < 0.135:
            return texts.critical_text(rng, lang, rng.choice(_DIMS))
        return None

    # ----------------------------------------------------------------- ruptures

    def _maybe_start_rupture(self, number: int, j: int) -> _Rupture | None:
        s, rng = self.s, self.rng
        if j < 2 or s.rupture is not None or s.rupture_cooldown > 0 or s.last_checkin is None:
            return None
        hazard = RUPTURE_HAZARD * math.exp(-0.35 * self.c.z_alliance)
        if rng.random() >= hazard:
            return None
        previous = s.last_checkin
        confrontation = rng.random() < CONFRONTATION_SHARE
        dims: list[Dimension]
        shape: RuptureShape = "sharp"
        if confrontation:
            dims = ["bond", "goals"] if rng.random() < 0.5 else ["bond"]
            size = rng.uniform(3.0, 5.0)
        else:
            # Withdrawal: mostly goals or tasks (going along without agreeing), one dimension
            # more often than two, and a slide over two sessions 40% of the time.
            pool: list[Dimension] = (
                ["goals", "tasks", "bond"] if rng.random() < 0.3 else ["goals", "tasks"]
            )
            dims = rng.sample(pool, k=1 if rng.random() < 0.6 else 2)
            size = rng.uniform(2.0, 3.5)
            if rng.random() < 0.4:
                shape = "slide"
        # A drop needs room below the last answer.
        dims = [d for d in dims if previous[d] >= 3]
        if not dims:
            return None
        drop: dict[str, float] = {d: size * rng.uniform(0.85, 1.15) for d in dims}
        moves_overall = confrontation or len(dims) > 1 or rng.random() < 0.3
        drop["overall"] = 0.7 * size if moves_overall else 0.0
        skill = self.th.repair_skill + 0.5 * self.c.z_alliance
        resolved = rng.random() < _sigmoid(
            math.log(RESOLUTION_BASE / (1 - RESOLUTION_BASE)) + skill
        )
        full_at = j + (1 if shape == "slide" else 0)
        return _Rupture(
            session=number,
            attended_index=j,
            kind="confrontation" if confrontation else "withdrawal",
            shape=shape,
            dimensions=tuple(sorted(dims, key=_DIMS.index)),
            drop=drop,
            resolved=resolved,
            resolve_at=full_at + rng.choice((1, 1, 2)),
            noticed=rng.random() < NOTICED["confrontation" if confrontation else "withdrawal"],
            pre_answers=dict(previous),
        )

    def _dent(self, r: _Rupture, j: int) -> dict[str, float]:
        """The rupture's latent drop per check-in key at attended session ``j``."""
        since = j - r.attended_index
        if r.resolved and j >= r.resolve_at:
            return {}
        share = 0.5 if (r.shape == "slide" and since == 0) else 1.0
        full_at = r.attended_index + (1 if r.shape == "slide" else 0)
        if not r.resolved and j > full_at:
            share = 0.78 ** (j - full_at)
        return {k: v * share for k, v in r.drop.items()}

    def _rupture_over(self, r: _Rupture, j: int) -> bool:
        if r.resolved:
            return j >= r.resolve_at
        return j - r.attended_index >= 4

    # ----------------------------------------------------------------- one attended session

    def _attended(self, number: int, at: datetime) -> SimAppointment:
        c, s, rng = self.c, self.s, self.rng
        s.attended += 1
        j = s.attended
        phq_latent, gad_latent, progress = self._symptoms(j)
        s.phq_state = PHQ_STATE_AR * s.phq_state + _t(rng, PHQ_STATE_SCALE)
        phq_total = _clip_round(phq_latent + s.phq_state + _t(rng, PHQ_NOISE_SCALE), 0, 27)
        gad_total = _clip_round(gad_latent + 0.7 * s.phq_state + _t(rng, GAD_NOISE_SCALE), 0, 21)
        if c.sudden_gain and not s.gained and progress > 0.5:
            s.gained = True
            s.alliance_boost += SUDDEN_GAIN_ALLIANCE_BOOST
        worse_than_intake = max(0.0, phq_latent - c.phq0)
        unresolved = s.rupture is not None and not s.rupture.resolved

        responses: list[SimResponse] = []
        # Outcome measures, before the session; never skipped at the first one.
        skip_outcome = j > 1 and rng.random() < _sigmoid(
            OUTCOME_SKIP_LOGIT + 0.5 * self.th.skip_effect + 0.15 * worse_than_intake
        )
        bad = 0.0
        if not skip_outcome:
            phq = self._phq_answers(phq_total, phq_latent)
            responses.append(SimResponse("phq9", "client", phq, self._stamp_before(at)))
            gad = self._gad_answers(gad_total)
            responses.append(SimResponse("gad7", "client", gad, self._stamp_before(at)))
            if s.first_phq is None:
                s.first_phq = phq_total
            if s.last_phq is not None and phq_total >= s.last_phq + 3:
                bad += 1.0
            s.last_phq = phq_total
            if (j - 1) % 4 == 0:
                gbo = {
                    f"goal{k + 1}": _clip_round(2 + 6 * progress + rng.gauss(0, 1.2), 0, 10)
                    for k in range(len(self.goals))
                }
                responses.append(SimResponse("gbo", "client", dict(gbo), self._stamp_before(at)))
        s.below_caseness_run = (
            s.below_caseness_run + 1 if (phq_latent < 9 and gad_latent < 7) else 0
        )

        # Alliance this session.
        s.alliance_state = ALLIANCE_AR * s.alliance_state + _t(rng, ALLIANCE_INNOVATION_SCALE)
        latent = (
            self.alliance_level
            + ALLIANCE_GROWTH * min(j - 1, 4) / 4
            + s.alliance_state
            + s.alliance_boost
        )
        skip_checkin = rng.random() < _sigmoid(
            CHECKIN_SKIP_LOGIT
            + c.skip_propensity
            + self.th.skip_effect
            + 0.2 * worse_than_intake
            + 0.3 * max(0.0, 8.0 - latent)
            + (1.2 if unresolved else 0.0)
        )
        started = None if skip_checkin else self._maybe_start_rupture(number, j)
        if started is not None:
            s.rupture = started
            self.ruptures.append(started)
        r = s.rupture
        dent = self._dent(r, j) if r is not None else {}
        rebound = 0.0
        if r is not None and r.resolved and j == r.resolve_at:
            # Mending is a V: the session of the repair is rated above the old level
            # (Stiles et al. 2004), and a little of that stays.
            rebound = REPAIR_REBOUND
            s.alliance_boost += 0.3
        if not skip_checkin:
            answers: dict[str, int | str] = {}
            raw = {
                d: latent
                + rebound
                + self.dim_offset[d]
                - dent.get(d, 0.0)
                + _t(rng, CHECKIN_ITEM_SCALE)
                for d in _CHECKIN_KEYS
            }
            values = {d: _clip_round(v, 0, 10) for d, v in raw.items()}
            if r is not None and started is r:
                need = 1 if r.shape == "slide" else 2
                for d in r.dimensions:
                    values[d] = min(values[d], r.pre_answers[d] - need)
                if r.kind == "confrontation":
                    values["overall"] = min(values["overall"], r.pre_answers["overall"] - 1)
            elif r is not None and r.shape == "slide" and j == r.attended_index + 1:
                for d in r.dimensions:
                    values[d] = min(values[d], r.pre_answers[d] - 2)
            answers.update({d: max(0, v) for d, v in values.items()})
            comment = self._comment(
                r
                if r is not None
                and (started is r or (r.shape == "slide" and j == r.attended_index + 1))
                else None
            )
            if comment:
                answers["better"] = comment
            total4 = _checkin_sum(answers)
            if s.checkin_sums and total4 <= sum(s.checkin_sums[-4:]) / len(s.checkin_sums[-4:]) - 6:
                bad += 1.0
            s.checkin_sums.append(total4)
            s.last_checkin = {d: int(answers[d]) for d in _CHECKIN_KEYS}
            responses.append(SimResponse("checkin", "client", answers, self._stamp_after(at, 6)))
        else:
            bad += 0.6
        if r is not None and not r.resolved and j - r.attended_index <= 2:
            bad += 1.0

        # The therapist's own rating: their bias, and the rupture only when they noticed it.
        if rng.random() < self.th.rating_completion:
            seen = 0.7 if (r is not None and r.noticed) else 0.0
            therapist_answers: dict[str, int | str] = {
                d: _clip_round(
                    latent
                    + self.th.rating_bias
                    + 0.5 * self.dim_offset[d]
                    - seen * dent.get(d, 0.0)
                    + _t(rng, CHECKIN_ITEM_SCALE),
                    0,
                    10,
                )
                for d in _CHECKIN_KEYS
            }
            responses.append(
                SimResponse(
                    "checkin-therapist", "therapist", therapist_answers, self._stamp_after(at, 4)
                )
            )

        reflection, reactions = self._reflection(started is not None, phq_total, progress)

        # Consequences of the rupture for symptoms and, before the response, for its timing
        # (moving the response time later once it has passed would undo the gain).
        if started is not None:
            responded = j >= c.response_time + s.response_shift
            if started.resolved and not responded:
                s.response_shift -= RESOLVED_ADVANCE
            elif not started.resolved:
                s.response_shift += 0.0 if responded else UNRESOLVED_DELAY
                s.symptom_penalty += rng.uniform(1.5, 3.0)
        s.symptom_penalty *= 0.85
        if r is not None and self._rupture_over(r, j):
            s.rupture = None
            s.rupture_cooldown = 2
        elif s.rupture is None and s.rupture_cooldown > 0:
            s.rupture_cooldown -= 1
        s.bad = bad
        return SimAppointment(
            number=number,
            scheduled_at=at,
            attendance="attended",
            responses=responses,
            reflection=reflection,
            reflection_shared=reflection is not None and rng.random() < 0.5,
            reflection_reactions=reactions,
        )

    def _reflection(
        self, rupture_started: bool, phq_total: int, progress: float
    ) -> tuple[str | None, dict[str, int]]:
        s, rng = self.s, self.rng
        context: texts.ReflectionContext
        if rupture_started and rng.random() < 0.25:
            context = "rupture"
        elif s.first_phq is not None and phq_total >= s.first_phq + 6 and rng.random() < 0.15:
            context = "deterioration"
        elif s.missed_last and rng.random() < 0.08:
            context = "missed"
        elif progress > 0.7 and rng.random() < 0.04:
            context = "progress"
        elif rng.random() < 0.025:
            context = "general"
        else:
            return None, {}
        name = self.client.first_name
        text = texts.reflection_text(rng, context, name)
        return text, texts.reflection_reactions(context, text, name)

    # ----------------------------------------------------------------- the loop

    def _attendance(self) -> Attendance:
        rng, s = self.rng, self.s
        r = s.rupture
        withdrawal = r is not None and r.kind == "withdrawal" and not r.resolved
        factor = math.exp(0.7 * s.bad + (0.8 if withdrawal else 0.0))
        u = rng.random()
        if u < P_CANCEL:
            return "cancelled"
        if u < P_CANCEL + P_LATE_CANCEL * factor:
            return "late_cancel"
        if u < P_CANCEL + (P_LATE_CANCEL + P_NO_SHOW) * factor:
            return "no_show"
        return "attended"

    def _dropout_hazard(self) -> float:
        j = self.s.attended
        base = DROPOUT_BASE[0] if j <= 2 else DROPOUT_BASE[1] if j <= 5 else DROPOUT_BASE[2]
        return (
            base
            * self.c.frailty
            * math.exp(BAD_SESSION_EFFECT * self.s.bad - 0.3 * self.c.z_alliance)
        )

    def _planned_end(self) -> bool:
        c, s, rng = self.c, self.s, self.rng
        j = s.attended
        if j >= c.cap:
            return True
        if j >= GOOD_ENOUGH_MIN_SESSIONS and s.below_caseness_run >= 2:
            return rng.random() < GOOD_ENOUGH_END_PROBABILITY
        # A review after eight sessions without change sometimes ends the episode.
        if j >= 8 and self._symptoms(j)[2] < 0.2 and not c.deteriorator:
            return rng.random() < 0.06
        return False

    def run(self) -> tuple[list[SimAppointment], date | None, EndReason | None, int | None]:
        """Appointments, closing date, end reason and the dropout session (if any)."""
        rng, s = self.rng, self.s
        day = self.first_day
        number = 0
        dropout_session: int | None = None
        misses_left = 0
        closed: date | None = None
        reason: EndReason | None = None
        booked_future = 0
        future_limit = rng.choice((1, 2))
        while True:
            if _clinic_closed(day):
                day += timedelta(days=7)
                continue
            number += 1
            at = datetime.combine(day, time(self.hour), tzinfo=self.tz)
            if day >= self.end:
                self.appointments.append(SimAppointment(number, at, "scheduled", []))
                booked_future += 1
                if booked_future >= future_limit:
                    break
                day += timedelta(days=7)
                continue
            if dropout_session is not None:
                kind: Attendance = rng.choices(
                    ("no_show", "late_cancel", "cancelled"), weights=(70, 20, 10)
                )[0]
                self.appointments.append(SimAppointment(number, at, kind, []))
                misses_left -= 1
                if misses_left == 0:
                    closed, reason = day, "dropout"
                    break
                day += timedelta(days=7)
                continue
            attendance = self._attendance()
            if attendance != "attended":
                self.appointments.append(SimAppointment(number, at, attendance, []))
                s.missed_last = attendance != "cancelled"
                day += timedelta(days=7)
                continue
            self.appointments.append(self._attended(number, at))
            s.missed_last = False
            if self._planned_end():
                closed, reason = day, "planned"
                break
            if rng.random() < min(0.9, self._dropout_hazard()):
                dropout_session = number
                misses_left = rng.choice((1, 2))
            day += timedelta(days=7)
        return self.appointments, closed, reason, dropout_session


# --------------------------------------------------------------------------- ground truth


def _answers(appointment: SimAppointment, instrument: str) -> dict[str, int | str] | None:
    for response in appointment.responses:
        if response.instrument == instrument:
            return response.answers
    return None


def _truth(
    appointments: list[SimAppointment],
    ended: bool,
    dropout_session: int | None,
    ruptures: list[_Rupture],
    trajectory: Trajectory,
) -> GroundTruth:
    """Ground truth from the generated answers (and the planted latent facts)."""
    attended = [a for a in appointments if a.attendance == "attended"]
    scores: list[tuple[int, int, int]] = []
    risk: list[int] = []
    checkins: dict[int, int] = {}
    for a in attended:
        phq, gad = _answers(a, "phq9"), _answers(a, "gad7")
        if phq is not None and gad is not None:
            scores.append(
                (
                    a.number,
                    sum(int(phq[str(i)]) for i in range(1, 10)),
                    sum(int(gad[str(i)]) for i in range(1, 8)),
                )
            )
            if int(phq["9"]) > 0:
                risk.append(a.number)
        if (c := _answers(a, "checkin")) is not None:
            checkins[a.number] = _checkin_sum(c)
    case = bool(scores) and (scores[0][1] >= 10 or scores[0][2] >= 8)
    recovered = ended and len(attended) >= 2 and case and scores[-1][1] < 10 and scores[-1][2] < 8
    deterioration = next((n for n, p, _ in scores[1:] if p >= scores[0][1] + 6), None)
    numbers = [a.number for a in attended]
    planted: list[PlantedRupture] = []
    for r in ruptures:
        pre = max(n for n in checkins if n < r.session)
        position = numbers.index(r.session)
        window = numbers[position + 1 : position + 1 + REPAIR_WINDOW]
        repair = next(
            (n for n in window if n in checkins and checkins[n] >= checkins[pre]),
            None,
        )
        planted.append(PlantedRupture(r.session, r.dimensions, repair is not None, repair))
    return GroundTruth(
        case_at_intake=case,
        recovered=recovered,
        deteriorated=deterioration is not None,
        deterioration_session=deterioration,
        dropped_out=dropout_session is not None,
        dropout_session=dropout_session,
        ruptures=planted,
        risk_sessions=risk,
        trajectory=trajectory,
    )


def _trajectory(traits: _ClientTraits) -> Trajectory:
    if traits.deteriorator:
        return "deteriorator"
    if traits.response_time <= RESPONSE_MEDIAN_SESSIONS:
        return "improver"
    return "slow" if traits.response_time <= traits.cap else "non-responder"


# --------------------------------------------------------------------------- the clinic


def _therapists(rng: np.random.Generator, n: int) -> list[_TherapistTraits]:
    high_skip = rng.random(n) < HIGH_SKIP_THERAPIST_SHARE
    return [
        _TherapistTraits(
            key=f"therapist-{i + 1:02d}",
            alliance_effect=float(rng.normal(0.0, THERAPIST_ALLIANCE_SD)),
            rating_bias=float(rng.normal(-0.3, 0.4)),
            repair_skill=float(rng.normal(0.0, 0.5)),
            skip_effect=float(rng.normal(1.3, 0.3) if high_skip[i] else rng.normal(-0.2, 0.3)),
            rating_completion=float(rng.uniform(0.75, 0.98)),
            weight=float(rng.gamma(4.0, 0.25)),
        )
        for i in range(n)
    ]


def _clients(
    rng: np.random.Generator, n: int, start: date, end: date, weights: np.ndarray
) -> list[_ClientTraits]:
    z = rng.standard_normal((n, 4))
    phq0 = np.clip(15.5 + 5.2 * z[:, 0], 4, 27)
    gad0 = np.clip(12.0 + 4.4 * (0.65 * z[:, 0] + math.sqrt(1 - 0.65**2) * z[:, 1]), 2, 21)
    z_a = z[:, 2]
    rho = RESPONSE_ALLIANCE_CORR
    log_t = math.log(RESPONSE_MEDIAN_SESSIONS) + RESPONSE_LOG_SD * (
        rho * z_a + math.sqrt(1 - rho**2) * z[:, 3]
    )
    depth = rng.beta(6.0, 2.5, n)
    gad_depth = np.clip(depth * rng.uniform(0.8, 1.1, n), 0.0, 0.95)
    eligible = phq0 <= DETERIORATOR_MAX_INTAKE
    odds = np.exp(-0.5 * z_a) * eligible
    # Scale so that DETERIORATOR_SHARE of all clients are planted deteriorators.
    p_det = np.clip(odds * DETERIORATOR_SHARE * n / max(odds.sum(), 1e-9), 0, 0.9)
    deteriorator = rng.random(n) < p_det
    det_shape = rng.random(n)
    det_onset = np.where(det_shape < 0.4, rng.integers(2, 4, n), rng.integers(4, 11, n))
    days = (end - start).days
    referral_offsets = np.sort(rng.integers(0, days, n))
    therapist = rng.choice(len(weights), size=n, p=weights / weights.sum())
    seeds = rng.integers(0, 2**63 - 1, n)
    out = []
    for i in range(n):
        out.append(
            _ClientTraits(
                phq0=float(phq0[i]),
                gad0=float(gad0[i]),
                z_alliance=float(z_a[i]),
                response_time=float(math.exp(log_t[i])),
                depth=float(depth[i]),
                gad_depth=float(gad_depth[i]),
                sudden_gain=bool(rng.random() < SUDDEN_GAIN_SHARE),
                deteriorator=bool(deteriorator[i]),
                deterioration_onset=int(det_onset[i]),
                deterioration_size=float(rng.uniform(6.5, 10.0)),
                deterioration_sudden=bool(det_shape[i] >= 0.8),
                risk_propensity=float(rng.normal(0.0, 1.6)),
                skip_propensity=float(rng.normal(0.0, 0.7)),
                frailty=float(rng.gamma(2.0, 0.5)),
                cap=int(rng.integers(SESSION_CAP[0], SESSION_CAP[1] + 1)),
                spanish=bool(rng.random() < SPANISH_SHARE),
                referral=start + timedelta(days=int(referral_offsets[i])),
                therapist=int(therapist[i]),
                seed=int(seeds[i]),
            )
        )
    return out


def _staff(seed: int, n_therapists: int) -> tuple[SimStaff, list[SimStaff], list[SimStaff]]:
    n_supervisors = max(1, math.ceil(n_therapists / THERAPISTS_PER_SUPERVISOR))
    people = make_staff(random.Random(seed), 1 + n_supervisors + n_therapists)
    admin = SimStaff(
        "administrator", people[0].email, people[0].first_name, people[0].last_name, "administrator"
    )
    supervisors = [
        SimStaff(f"supervisor-{i + 1:02d}", p.email, p.first_name, p.last_name, "supervisor")
        for i, p in enumerate(people[1 : 1 + n_supervisors])
    ]
    therapists = [
        SimStaff(f"therapist-{i + 1:02d}", p.email, p.first_name, p.last_name, "therapist")
        for i, p in enumerate(people[1 + n_supervisors :])
    ]
    return admin, supervisors, therapists


def _first_appointment(referral: date, weekday: int, rng: random.Random) -> date:
    day = referral + timedelta(days=rng.randint(5, 20))
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def simulate_clinic(
    seed: int = 2026,
    n_clients: int = 80,
    n_therapists: int = 4,
    months: int = 12,
    end: date | None = None,
    *,
    tz: tzinfo = UTC,
) -> SimClinic:
    """A held-out simulated clinic: ``n_clients`` clients (one episode each) referred over
    the ``months`` before ``end`` to ``n_therapists`` therapists; see the module docstring.

    Same arguments give the same clinic. ``end`` ("today") defaults to ``DEFAULT_END``;
    appointment times are wall-clock hours in ``tz``.
    """
    if n_clients < 1 or n_therapists < 1 or months < 1:
        raise ValueError("n_clients, n_therapists and months must be at least 1")
    end = end or DEFAULT_END
    start = _months_before(end, months)
    rng = np.random.Generator(np.random.PCG64(seed))
    therapist_traits = _therapists(rng, n_therapists)
    weights = np.array([t.weight for t in therapist_traits])
    plans = _clients(rng, n_clients, start, end, weights)
    admin, supervisors, therapists = _staff(int(rng.integers(0, 2**31)), n_therapists)
    supervision = [
        (supervisors[i // THERAPISTS_PER_SUPERVISOR].key, t.key) for i, t in enumerate(therapists)
    ]
    namer = ClientNamer(random.Random(int(rng.integers(0, 2**31))))
    # Each therapist's diary: (weekday, hour) -> the last day that slot is taken.
    diaries: list[dict[tuple[int, int], date]] = [{} for _ in therapists]
    clients: list[SimClient] = []
    episodes: list[SimEpisode] = []
    for i, plan in enumerate(plans):
        key = f"{i + 1:05d}"
        language: Language = "es" if plan.spanish else "en"
        person = namer.person(plan.spanish)
        client = SimClient(
            f"client-{key}",
            namer.code(),
            person.first_name,
            person.last_name,
            person.email,
            person.phone,
            language,
        )
        clients.append(client)
        local = random.Random(plan.seed ^ 0x5EED)
        diary = diaries[plan.therapist]
        earliest = plan.referral + timedelta(days=5)
        slots = [(w, h) for w in range(5) for h in _HOURS]
        free = [slot for slot in slots if diary.get(slot, date.min) < earliest]
        if free:
            slot, available = local.choice(free), plan.referral
        else:
            # A full diary: wait for the first slot to free up, or share one if none will.
            slot = min(slots, key=lambda s: diary.get(s, date.min))
            available = diary[slot] if diary[slot] < end else plan.referral
        first_day = _first_appointment(available, slot[0], local)
        therapist = therapist_traits[plan.therapist]
        episode = _Episode(plan, therapist, client, first_day, slot, end, tz)
        appointments, closed, reason, dropout_session = episode.run()
        diary[slot] = closed or date.max
        truth = _truth(
            appointments, closed is not None, dropout_session, episode.ruptures, _trajectory(plan)
        )
        episodes.append(
            SimEpisode(
                key=f"episode-{key}",
                client_key=client.key,
                therapist_key=therapist.key,
                start=plan.referral,
                end=closed,
                status="ended" if closed is not None else "active",
                end_reason=reason,
                goals=episode.goals,
                outcome_instruments=("phq9", "gad7"),
                appointments=appointments,
                truth=truth,
            )
        )
    return SimClinic(
        seed=seed,
        start=start,
        end=end,
        administrator=admin,
        supervisors=supervisors,
        therapists=therapists,
        supervision=supervision,
        clients=clients,
        episodes=episodes,
    )
