"""Keeping stored alerts in step with the rules in alliance.alerts.

The rules are pure (series in, findings out). This module runs them: it reads the series
(`alert_series`), takes the settings and norms (`alert_norms`), evaluates and reconciles each episode,
and hands the plan to `alert_writer`: new alerts, severity escalations, refreshed numbers and automatic
repaired/unresolved transitions. Nothing is ever deleted, so running it after every response, as a
background job, or from `alliance alerts recompute` gives the same result. Scheduling a recompute in the
background is `alliance.care.tasks.schedule_recompute` (tasks depend on this module, never the reverse).

Reading is done in a handful of bulk queries whatever the number of episodes, and writing a batch of
episodes at a time: 10,000 episodes recompute in about 11 s when nothing changed and 30 s when every
alert is created (benchmarks/alerts_recompute.py; figures in docs/alerts-evaluation.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from alliance.alerts import AlertSettings, ClinicNorms, EpisodeSeries, evaluate_episode, reconcile
from alliance.care import alert_writer
from alliance.care.alert_norms import (
    NORMS_MAX_AGE,
    cached_norms,
    clinic_alert_settings,
    clinic_norms,
    norms_are_stale,
)
from alliance.care.alert_series import load_series
from alliance.care.models import Alert, AlertKind, Response

__all__ = [
    "EPISODE_BATCH",
    "NORMS_MAX_AGE",
    "SyncResult",
    "cached_norms",
    "clinic_alert_settings",
    "clinic_norms",
    "load_series",
    "norms_are_stale",
    "raise_risk_alerts",
    "sync",
]

# Episodes reconciled and written per transaction during a whole-clinic recompute.
EPISODE_BATCH = 1000


@dataclass(frozen=True)
class SyncResult:
    episodes: int
    created: int
    updated: int
    new_alerts: tuple[Alert, ...] = ()


def sync(
    episode_ids: Iterable[int] | None = None,
    *,
    settings: AlertSettings | None = None,
    norms: ClinicNorms | None = None,
    refit: bool = False,
) -> SyncResult:
    """Recompute the alerts of some episodes (all when `episode_ids` is None).

    The series are read once (for the norms too); the alerts are then reconciled and written a batch of
    episodes at a time, so memory stays bounded however large the clinic.
    """
    settings = settings or clinic_alert_settings()
    series_list = load_series(episode_ids)
    if norms is None:
        if episode_ids is None:
            norms = clinic_norms(settings, refit=refit, series=series_list)
        else:
            norms = cached_norms(settings)
    created = updated = 0
    new_alerts: list[Alert] = []
    for start in range(0, len(series_list), EPISODE_BATCH):
        batch_created, batch_updated = _sync_batch(
            series_list[start : start + EPISODE_BATCH], settings, norms
        )
        created += len(batch_created)
        updated += batch_updated
        if episode_ids is not None:
            new_alerts += batch_created
    return SyncResult(len(series_list), created, updated, tuple(new_alerts))


def _sync_batch(
    series_list: Sequence[EpisodeSeries], settings: AlertSettings, norms: ClinicNorms
) -> tuple[list[Alert], int]:
    stored_by_episode = alert_writer.stored_alerts(s.episode_id for s in series_list)
    changes = alert_writer.Changes(now=timezone.now())
    for series in series_list:
        findings = evaluate_episode(series, settings, norms)
        stored = stored_by_episode.get(series.episode_id, {})
        plan = reconcile(
            [alert_writer.as_stored(a) for a in stored.values()], findings, series, settings
        )
        if not plan.is_empty:
            changes.apply(series.episode_id, plan, stored)
    alert_writer.write(changes)
    return changes.created, len(changes.updated)


def raise_risk_alerts(response: Response) -> list[Alert]:
    """Run the rules for this episode now, in the request that stored the response, so that a risk
    answer reaches the therapist at once; returns the risk alerts this created."""
    result = sync([response.episode_id])
    return [a for a in result.new_alerts if a.kind == AlertKind.RISK]
