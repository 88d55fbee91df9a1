"""Expected-recovery curves for "not on track" (Lambert/Finch; Lutz; Hannan et al. 2005).

From the clinic's completed episodes we fit, with statsmodels ``MixedLM`` and a random
intercept per episode (client)::

    score = b0 + b1·log(s) + b_intake·(intake - c) + b_intake_log·(intake - c)·log(s)

where ``s`` is the session number and ``c`` the mean intake of the fitted episodes (centring
keeps ``b0``/``b1`` interpretable as the curve of a typical client and the fit well
conditioned). Only scores *after* the intake are modelled; the intake is the predictor.

The boundaries are percentiles of the marginal residuals (observed - fixed-effect prediction)
over all eligible completed episodes: the yellow and red percentiles (75th / 90th by default),
per session number where there are at least ``trajectory_min_residuals_per_session`` residuals
and pooled otherwise. Beyond the last such session the curve and the boundaries are held flat
(no extrapolation).

For the not-on-track rule (issue 12) the fit also keeps what reading a client's *own* course
needs (``own_course.py``): the random-intercept and residual variances, the percentiles of the
own-deviation z over every score of the eligible episodes (``own_yellow_z`` / ``own_red_z`` at
the yellow / red percentiles), and the ``not_on_track_jump_percentile`` of the marginal residuals
(``q_jump``, per session like the others) for a single score far above the curve. The marginal
``q_yellow``/``q_red`` stay for the chart's expected band.

Fallback (``source = "default"``): with fewer than ``trajectory_min_episodes`` completed episodes
or ``trajectory_min_observations`` post-intake scores, or when the fit fails or does not
converge, the documented default curve is used — expected = intake x (1 - d·log(s)/log(12)),
with normal boundaries ``z·sd`` from ``trajectory_default_sd``, split into the client's own
share (``trajectory_default_client_share``) and noise — all UNVERIFIED, and findings say so.

Speed: ``MixedLM`` loops over groups in Python (~1-2 s for 500 episodes), so at most
``trajectory_max_episodes`` episodes — a random subsample drawn with ``trajectory_seed`` from the
eligible episodes sorted by id — are used for the fit; residual percentiles use all of them
(cheap, vectorised). A random slope was left out: it took ~5x longer and failed more often.

A :class:`TrajectoryModel` is a frozen dataclass of plain numbers: picklable, and
``as_dict``/``from_dict`` give JSON for caching. Scoring is vectorised (``levels``) and never
refits.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from statistics import NormalDist
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .own_course import group_z, own_deviation
from .settings import AlertSettings
from .types import EpisodeSeries

ModelSource = Literal["clinic", "default"]
Level = Literal["on_track", "yellow", "red"]

FloatArray = NDArray[np.float64]


Trigger = Literal["own", "jump"] | None


class OwnCourse(NamedTuple):
    """A series read by the not-on-track rule, aligned with its scores.

    ``estimate`` is the client's own deviation after each score, ``yellow``/``red`` its
    boundaries (in points, for that number of scores), ``jump`` the single-score boundary on
    ``residual``. ``levels`` before persistence; ``triggers`` says which part fired.
    """

    expected: FloatArray
    residual: FloatArray
    estimate: FloatArray
    yellow: FloatArray
    red: FloatArray
    jump: FloatArray
    levels: list[Level]
    triggers: list[Trigger]


class Scored(NamedTuple):
    """A series scored against a model: arrays aligned with the sessions given."""

    expected: FloatArray
    yellow: FloatArray
    red: FloatArray
    levels: list[Level]


@dataclass(frozen=True)
class TrajectoryModel:
    """Expected score by session and intake, with yellow/red boundaries on the residual."""

    instrument: str
    source: ModelSource
    b0: float
    b1: float
    b_intake: float
    b_intake_log: float
    intake_centre: float
    yellow_percentile: float
    red_percentile: float
    q_yellow: float
    q_red: float
    max_session: int
    q_yellow_by_session: Mapping[int, float] = field(default_factory=dict)
    q_red_by_session: Mapping[int, float] = field(default_factory=dict)
    n_episodes: int = 0
    n_observations: int = 0
    n_fitted_episodes: int = 0
    random_intercept_var: float | None = None
    residual_var: float | None = None
    reason: str = ""
    # The not-on-track rule (issue 12): a single score beyond the jump boundary, or the client's
    # own deviation (own_course.py) beyond its yellow/red percentiles. ``None``: a cache entry
    # written before these existed; normal quantiles and the red boundary stand in.
    jump_percentile: float | None = None
    q_jump: float | None = None
    q_jump_by_session: Mapping[int, float] = field(default_factory=dict)
    own_yellow_z: float | None = None
    own_red_z: float | None = None

    def _capped(self, sessions: ArrayLike) -> FloatArray:
        s = np.asarray(sessions, dtype=np.float64)
        return np.minimum(np.maximum(s, 1.0), float(self.max_session))

    def expected(self, sessions: ArrayLike, intake: float) -> FloatArray:
        """Expected score at each session for a client with this intake (never below 0)."""
        log_s = np.log(self._capped(sessions))
        centred = intake - self.intake_centre
        value = self.b0 + self.b1 * log_s + centred * (self.b_intake + self.b_intake_log * log_s)
        return np.maximum(value, 0.0)

    def boundaries(self, sessions: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Yellow and red boundaries on (observed - expected) at each session."""
        capped = self._capped(sessions).astype(np.int64).tolist()
        yellow = np.array([self.q_yellow_by_session.get(n, self.q_yellow) for n in capped])
        red = np.array([self.q_red_by_session.get(n, self.q_red) for n in capped])
        # Per-session percentiles are estimated separately; keep red at or above yellow.
        return yellow.astype(np.float64), np.maximum(red, yellow).astype(np.float64)

    def score(self, sessions: ArrayLike, observed: ArrayLike, intake: float) -> Scored:
        """Expected scores, boundaries and levels for a series, in one vectorised pass."""
        expected = self.expected(sessions, intake)
        residual = np.asarray(observed, dtype=np.float64) - expected
        yellow, red = self.boundaries(sessions)
        levels: list[Level] = [
            "red" if r > rb else "yellow" if r > yb else "on_track"
            for r, yb, rb in zip(residual.tolist(), yellow.tolist(), red.tolist(), strict=True)
        ]
        return Scored(expected, yellow, red, levels)

    def levels(self, sessions: ArrayLike, observed: ArrayLike, intake: float) -> list[Level]:
        """``on_track`` / ``yellow`` / ``red`` for each (session, observed score)."""
        return self.score(sessions, observed, intake).levels

    def jump_boundaries(self, sessions: ArrayLike) -> FloatArray:
        """Boundary on (observed - expected) of a single score that is red at once."""
        capped = self._capped(sessions).astype(np.int64).tolist()
        if self.q_jump is None:
            _, red = self.boundaries(sessions)
            return red
        values = [self.q_jump_by_session.get(n, self.q_jump) for n in capped]
        _, red = self.boundaries(sessions)
        return np.maximum(np.array(values, dtype=np.float64), red)

    def own_z_boundaries(self) -> tuple[float, float]:
        """Yellow and red boundaries on the own-deviation z (see own_course.py)."""
        normal = NormalDist()
        yellow = (
            self.own_yellow_z
            if self.own_yellow_z is not None
            else normal.inv_cdf(self.yellow_percentile / 100)
        )
        red = (
            self.own_red_z
            if self.own_red_z is not None
            else normal.inv_cdf(self.red_percentile / 100)
        )
        return yellow, max(red, yellow)

    def own_course(self, sessions: ArrayLike, observed: ArrayLike, intake: float) -> OwnCourse:
        """The not-on-track reading of a series, score by score, each from that score and the
        earlier ones only (so a flag never depends on later data)."""
        expected = self.expected(sessions, intake)
        residual = np.asarray(observed, dtype=np.float64) - expected
        deviation = own_deviation(
            residual, self.random_intercept_var or 0.0, self.residual_var or 0.0
        )
        yellow_z, red_z = self.own_z_boundaries()
        jump = self.jump_boundaries(sessions)
        levels: list[Level] = []
        triggers: list[Trigger] = []
        for r, z, j in zip(residual.tolist(), deviation.z.tolist(), jump.tolist(), strict=True):
            if z > red_z:
                levels.append("red")
                triggers.append("own")
            elif r > j:
                levels.append("red")
                triggers.append("jump")
            elif z > yellow_z:
                levels.append("yellow")
                triggers.append("own")
            else:
                levels.append("on_track")
                triggers.append(None)
        return OwnCourse(
            expected=expected,
            residual=residual,
            estimate=deviation.estimate,
            yellow=yellow_z * deviation.spread,
            red=red_z * deviation.spread,
            jump=jump,
            levels=levels,
            triggers=triggers,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (session keys become strings)."""
        return {
            "instrument": self.instrument,
            "source": self.source,
            "b0": self.b0,
            "b1": self.b1,
            "b_intake": self.b_intake,
            "b_intake_log": self.b_intake_log,
            "intake_centre": self.intake_centre,
            "yellow_percentile": self.yellow_percentile,
            "red_percentile": self.red_percentile,
            "q_yellow": self.q_yellow,
            "q_red": self.q_red,
            "max_session": self.max_session,
            "q_yellow_by_session": {str(k): v for k, v in sorted(self.q_yellow_by_session.items())},
            "q_red_by_session": {str(k): v for k, v in sorted(self.q_red_by_session.items())},
            "n_episodes": self.n_episodes,
            "n_observations": self.n_observations,
            "n_fitted_episodes": self.n_fitted_episodes,
            "random_intercept_var": self.random_intercept_var,
            "residual_var": self.residual_var,
            "reason": self.reason,
            "jump_percentile": self.jump_percentile,
            "q_jump": self.q_jump,
            "q_jump_by_session": {str(k): v for k, v in sorted(self.q_jump_by_session.items())},
            "own_yellow_z": self.own_yellow_z,
            "own_red_z": self.own_red_z,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrajectoryModel:
        """Inverse of :meth:`as_dict`; ``ValueError`` for a malformed or outdated cache entry."""
        values = dict(data)
        known = {f.name for f in fields(cls)}
        if set(values) - known or not {"instrument", "source"} <= set(values):
            raise ValueError("not a TrajectoryModel dictionary (recompute the norms)")
        for name in ("q_yellow_by_session", "q_red_by_session", "q_jump_by_session"):
            values[name] = {int(k): float(v) for k, v in dict(values.get(name) or {}).items()}
        if values.get("source") not in ("clinic", "default"):
            raise ValueError(f"unknown trajectory source {values.get('source')!r}")
        return cls(**values)


def default_trajectory(instrument: str, settings: AlertSettings, reason: str) -> TrajectoryModel:
    """The documented default curve (UNVERIFIED): intake x (1 - d·log(s)/log(12))."""
    sd = settings.trajectory_default_sd.get(instrument)
    if sd is None:
        raise ValueError(f"no default residual SD for {instrument!r} in trajectory_default_sd")
    yellow_p = settings.not_on_track_yellow_percentile
    red_p = settings.not_on_track_red_percentile
    jump_p = settings.not_on_track_jump_percentile
    share = settings.trajectory_default_client_share
    return TrajectoryModel(
        instrument=instrument,
        source="default",
        b0=0.0,
        b1=0.0,
        b_intake=1.0,
        b_intake_log=-settings.trajectory_default_reduction / math.log(12),
        intake_centre=0.0,
        yellow_percentile=yellow_p,
        red_percentile=red_p,
        q_yellow=NormalDist().inv_cdf(yellow_p / 100) * sd,
        q_red=NormalDist().inv_cdf(red_p / 100) * sd,
        max_session=settings.trajectory_default_max_session,
        reason=reason,
        random_intercept_var=share * sd**2,
        residual_var=(1 - share) * sd**2,
        jump_percentile=jump_p,
        q_jump=NormalDist().inv_cdf(jump_p / 100) * sd,
    )


@dataclass(frozen=True)
class _Data:
    """Post-intake observations of eligible completed episodes, as flat arrays."""

    group: NDArray[np.int64]
    session: NDArray[np.int64]
    intake: FloatArray
    score: FloatArray

    @property
    def n_groups(self) -> int:
        return len(np.unique(self.group))


def _collect(episodes: Iterable[EpisodeSeries], instrument: str) -> _Data:
    group: list[int] = []
    session: list[int] = []
    intake: list[float] = []
    score: list[float] = []
    for series in sorted((e for e in episodes if e.completed), key=lambda e: e.episode_id):
        found = series.intake_score(instrument)
        if found is None:
            continue
        for s, value in series.outcome_after_intake(instrument):
            group.append(series.episode_id)
            session.append(s.number)
            intake.append(found[0])
            score.append(value)
    return _Data(
        np.asarray(group, dtype=np.int64),
        np.asarray(session, dtype=np.int64),
        np.asarray(intake, dtype=np.float64),
        np.asarray(score, dtype=np.float64),
    )


def _design(session: ArrayLike, intake: FloatArray, centre: float) -> FloatArray:
    log_s = np.log(np.asarray(session, dtype=np.float64))
    centred = intake - centre
    return np.column_stack([np.ones_like(log_s), log_s, centred, centred * log_s])


def _fit_mixed(
    y: FloatArray, x: FloatArray, groups: NDArray[np.int64]
) -> tuple[FloatArray, float, float] | str:
    """Fixed effects, random-intercept variance, residual variance — or why it failed."""
    # Imported here: statsmodels is slow to import and only needed when fitting.
    from statsmodels.regression.mixed_linear_model import MixedLM

    failures: list[str] = []
    for method in ("lbfgs", "bfgs", "cg"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = MixedLM(y, x, groups=groups).fit(reml=True, method=[method])
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            failures.append(f"{method}: {type(exc).__name__}")
            continue
        params = np.asarray(result.fe_params, dtype=np.float64)
        re_var = float(np.asarray(result.cov_re, dtype=np.float64).ravel()[0])
        scale = float(result.scale)
        if result.converged and np.all(np.isfinite(params)) and math.isfinite(re_var):
            return params, re_var, scale
        failures.append(f"{method}: did not converge")
    return "the mixed model did not converge (" + "; ".join(failures) + ")"


def _percentiles(
    residual: FloatArray, session: NDArray[np.int64], p: float, min_n: int, max_session: int
) -> dict[int, float]:
    out: dict[int, float] = {}
    for n in range(1, max_session + 1):
        values = residual[session == n]
        if len(values) >= min_n:
            out[n] = float(np.percentile(values, p))
    return out


def fit_trajectory(
    episodes: Sequence[EpisodeSeries] | Iterable[EpisodeSeries],
    instrument: str,
    settings: AlertSettings,
) -> TrajectoryModel:
    """Fit the clinic's expected-recovery curve for ``instrument``, or return the default."""
    data = _collect(episodes, instrument)
    n_groups, n_obs = data.n_groups, len(data.score)
    if n_groups < settings.trajectory_min_episodes or n_obs < settings.trajectory_min_observations:
        return _with_counts(
            default_trajectory(
                instrument,
                settings,
                f"this clinic has too few completed episodes to fit its own curve "
                f"({n_groups} episodes and {n_obs} scores after intake; "
                f"{settings.trajectory_min_episodes} and {settings.trajectory_min_observations} "
                "needed)",
            ),
            n_groups,
            n_obs,
        )

    ids = np.unique(data.group)
    if len(ids) > settings.trajectory_max_episodes:
        rng = np.random.default_rng(settings.trajectory_seed)
        chosen = np.sort(rng.choice(ids, size=settings.trajectory_max_episodes, replace=False))
        mask = np.isin(data.group, chosen)
    else:
        mask = np.ones(len(data.group), dtype=bool)
    centre = float(np.mean(data.intake[mask]))
    fitted = _fit_mixed(
        data.score[mask], _design(data.session[mask], data.intake[mask], centre), data.group[mask]
    )
    if isinstance(fitted, str):
        return _with_counts(default_trajectory(instrument, settings, fitted), n_groups, n_obs)
    params, re_var, scale = fitted

    # Hold the curve flat beyond the last well-populated session (no extrapolation).
    numbers, counts = np.unique(data.session, return_counts=True)
    populated = numbers[counts >= settings.trajectory_min_residuals_per_session]
    max_session = int(populated.max()) if len(populated) else int(numbers.max())
    max_session = max(max_session, 2)
    capped = np.minimum(data.session, max_session)
    residual = data.score - _design(capped, data.intake, centre) @ params
    yellow_p = settings.not_on_track_yellow_percentile
    red_p = settings.not_on_track_red_percentile
    jump_p = settings.not_on_track_jump_percentile
    min_n = settings.trajectory_min_residuals_per_session
    # The own-deviation boundaries: percentiles of the same estimate in every eligible completed
    # episode, after each of its scores (so a boundary is "this clinic's clients", not a
    # normal-law assumption).
    own_z = group_z(residual, data.group, re_var, scale)
    return TrajectoryModel(
        instrument=instrument,
        source="clinic",
        b0=float(params[0]),
        b1=float(params[1]),
        b_intake=float(params[2]),
        b_intake_log=float(params[3]),
        intake_centre=centre,
        yellow_percentile=yellow_p,
        red_percentile=red_p,
        q_yellow=float(np.percentile(residual, yellow_p)),
        q_red=float(np.percentile(residual, red_p)),
        max_session=max_session,
        q_yellow_by_session=_percentiles(residual, capped, yellow_p, min_n, max_session),
        q_red_by_session=_percentiles(residual, capped, red_p, min_n, max_session),
        n_episodes=n_groups,
        n_observations=n_obs,
        n_fitted_episodes=len(np.unique(data.group[mask])),
        random_intercept_var=re_var,
        residual_var=scale,
        jump_percentile=jump_p,
        q_jump=float(np.percentile(residual, jump_p)),
        q_jump_by_session=_percentiles(residual, capped, jump_p, min_n, max_session),
        own_yellow_z=float(np.percentile(own_z, yellow_p)),
        own_red_z=float(np.percentile(own_z, red_p)),
        reason=(
            f"fitted on this clinic's completed episodes ({n_groups} episodes, {n_obs} scores"
            + (
                f"; curve from a seeded subsample of {settings.trajectory_max_episodes})"
                if len(ids) > settings.trajectory_max_episodes
                else ")"
            )
        ),
    )


def _with_counts(model: TrajectoryModel, n_episodes: int, n_obs: int) -> TrajectoryModel:
    return replace(model, n_episodes=n_episodes, n_observations=n_obs)
