"""Outcomes of episodes with repaired, unrepaired and no ruptures, and the therapist's
perspective gap (issue 11, point 2).

Docs/clinical.md "Alliance ruptures and repair": unrepaired ruptures predicted worse outcome and
repaired ones go with better outcome (r = .29, Eubanks, Muran & Safran 2018). This module shows
the clinic the same comparison on its own episodes; it is observational (which ruptures get
repaired is not random) and the sentences say so.

Decisions:

- **Groups by rupture alert** (`AlertRecord.kind == "rupture"`): an episode with no rupture alert
  is "no rupture"; with at least one, it is "repaired" when every one of them reached status
  "repaired", and "unrepaired" when any did not (unresolved, still open, acknowledged, closed
  without repair) — one unrepaired rupture is enough to put an episode there.
- **Change** is post - pre on the outcome measure (PHQ-9 by default: negative is improvement).
  Each group's mean change has a t interval; the difference between two groups a Welch interval.
  Recovery (NHS Talking Therapies, `alliance.measures.nhs`) is counted where it applies, with a
  Wilson interval.
- **The perspective gap**: episodes with and without a perspective_gap alert, grouped the same
  way, and the association between an episode's mean (therapist - client) check-in gap — over
  sessions where both rated — and its change: least-squares slope with a t interval and the
  Pearson r with a Fisher-z interval.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from alliance.analytics.frames import per_session, response_table
from alliance.analytics.phrases import gettext_noop, say
from alliance.analytics.records import AlertRecord, ClinicData, ResponseRecord
from alliance.measures import nhs

# Group names: keys of the results and words of the sentences (alliance.analytics.phrases).
NO_RUPTURE = gettext_noop("no rupture")
REPAIRED = gettext_noop("repaired")
UNREPAIRED = gettext_noop("unrepaired")
WITH_GAP = gettext_noop("with perspective-gap alert")
WITHOUT_GAP = gettext_noop("without perspective-gap alert")


@dataclass(frozen=True)
class EpisodeChange:
    episode: str
    pre: float
    post: float
    recovered: bool | None = None  # None where recovery does not apply or was not judged

    @property
    def change(self) -> float:
        return self.post - self.pre


@dataclass(frozen=True)
class GroupOutcome:
    group: str
    n: int
    mean_change: float | None
    low: float | None
    high: float | None
    recovery_denominator: int
    recovered: int
    recovery_rate: float | None
    recovery_low: float | None
    recovery_high: float | None


@dataclass(frozen=True)
class GroupDifference:
    group: str
    versus: str
    difference: float | None  # mean change of `group` minus that of `versus`
    low: float | None
    high: float | None


@dataclass(frozen=True)
class GapAssociation:
    n: int
    slope: float | None  # change per point of (therapist - client) gap
    slope_low: float | None
    slope_high: float | None
    r: float | None
    r_low: float | None
    r_high: float | None


@dataclass(frozen=True)
class GroupedOutcomes:
    outcome_label: str
    groups: tuple[GroupOutcome, ...]
    differences: tuple[GroupDifference, ...]
    sentences: tuple[str, ...]
    association: GapAssociation | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome_label,
            "groups": [asdict(g) for g in self.groups],
            "differences": [asdict(d) for d in self.differences],
            "association": asdict(self.association) if self.association else None,
            "sentences": list(self.sentences),
        }


# ----------------------------------------------------------------------------- statistics


def _group(name: str, changes: Sequence[EpisodeChange]) -> GroupOutcome:
    values = np.array([c.change for c in changes], dtype=np.float64)
    n = int(values.size)
    mean = float(values.mean()) if n else None
    low = high = None
    if n >= 2:
        half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
        low, high = mean - half, mean + half  # type: ignore[operator]
    judged = [c.recovered for c in changes if c.recovered is not None]
    recovered = sum(1 for r in judged if r)
    rate = r_low = r_high = None
    if judged:
        rate = recovered / len(judged)
        lo, hi = proportion_confint(recovered, len(judged), alpha=0.05, method="wilson")
        r_low, r_high = float(lo), float(hi)
    return GroupOutcome(name, n, mean, low, high, len(judged), recovered, rate, r_low, r_high)


def _welch(
    a: Sequence[EpisodeChange], b: Sequence[EpisodeChange], name: str, versus: str
) -> GroupDifference:
    x = np.array([c.change for c in a], dtype=np.float64)
    y = np.array([c.change for c in b], dtype=np.float64)
    if x.size < 2 or y.size < 2:
        diff = float(x.mean() - y.mean()) if x.size and y.size else None
        return GroupDifference(name, versus, diff, None, None)
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    diff = float(x.mean() - y.mean())
    se = math.sqrt(vx + vy)
    if se == 0:
        return GroupDifference(name, versus, diff, diff, diff)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    return GroupDifference(name, versus, diff, diff - half, diff + half)


def _association(changes: Sequence[EpisodeChange], gaps: Mapping[str, float]) -> GapAssociation:
    pairs = [(gaps[c.episode], c.change) for c in changes if c.episode in gaps]
    n = len(pairs)
    empty = GapAssociation(n, None, None, None, None, None, None)
    if n < 3:
        return empty
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return empty
    fit = stats.linregress(x, y)
    half = float(stats.t.ppf(0.975, n - 2)) * float(fit.stderr)
    r = float(fit.rvalue)
    r_low = r_high = None
    if n > 3 and abs(r) < 1:
        z, dz = math.atanh(r), 1.959963984540054 / math.sqrt(n - 3)
        r_low, r_high = math.tanh(z - dz), math.tanh(z + dz)
    return GapAssociation(n, float(fit.slope), fit.slope - half, fit.slope + half, r, r_low, r_high)


# ----------------------------------------------------------------------------- words


NO_EPISODES = gettext_noop("%(group)s: no episodes with a first and a last %(outcome)s.")
FELL, ROSE = gettext_noop("fell"), gettext_noop("rose")
ONE_EPISODE = gettext_noop("1 episode")
EPISODES = gettext_noop("%(count)s episodes")
# With or without an interval (one episode has none), with or without recovery (not judged).
CHANGE = gettext_noop(
    "%(group)s: %(outcome)s %(direction)s by %(points)s points on average, %(episodes)s."
)
CHANGE_INTERVAL = gettext_noop(
    "%(group)s: %(outcome)s %(direction)s by %(points)s points on average (95%% interval %(low)s "
    "to %(high)s), %(episodes)s."
)
CHANGE_RECOVERED = gettext_noop(
    "%(group)s: %(outcome)s %(direction)s by %(points)s points on average, %(episodes)s; "
    "%(recovered)s of %(denominator)s recovered (%(rate)s%%)."
)
CHANGE_INTERVAL_RECOVERED = gettext_noop(
    "%(group)s: %(outcome)s %(direction)s by %(points)s points on average (95%% interval %(low)s "
    "to %(high)s), %(episodes)s; %(recovered)s of %(denominator)s recovered (%(rate)s%%)."
)
DIFFERENCE = gettext_noop(
    "The %(outcome)s change of episodes with %(group)s ruptures differs from those with "
    "%(versus)s by %(points)s points (95%% interval %(low)s to %(high)s)."
)
DIFFERENCE_UNCLEAR = gettext_noop(
    "The %(outcome)s change of episodes with %(group)s ruptures differs from those with "
    "%(versus)s by %(points)s points (95%% interval %(low)s to %(high)s), which includes no "
    "difference."
)
NO = gettext_noop("no")
GAP_DIFFERENCE = gettext_noop(
    "Episodes with a perspective-gap alert changed by %(points)s points relative to those "
    "without (95%% interval %(low)s to %(high)s)."
)
GAP_ASSOCIATION = gettext_noop(
    "Across %(count)s episodes, each point by which the therapist rated sessions above the client "
    "(on average) goes with a %(outcome)s change of %(slope)s points (95%% interval %(low)s to "
    "%(high)s); r = %(r)s."
)


def _change_words(g: GroupOutcome, label: str) -> str:
    if g.n == 0 or g.mean_change is None:
        return say(NO_EPISODES, group=g.group, outcome=label)
    interval = g.low is not None and g.high is not None
    recovery = g.recovery_rate is not None
    template = {
        (False, False): CHANGE,
        (True, False): CHANGE_INTERVAL,
        (False, True): CHANGE_RECOVERED,
        (True, True): CHANGE_INTERVAL_RECOVERED,
    }[(interval, recovery)]
    return say(
        template,
        group=g.group,
        outcome=label,
        direction=FELL if g.mean_change < 0 else ROSE,
        points=f"{abs(g.mean_change):.1f}",
        low=f"{g.low:+.1f}" if g.low is not None else "",
        high=f"{g.high:+.1f}" if g.high is not None else "",
        episodes=ONE_EPISODE if g.n == 1 else say(EPISODES, count=g.n),
        recovered=g.recovered,
        denominator=g.recovery_denominator,
        rate=f"{100 * g.recovery_rate:.0f}" if g.recovery_rate is not None else "",
    )


def _difference_words(d: GroupDifference, label: str) -> str:
    if d.difference is None or d.low is None or d.high is None:
        return ""
    clear = d.high < 0 or d.low > 0
    return say(
        DIFFERENCE if clear else DIFFERENCE_UNCLEAR,
        outcome=label,
        group=d.group,
        versus=d.versus,
        points=f"{d.difference:+.1f}",
        low=f"{d.low:+.1f}",
        high=f"{d.high:+.1f}",
    )


CAVEAT = gettext_noop(
    "These are comparisons of the clinic's own episodes, not an experiment: episodes with and "
    "without ruptures differ in other ways too."
)
GAP_CAVEAT = gettext_noop(
    "These are comparisons of the clinic's own episodes, not an experiment: episodes with and "
    "without perspective-gap alerts differ in other ways too."
)


# ----------------------------------------------------------------------------- the analyses


def _kinds_by_episode(alerts: Iterable[AlertRecord], kind: str) -> dict[str, list[AlertRecord]]:
    found: dict[str, list[AlertRecord]] = defaultdict(list)
    for alert in alerts:
        if alert.kind == kind:
            found[alert.episode].append(alert)
    return found


def rupture_group(alerts: Sequence[AlertRecord]) -> str:
    """The group of one episode given its rupture alerts (see the module docstring)."""
    if not alerts:
        return NO_RUPTURE
    return REPAIRED if all(a.status == "repaired" for a in alerts) else UNREPAIRED


def rupture_outcomes(
    changes: Iterable[EpisodeChange], alerts: Iterable[AlertRecord], outcome_label: str = "PHQ-9"
) -> GroupedOutcomes:
    ruptures = _kinds_by_episode(alerts, "rupture")
    grouped: dict[str, list[EpisodeChange]] = {NO_RUPTURE: [], REPAIRED: [], UNREPAIRED: []}
    for change in changes:
        grouped[rupture_group(ruptures.get(change.episode, []))].append(change)
    groups = tuple(_group(name, grouped[name]) for name in (NO_RUPTURE, REPAIRED, UNREPAIRED))
    differences = (
        _welch(grouped[REPAIRED], grouped[UNREPAIRED], REPAIRED, UNREPAIRED),
        _welch(grouped[REPAIRED], grouped[NO_RUPTURE], REPAIRED, NO),
        _welch(grouped[UNREPAIRED], grouped[NO_RUPTURE], UNREPAIRED, NO),
    )
    sentences = [_change_words(g, outcome_label) for g in groups]
    sentences += [s for s in (_difference_words(d, outcome_label) for d in differences) if s]
    sentences.append(CAVEAT)
    return GroupedOutcomes(outcome_label, groups, differences, tuple(sentences))


def perspective_gap_outcomes(
    changes: Iterable[EpisodeChange],
    alerts: Iterable[AlertRecord],
    gaps: Mapping[str, float],
    outcome_label: str = "PHQ-9",
) -> GroupedOutcomes:
    """Episodes with and without a perspective_gap alert, and the association between the mean
    (therapist - client) check-in gap (`checkin_gaps`) and the change."""
    flagged = _kinds_by_episode(alerts, "perspective_gap")
    all_changes = list(changes)
    with_gap = [c for c in all_changes if c.episode in flagged]
    without = [c for c in all_changes if c.episode not in flagged]
    groups = (_group(WITH_GAP, with_gap), _group(WITHOUT_GAP, without))
    difference = _welch(with_gap, without, WITH_GAP, WITHOUT_GAP)
    association = _association(all_changes, gaps)
    sentences = [_change_words(g, outcome_label) for g in groups]
    if difference.difference is not None and difference.low is not None:
        sentences.append(
            say(
                GAP_DIFFERENCE,
                points=f"{difference.difference:+.1f}",
                low=f"{difference.low:+.1f}",
                high=f"{difference.high:+.1f}",
            )
        )
    if association.slope is not None:
        sentences.append(
            say(
                GAP_ASSOCIATION,
                count=association.n,
                outcome=outcome_label,
                slope=f"{association.slope:+.2f}",
                low=f"{association.slope_low:+.2f}",
                high=f"{association.slope_high:+.2f}",
                r=f"{association.r:.2f}",
            )
        )
    sentences.append(GAP_CAVEAT)
    return GroupedOutcomes(outcome_label, groups, (difference,), tuple(sentences), association)


# ----------------------------------------------------------------------------- from records


def checkin_gaps(
    responses: Sequence[ResponseRecord],
    client_instrument: str = "checkin",
    therapist_instrument: str = "checkin-therapist",
) -> dict[str, float]:
    """Each episode's mean (therapist - client) check-in total over the sessions both rated (the
    client's own check-in, the therapist's rating of the same session)."""
    table = response_table(responses, (client_instrument, therapist_instrument))
    client = table["instrument"] == client_instrument
    table = table[(client & (table["respondent"] == "client")) | ~client]
    if table.empty:
        return {}
    wide = per_session(table).reindex(columns=[client_instrument, therapist_instrument])
    gap = (wide[therapist_instrument] - wide[client_instrument]).dropna()
    means = gap.groupby(level="episode").mean()
    return {str(k): float(v) for k, v in means.items()}


def nhs_recovery(table: pd.DataFrame, attended: pd.Series) -> pd.Series:
    """NHS Talking Therapies recovery per episode, vectorised, by the definitions and constants of
    `alliance.measures.nhs` (whose `episode_outcome` the tests hold it equal to): paired dates
    (PHQ-9 and GAD-7 both given; the last score of a measure on a date counts), a finished
    course (enough attended appointments), a case at the first paired date; recovery is not
    being a case at the last. Float 1.0/0.0, NaN where recovery does not apply.

    `table`: client PHQ-9 and GAD-7 rows of `frames.response_table(..., with_day=True)`;
    `attended`: attended appointments by episode."""
    scores = table[table["instrument"].isin((nhs.PHQ9, nhs.GAD7))]
    last = scores.drop_duplicates(["episode", "day", "instrument"], keep="last")
    paired = (
        last.pivot(index=["episode", "day"], columns="instrument", values="total")
        .reindex(columns=[nhs.PHQ9, nhs.GAD7])
        .dropna()
        .sort_index()
    )
    by_episode = paired.groupby(level="episode", sort=False)
    first, final, count = by_episode.first(), by_episode.last(), by_episode.size()

    def case(scores: pd.DataFrame) -> pd.Series:
        return (scores[nhs.PHQ9] >= nhs.PHQ9_CASENESS) | (scores[nhs.GAD7] >= nhs.GAD7_CASENESS)

    finished = attended.reindex(first.index, fill_value=0) >= nhs.MIN_ATTENDED_FOR_FINISHED
    applies = finished & (count >= 2) & case(first)
    return (~case(final)).astype(np.float64).where(applies)


def episode_changes(clinic: ClinicData, instrument: str = "phq9") -> list[EpisodeChange]:
    """First and last client score of `instrument` in each episode (by time given), with NHS
    Talking Therapies recovery where it applies (`nhs_recovery`). Episodes with fewer than two
    scores are left out: their change is unknown, not zero."""
    table = response_table(
        clinic.responses, sorted({instrument, nhs.PHQ9, nhs.GAD7}), with_day=True
    )
    table = table[table["respondent"] == "client"]
    scores = table[table["instrument"] == instrument].groupby("episode", sort=False)["total"]
    summary = pd.DataFrame({"pre": scores.first(), "post": scores.last(), "n": scores.size()})
    summary = summary[summary["n"] >= 2]
    summary = summary[summary.index.isin([e.episode for e in clinic.episodes])]
    attended = pd.Series(
        [a.episode for a in clinic.appointments if a.attendance == "attended"], dtype=object
    ).value_counts()
    recovery = nhs_recovery(table, attended).reindex(summary.index)
    return [
        EpisodeChange(str(name), pre, post, None if np.isnan(r) else bool(r))
        for name, pre, post, r in zip(
            summary.index.tolist(),
            summary["pre"].tolist(),
            summary["post"].tolist(),
            recovery.tolist(),
            strict=True,
        )
    ]
