"""The clinic's alert settings and the fitted norms cache behind the not-on-track rule.

Fitting the norms takes seconds, so a client's request only ever reads the last fit (`cached_norms`);
the scheduler and `alliance alerts recompute` refit when the fit is a day old or when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone

from alliance.alerts import AlertSettings, ClinicNorms, EpisodeSeries, compute_norms, default_norms
from alliance.care.alert_series import load_series
from alliance.care.models import ClinicSettings, NormsCache

# The scheduler refits the norms when they are this old (`alliance alerts recompute --refit` forces it).
NORMS_MAX_AGE = timedelta(hours=24)


def clinic_alert_settings() -> AlertSettings:
    return AlertSettings.from_dict(ClinicSettings.load().alert_settings or {})


def cached_norms(settings: AlertSettings) -> ClinicNorms:
    """The last fitted norms, whatever their age, or the documented defaults. Never fits: this is
    what the per-response path uses, so that a client's request never waits for a model fit."""
    cached = NormsCache.objects.filter(pk=1).first()
    if cached is not None and cached.data:
        return ClinicNorms.from_dict(cached.data)
    return default_norms(settings)


def norms_are_stale() -> bool:
    cached = NormsCache.objects.filter(pk=1).only("computed_at").first()
    return cached is None or timezone.now() - cached.computed_at >= NORMS_MAX_AGE


def clinic_norms(
    settings: AlertSettings, *, refit: bool = False, series: Sequence[EpisodeSeries] | None = None
) -> ClinicNorms:
    """Norms for a whole-clinic recompute: refitted when asked, missing or older than a day.
    `series` saves reading the clinic again when the caller already has it."""
    if not refit and not norms_are_stale():
        return cached_norms(settings)
    series = load_series() if series is None else series
    norms = compute_norms(series, settings)
    NormsCache.objects.update_or_create(
        pk=1,
        defaults={"data": norms.as_dict(), "computed_at": timezone.now(), "episodes": len(series)},
    )
    return norms
