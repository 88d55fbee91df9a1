"""A seeded clinic network with KNOWN effects, for tests, benchmarks and the docs' figures.

The data-generating process is the relationship model of docs/clinical.md "Analytics" itself, so
the model's estimates can be checked against the truth:

    outcome = intercept + within · (checkin - a_bar) + between · a_bar + log_session · log(session)
              + u_therapist + u_client + e

with u_therapist ~ N(0, therapist_sd^2), u_client ~ N(0, client_sd^2), e ~ N(0, residual_sd^2).

Decisions (a serious simulator has to make them; none of them is a clinical finding):

- **a_bar is the client's mean over the sessions the model will use** (both outcome and check-in
  present), not a latent "true alliance level". The model centres on the observed person mean, so
  only this makes its between-client coefficient equal to the simulated one; with a latent mean
  the estimate would be attenuated by the noise in a mean of a handful of check-ins.
- **lagged=True** makes the *previous* session's check-in drive the outcome instead (the same
  centring on the rows the lagged model uses: an outcome with a check-in at the client's previous
  session, see `alliance.analytics.model`), so the lagged model has a truth to recover too.
- The check-in is the client's level (N(checkin_mean, checkin_between_sd^2)) plus session noise
  (N(0, checkin_within_sd^2)); session-to-session noise is independent, so with lagged=False the
  true lagged within-client effect is zero.
- Session counts: a planned course of 6 + Poisson(planned_extra) sessions; with probability
  `dropout` (higher for clients with a weaker alliance: `dropout_alliance` log-odds per SD of
  their alliance level) the client drops out at a uniformly chosen earlier session.
- Missing data is missing completely at random: each outcome with probability `missing_outcome`,
  each check-in with probability `missing_checkin`.
- Scores are NOT rounded or clipped by default: rounding to the instruments' steps and clipping
  to their ranges (PHQ-9 0-27, check-in 0-10) would put the data slightly off the model.
  `round_scores=True` does it, for records that look like the app's.
- `items=True` adds the check-in's four dimensions, spread around the session's check-in (SD
  `item_sd`) and centred so that their mean is the check-in, as the instrument scores it; with
  rounding they are whole answers 0-10 and the check-in is their mean (quarter steps).
- The therapist's own check-in (`checkin_therapist`) is the client's plus a therapist-specific
  offset (therapists who rate sessions more warmly than their clients) plus noise; it does not
  drive the outcome.

Vectorised numpy throughout: 100,000 episodes (about 1,000,000 sessions) take a few seconds.
One client has one episode with one therapist; ids are strings ("T0001", "C000001", "E000001")
held as pandas categoricals so a million rows stay small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from alliance.analytics.records import (
    AppointmentRecord,
    ClinicData,
    EpisodeRecord,
    ResponseRecord,
)

#: The check-in dimensions (docs/client-checkin.md); the total is their mean.
CHECKIN_ITEMS = ("bond", "goals", "tasks", "overall")


@dataclass(frozen=True)
class SimulationSettings:
    """The known effects and the shape of the network. Defaults are plausible, not sourced:
    a PHQ-9 near 16 at the first session falling by about 6 points over a course, a within-client
    association of -0.8 PHQ-9 points per check-in point, a between-client one of -1.2."""

    episodes: int = 2_000
    therapists: int | None = None  # default: one per 150 episodes, at least 2
    intercept: float = 25.0
    within: float = -0.8
    between: float = -1.2
    log_session: float = -2.5
    therapist_sd: float = 1.2
    client_sd: float = 3.5
    residual_sd: float = 3.0
    checkin_mean: float = 7.5
    checkin_between_sd: float = 1.2
    checkin_within_sd: float = 1.0
    therapist_rating_sd: float = 0.6  # spread of therapists' offsets on their own check-in
    planned_extra: float = 6.0  # planned sessions = 6 + Poisson(planned_extra)
    dropout: float = 0.2
    dropout_alliance: float = 0.5
    missing_outcome: float = 0.05
    missing_checkin: float = 0.15
    caseload_shape: float = (
        2.0  # gamma shape of therapists' caseload weights (smaller: more uneven)
    )
    lagged: bool = False
    round_scores: bool = False
    items: bool = False  # add the check-in's dimensions (bond, goals, tasks, overall) as columns
    item_sd: float = 0.7  # spread of the dimensions around the session's check-in
    seed: int = 2026

    def n_therapists(self) -> int:
        return self.therapists if self.therapists is not None else max(2, self.episodes // 150)

    def truth(self) -> dict[str, Any]:
        """The effects the model should recover, in the model's own terms."""
        return {
            "fixed_effects": {
                "Intercept": self.intercept,
                "a_within": self.within,
                "a_between": self.between,
                "log_session": self.log_session,
            },
            "variance_components": {
                "therapist": self.therapist_sd**2,
                "client": self.client_sd**2,
                "residual": self.residual_sd**2,
            },
        }


