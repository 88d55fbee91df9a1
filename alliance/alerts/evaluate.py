"""Run every rule over an episode (or a clinic) and return the findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .deterioration import deterioration_findings
from .early import early_weak_alliance_findings
from .engagement import disengagement_findings
from .findings import KINDS, Finding
from .gap import perspective_gap_findings
from .norms import ClinicNorms, compute_norms, default_norms
from .not_on_track import not_on_track_findings
from .risk import risk_findings
from .rupture import rupture_findings
from .settings import AlertSettings
from .types import EpisodeSeries

_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def evaluate_episode(
    series: EpisodeSeries,
    settings: AlertSettings | None = None,
    norms: ClinicNorms | None = None,
) -> list[Finding]:
    """Every finding for one episode, sorted by session, kind and key; keys are unique.

    Without ``norms`` the defaults are used (default early-alliance cut-off and default curves).
    Deterministic: the same input always gives the same findings.
    """
    settings = settings or AlertSettings()
    norms = norms or default_norms(settings)
    findings: list[Finding] = [
        *risk_findings(series, settings),
        *rupture_findings(series, settings),
        *early_weak_alliance_findings(series, settings, norms),
        *perspective_gap_findings(series, settings),
        *not_on_track_findings(
            series,
            [norms.trajectory(i, settings) for i in settings.trajectory_instruments],
            settings,
        ),
        *deterioration_findings(series, settings),
        *disengagement_findings(series, settings),
    ]
    keys = [f.key for f in findings]
    if len(set(keys)) != len(keys):  # a bug in a rule, never a data problem
        raise AssertionError(f"duplicate finding keys: {sorted(keys)}")
    return sorted(findings, key=lambda f: (f.session_number or 0, _KIND_ORDER[f.kind], f.key))


def evaluate_clinic(
    series_list: Iterable[EpisodeSeries],
    settings: AlertSettings | None = None,
    norms: ClinicNorms | None = None,
) -> dict[int, list[Finding]]:
    """Findings by episode id; computes the clinic norms first when none are given."""
    settings = settings or AlertSettings()
    episodes: Sequence[EpisodeSeries] = list(series_list)
    ids = [s.episode_id for s in episodes]
    if len(set(ids)) != len(ids):
        raise ValueError("episode ids must be unique")
    norms = norms or compute_norms(episodes, settings)
    return {s.episode_id: evaluate_episode(s, settings, norms) for s in episodes}
