"""Clinic-level context computed from all episodes: the early-alliance cut-off and the
expected-recovery curves. Computed once (e.g. nightly) and cached by the Django side via
``as_dict``/``from_dict``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from .early import early_checkins
from .settings import AlertSettings
from .trajectory import TrajectoryModel, default_trajectory, fit_trajectory
from .types import EpisodeSeries

NormSource = Literal["clinic", "default"]


@dataclass(frozen=True)
class ClinicNorms:
    """``early_alliance_q25``: the cut-off for a weak early alliance (the
    ``early_alliance_percentile`` — 25th by default — of episodes' mean client check-in over the
    early sessions), ``trajectories``: one model per outcome instrument."""

    early_alliance_q25: float
    early_alliance_source: NormSource = "default"
    early_alliance_n: int = 0
    trajectories: Mapping[str, TrajectoryModel] = field(default_factory=dict)

    def trajectory(self, instrument: str, settings: AlertSettings) -> TrajectoryModel:
        """The clinic's model for ``instrument``, or the default curve when there is none."""
        model = self.trajectories.get(instrument)
        if model is not None and model.own_yellow_z is None and model.source == "clinic":
            # Cached before issue 12 (no own-deviation percentiles yet): use the normal quantiles
            # of the current settings' percentiles until the next refit (at most a day).
            return replace(
                model,
                yellow_percentile=settings.not_on_track_yellow_percentile,
                red_percentile=settings.not_on_track_red_percentile,
            )
        if model is not None:
            return model
        return default_trajectory(
            instrument, settings, "no curve has been computed for this clinic yet"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "early_alliance_q25": self.early_alliance_q25,
            "early_alliance_source": self.early_alliance_source,
            "early_alliance_n": self.early_alliance_n,
            "trajectories": {k: m.as_dict() for k, m in sorted(self.trajectories.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClinicNorms:
        source = data.get("early_alliance_source", "default")
        if source not in ("clinic", "default"):
            raise ValueError(f"unknown early_alliance_source {source!r}")
        return cls(
            early_alliance_q25=float(data["early_alliance_q25"]),
            early_alliance_source=source,
            early_alliance_n=int(data.get("early_alliance_n", 0)),
            trajectories={
                k: TrajectoryModel.from_dict(v)
                for k, v in dict(data.get("trajectories", {})).items()
            },
        )


def default_norms(settings: AlertSettings) -> ClinicNorms:
    """Norms for a clinic without data: default cut-off, default curves."""
    return ClinicNorms(
        early_alliance_q25=settings.early_alliance_default_cutoff,
        early_alliance_source="default",
        early_alliance_n=0,
        trajectories={
            i: default_trajectory(i, settings, "no curve has been computed for this clinic yet")
            for i in settings.trajectory_instruments
        },
    )


def early_alliance_cutoff(
    series_list: Iterable[EpisodeSeries], settings: AlertSettings
) -> tuple[float, NormSource, int]:
    """The clinic's percentile of episodes' early mean check-in, or the default."""
    means = []
    for series in series_list:
        points = early_checkins(series, settings)
        if points:
            means.append(sum(v for _, v in points) / len(points))
    if len(means) < settings.early_alliance_min_episodes:
        return settings.early_alliance_default_cutoff, "default", len(means)
    cutoff = float(np.percentile(np.asarray(means), settings.early_alliance_percentile))
    return cutoff, "clinic", len(means)


def compute_norms(series_list: Sequence[EpisodeSeries], settings: AlertSettings) -> ClinicNorms:
    """Clinic norms from every episode (curves from the completed ones)."""
    series_list = list(series_list)
    cutoff, source, n = early_alliance_cutoff(series_list, settings)
    return ClinicNorms(
        early_alliance_q25=cutoff,
        early_alliance_source=source,
        early_alliance_n=n,
        trajectories={
            i: fit_trajectory(series_list, i, settings) for i in settings.trajectory_instruments
        },
    )