@dataclass(frozen=True)
class SimulatedClinic:
    settings: SimulationSettings
    #: One row per session: therapist, client, episode, session, outcome, checkin,
    #: checkin_therapist (NaN where missing), and bond, goals, tasks, overall with items=True.
    responses: pd.DataFrame
    #: One row per episode: episode, client, therapist, sessions, dropout.
    episodes: pd.DataFrame
    #: The true therapist intercepts, in the order of `therapist_ids`.
    therapist_effects: NDArray[np.float64] = field(repr=False)
    therapist_ids: tuple[str, ...] = field(repr=False)

    @property
    def truth(self) -> dict[str, Any]:
        return self.settings.truth()


def _ids(prefix: str, count: int, width: int) -> pd.Categorical[str]:
    labels = [f"{prefix}{k + 1:0{width}d}" for k in range(count)]
    return pd.Categorical.from_codes(np.arange(count), categories=pd.Index(labels))


def _person_mean(
    values: NDArray[np.float64], use: NDArray[np.bool_], owner: NDArray[np.intp], n: int
) -> NDArray[np.float64]:
    """Each owner's mean of `values` over the rows in `use` (NaN for an owner with none)."""
    total = np.bincount(owner, weights=np.where(use, values, 0.0), minlength=n)
    count = np.bincount(owner, weights=use.astype(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def simulate(settings: SimulationSettings | None = None, **overrides: Any) -> SimulatedClinic:
    """Simulate a clinic network. `simulate(episodes=500, seed=1)` overrides single settings."""
    s = settings or SimulationSettings()
    if overrides:
        s = SimulationSettings(**{**s.__dict__, **overrides})
    if s.episodes < 1:
        raise ValueError("simulate at least one episode")
    rng = np.random.default_rng(s.seed)
    n_clients = s.episodes
    n_therapists = s.n_therapists()

    # Clients to therapists: uneven caseloads, so some therapists have few clients (their
    # estimates shrink most).
    weights = rng.gamma(s.caseload_shape, 1.0, n_therapists)
    therapist_of = rng.choice(n_therapists, size=n_clients, p=weights / weights.sum())
    u_therapist = rng.normal(0.0, s.therapist_sd, n_therapists)
    rating_offset = rng.normal(0.3, s.therapist_rating_sd, n_therapists)

    level = rng.normal(s.checkin_mean, s.checkin_between_sd, n_clients)
    u_client = rng.normal(0.0, s.client_sd, n_clients)
    planned = 6 + rng.poisson(s.planned_extra, n_clients)
    z_level = (level - s.checkin_mean) / max(s.checkin_between_sd, 1e-12)
    logit = np.log(s.dropout / (1 - s.dropout)) if 0 < s.dropout < 1 else None
    if logit is None:
        drops = np.full(n_clients, s.dropout >= 1)
    else:
        p_drop = 1 / (1 + np.exp(-(logit - s.dropout_alliance * z_level)))
        drops = rng.random(n_clients) < p_drop
    # A dropout leaves at a uniformly chosen session before the planned end (at least one).
    early = 1 + np.floor(rng.random(n_clients) * (planned - 1)).astype(np.int64)
    sessions = np.where(drops, early, planned)

    client = np.repeat(np.arange(n_clients), sessions)
    n_rows = client.size
    starts = np.cumsum(sessions) - sessions
    session = np.arange(n_rows) - np.repeat(starts, sessions) + 1
    therapist = therapist_of[client]

    checkin = level[client] + rng.normal(0.0, s.checkin_within_sd, n_rows)
    has_outcome = rng.random(n_rows) >= s.missing_outcome
    has_checkin = rng.random(n_rows) >= s.missing_checkin
    log_session = np.log(session)
    base = s.intercept + s.log_session * log_session + u_therapist[therapist] + u_client[client]
    noise = rng.normal(0.0, s.residual_sd, n_rows)

    if s.lagged:
        # The previous session's check-in, when the client gave one there.
        first = session == 1
        previous = np.where(first, np.nan, np.roll(checkin, 1))
        previous = np.where(np.roll(has_checkin, 1) & ~first, previous, np.nan)
        use = has_outcome & ~np.isnan(previous)
        mean = _person_mean(np.nan_to_num(previous), use, client, n_clients)
        a_mean = np.where(np.isnan(mean), level, mean)[client]
        a = np.where(np.isnan(previous), a_mean, previous)
    else:
        use = has_outcome & has_checkin
        mean = _person_mean(checkin, use, client, n_clients)
        a_mean = np.where(np.isnan(mean), level, mean)[client]
        a = checkin
    outcome = base + s.within * (a - a_mean) + s.between * a_mean + noise

    checkin_therapist = checkin + rating_offset[therapist] + rng.normal(0.0, 0.8, n_rows)
    has_therapist = rng.random(n_rows) >= s.missing_checkin
    item_values = None
    if s.items:
        # Dimensions around the session's check-in; centred per row so their mean IS the check-in
        # (the instrument's scoring), whole answers 0..10 when rounding.
        spread = rng.normal(0.0, s.item_sd, (n_rows, len(CHECKIN_ITEMS)))
        item_values = checkin[:, None] + spread - spread.mean(axis=1, keepdims=True)
        if s.round_scores:
            item_values = np.clip(np.rint(item_values), 0, 10)
    if s.round_scores:
        outcome = np.clip(np.rint(outcome), 0, 27)
        checkin = (
            item_values.mean(axis=1)
            if item_values is not None
            else np.clip(np.rint(checkin * 4) / 4, 0, 10)
        )
        checkin_therapist = np.clip(np.rint(checkin_therapist * 4) / 4, 0, 10)

    therapist_ids = _ids("T", n_therapists, 4)
    client_ids = _ids("C", n_clients, 6)
    episode_ids = _ids("E", n_clients, 6)
    responses = pd.DataFrame(
        {
            "therapist": pd.Categorical.from_codes(therapist, therapist_ids.categories),
            "client": pd.Categorical.from_codes(client, client_ids.categories),
            "episode": pd.Categorical.from_codes(client, episode_ids.categories),
            "session": session.astype(np.int64),
            "outcome": np.where(has_outcome, outcome, np.nan),
            "checkin": np.where(has_checkin, checkin, np.nan),
            "checkin_therapist": np.where(has_therapist, checkin_therapist, np.nan),
        }
    )
    if item_values is not None:
        for k, name in enumerate(CHECKIN_ITEMS):
            responses[name] = np.where(has_checkin, item_values[:, k], np.nan)
    episodes = pd.DataFrame(
        {
            "episode": episode_ids,
            "client": client_ids,
            "therapist": pd.Categorical.from_codes(therapist_of, therapist_ids.categories),
            "sessions": sessions.astype(np.int64),
            "dropout": drops,
        }
    )
    return SimulatedClinic(
        settings=s,
        responses=responses,
        episodes=episodes,
        therapist_effects=u_therapist,
        therapist_ids=tuple(str(c) for c in therapist_ids.categories),
    )


#: Where the simulated calendar ends (fixed, so records are reproducible).
CALENDAR_END = date(2026, 1, 5)


def _items(total: float, rng: np.random.Generator, whole: bool) -> dict[str, float]:
    """Check-in item answers whose mean is exactly `total` (the instrument's scoring)."""
    noise = rng.normal(0.0, 0.7, len(CHECKIN_ITEMS))
    values = total + noise - noise.mean()
    if not whole:
        return dict(zip(CHECKIN_ITEMS, (float(v) for v in values), strict=True))
    # Whole answers 0..10 summing to 4 x total (a quarter-step total).
    target = round(4 * total)
    answers = np.clip(np.rint(values), 0, 10).astype(int)
    order = rng.permutation(len(CHECKIN_ITEMS))
    k = 0
    while answers.sum() != target and k < 100:
        i = order[k % len(order)]
        if answers.sum() < target and answers[i] < 10:
            answers[i] += 1
        elif answers.sum() > target and answers[i] > 0:
            answers[i] -= 1
        k += 1
    return dict(zip(CHECKIN_ITEMS, (float(a) for a in answers), strict=True))


def to_clinic_data(clinic: SimulatedClinic, months: int = 24) -> ClinicData:
    """The simulation as the app's records: episodes (all ended, planned or dropout), an attended
    appointment per session (weekly, 10:00 UTC), and client PHQ-9 (two hours before), GAD-7 and
    check-in (an hour after) responses plus the therapist's check-in. GAD-7 is a rough companion
    of the outcome (0.7 x PHQ-9 + noise, so NHS recovery can be judged), not part of the model.
    Dates and scores are prepared with numpy; only the records themselves are Python objects
    (about five per session: budget a few hundred bytes each)."""
    s = clinic.settings
    rng = np.random.default_rng(s.seed + 1)
    whole = s.round_scores
    episodes_df = clinic.episodes
    n = len(episodes_df)
    span_days = max(1, months * 30)
    sessions_arr = episodes_df["sessions"].to_numpy()
    # Start dates spread so that every episode has ended by CALENDAR_END.
    latest = np.maximum(span_days - 7 * sessions_arr, 1)
    offset = (rng.random(n) * latest).astype(np.int64)
    first_day = np.datetime64(CALENDAR_END - timedelta(days=span_days), "D")
    start_days = first_day + offset
    referral_days = start_days - rng.integers(3, 30, n)
    end_days = start_days + 7 * (sessions_arr - 1)

    def days(values: NDArray[np.datetime64]) -> list[date]:
        return list(values.astype("datetime64[D]").tolist())

    episode_names = [str(e) for e in episodes_df["episode"]]
    client_names = [str(c) for c in episodes_df["client"]]
    therapist_names = [str(t) for t in episodes_df["therapist"]]
    reasons = np.where(episodes_df["dropout"].to_numpy(), "dropout", "planned").tolist()
    episodes = tuple(
        EpisodeRecord(
            episode=e,
            client=c,
            therapist=t,
            referred_on=r,
            started_on=b,
            ended_on=f,
            end_reason=reason,
        )
        for e, c, t, r, b, f, reason in zip(
            episode_names,
            client_names,
            therapist_names,
            days(referral_days),
            days(start_days),
            days(end_days),
            reasons,
            strict=True,
        )
    )

    df = clinic.responses
    row_episode = df["episode"].cat.codes.to_numpy()
    session = df["session"].to_numpy()
    at = (start_days[row_episode] + 7 * (session - 1)).astype("datetime64[m]") + np.timedelta64(
        600, "m"
    )

    def stamps(minutes: int) -> list[datetime]:
        moments = (at + np.timedelta64(minutes, "m")).astype("datetime64[us]").tolist()
        return [m.replace(tzinfo=UTC) for m in moments]

    names = [episode_names[k] for k in row_episode]
    sessions = session.tolist()
    appointments = tuple(
        AppointmentRecord(e, k, when, "attended")
        for e, k, when in zip(names, sessions, stamps(0), strict=True)
    )
    outcome = df["outcome"].to_numpy()
    gad = 0.7 * outcome + rng.normal(0.0, 2.0, outcome.size)
    if whole:
        gad = np.clip(np.rint(gad), 0, 21)
    checkin = df["checkin"].to_numpy()
    rating = df["checkin_therapist"].to_numpy()
    has_items = all(name in df.columns for name in CHECKIN_ITEMS)
    item_rows = df[list(CHECKIN_ITEMS)].to_numpy().tolist() if has_items else None
    before, after, later = stamps(-120), stamps(60), stamps(90)
    responses: list[ResponseRecord] = []
    for k in range(len(df)):
        e, number = names[k], sessions[k]
        if not math.isnan(outcome[k]):
            responses.append(ResponseRecord(e, "phq9", before[k], float(outcome[k]), number))
            responses.append(ResponseRecord(e, "gad7", before[k], float(gad[k]), number))
        if not math.isnan(checkin[k]):
            items = (
                dict(zip(CHECKIN_ITEMS, item_rows[k], strict=True))
                if item_rows is not None
                else _items(float(checkin[k]), rng, whole)
            )
            responses.append(
                ResponseRecord(e, "checkin", after[k], float(checkin[k]), number, items=items)
            )
        if not math.isnan(rating[k]):
            responses.append(
                ResponseRecord(
                    e,
                    "checkin-therapist",
                    later[k],
                    float(rating[k]),
                    number,
                    respondent="therapist",
                )
            )
    return ClinicData(episodes=episodes, appointments=appointments, responses=tuple(responses))
