"""Every threshold the alert rules use, with its default and where the default comes from.

The research offers no single numeric rule for most of these (docs/clinical.md), so every number is
a named, documented field an administrator can override. ``source`` in each field's metadata
says where the default comes from; "UNVERIFIED" marks project defaults that must not be
presented as settled. ``AlertSettings.field_info()`` exposes this to the admin UI.

Overrides are stored as JSON: ``AlertSettings.from_dict(overrides)`` applies them on top of the
defaults and raises :class:`SettingsError` whose ``errors`` name the offending fields;
``as_dict()`` gives the JSON-able form back (round-trips exactly).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from .message import N_
from .types import CHECKIN_DIMENSIONS

T = TypeVar("T")

UNVERIFIED: Final = N_("project default, UNVERIFIED")


def _meta(
    source: str,
    help_text: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    choices: tuple[str, ...] | None = None,
) -> dict[str, object]:
    """Field metadata: where the default comes from, help text and validation bounds."""
    return {
        "source": source,
        "help": help_text,
        "low": low,
        "high": high,
        "low_open": low_open,
        "choices": choices,
    }


def _setting(
    default: T,
    source: str,
    help_text: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    choices: tuple[str, ...] | None = None,
) -> T:
    """A dataclass field (immutable default) with its source and bounds in the metadata."""
    metadata = _meta(source, help_text, low=low, high=high, low_open=low_open, choices=choices)
    return field(default=default, metadata=metadata)


class SettingsError(ValueError):
    """Invalid settings; ``errors`` maps each bad field name to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


@dataclass(frozen=True)
class SettingInfo:
    """Description of one setting for an admin screen."""

    name: str
    default: object
    source: str
    help: str
    unverified: bool


@dataclass(frozen=True)
class AlertSettings:
    """Thresholds for every alert rule. Construct with keywords; all fields have defaults."""

    # --- rupture (Eubanks, Muran & Safran 2018; docs/clinical.md#alliance-ruptures-and-repair) ---
    rupture_k: float = _setting(
        1.5,
        N_(
            "docs/clinical.md default k = 1.5 (configurable; the research has no single numeric rule)"
        ),
        N_(
            "A drop counts when it is at least k times the client's own SD of session-to-session "
            "change in the check-in."
        ),
        low=0,
        low_open=True,
    )
    rupture_min_drop: float = _setting(
        2.0,
        UNVERIFIED,
        N_("A drop in the check-in total must also be at least this many points (0-10 scale)."),
        low=0,
        high=10,
    )
    rupture_min_drop_dimension: float = _setting(
        3.0,
        UNVERIFIED
        + " "
        + N_(
            "Chosen from benchmarks/alerts_evaluation.py on simulated data: a single "
            "0-10 item falling by 2 is mostly noise there (positive predictive value 14%)."
        ),
        N_("A drop in one dimension (bond, goals or tasks) must be at least this many points."),
        low=0,
        high=10,
    )
    rupture_floor: float = _setting(
        5.0,
        UNVERIFIED,
        N_("A check-in total or any dimension falling below this (0-10) is a rupture marker."),
        low=0,
        high=10,
    )
    rupture_min_prior_changes: int = _setting(
        3,
        UNVERIFIED,
        N_(
            "Number of earlier session-to-session changes needed before the client's own SD is "
            "used; with fewer, rupture_fallback_sd is used."
        ),
        low=2,
    )
    rupture_min_sd: float = _setting(
        0.5,
        UNVERIFIED,
        N_(
            "Lower bound on the client's own SD, so that a client who always answers 10 is not "
            "flagged for every small dip."
        ),
        low=0,
    )
    rupture_fallback_sd: float = _setting(
        1.0,
        UNVERIFIED,
        N_("SD of session-to-session change assumed while a client has too few check-ins."),
        low=0,
        low_open=True,
    )
    rupture_dimensions: tuple[str, ...] = _setting(
        CHECKIN_DIMENSIONS,
        N_("docs/CONTRACTS.md check-in dimensions"),
        N_("Check-in dimensions watched individually, besides the total."),
    )
    concern_is_rupture: bool = _setting(
        True,
        N_("docs/clinical.md: a concern written in the open question is a rupture marker"),
        N_("Treat an answer to 'What could have been better today?' as a rupture marker."),
    )
    no_show_as: str = _setting(
        "rupture",
        N_("docs/clinical.md: a missed session without notice is a rupture marker"),
        N_(
            "How a no-show is reported: 'rupture' (a rupture marker with repair tracking) or "
            "'disengagement'."
        ),
        choices=("rupture", "disengagement"),
    )
    rupture_marker_persistence: int = _setting(
        2,
        N_(
            "issue 12: a yellow needs two sessions in a row (UNVERIFIED); 1 restores an alert for "
            "every concern or no-show"
        ),
        N_(
            "A written concern or a no-show without a measured fall raises a (yellow) rupture alert "
            "only at this many appointments in a row (cancellations with notice skipped). A marker "
            "within the repair window of an earlier rupture joins that rupture's alert instead."
        ),
        low=1,
    )
    repair_window_sessions: int = _setting(
        2,
        N_("docs/clinical.md default m = 2"),
        N_(
            "A rupture counts as repaired when the check-in returns to its pre-drop level within "
            "this many attended sessions; otherwise it becomes unresolved."
        ),
        low=1,
    )
    # --- early weak alliance (Sharf et al. 2010; Flückiger et al. 2018) ---
    early_alliance_last_session: int = _setting(
        3,
        UNVERIFIED,
        N_("Sessions 1..N make up the 'early' alliance."),
        low=1,
    )
    early_alliance_percentile: float = _setting(
        25.0,
        UNVERIFIED,
        N_(
            "Early mean check-in below this percentile of the clinic's episodes is flagged "
            "(25 = the lowest quarter)."
        ),
        low=0,
        high=100,
        low_open=True,
    )
    early_alliance_persistence: int = _setting(
        1,
        UNVERIFIED
        + " "
        + N_(
            "(issue 12 asks for two in a row for yellow alerts; on the main simulator "
            "two halved the dropouts flagged, 36% to 19%, without a better PPV, because many "
            "dropouts leave before a second check-in: docs/alerts-evaluation.md)"
        ),
        N_(
            "Check-ins in a row after which the running early mean must be below the cut-off "
            "before the (yellow) alert is raised; 1 = at the first check-in below."
        ),
        low=1,
    )
    early_alliance_min_episodes: int = _setting(
        20,
        UNVERIFIED,
        N_("Episodes with an early check-in needed before the clinic's own percentile is used."),
        low=1,
    )
    early_alliance_default_cutoff: float = _setting(
        7.0,
        UNVERIFIED,
        N_("Cut-off used instead of the clinic percentile while the clinic has too few episodes."),
        low=0,
        high=10,
    )
    # --- perspective gap ---
    gap_min_points: float = _setting(
        2.0,
        UNVERIFIED,
        N_("The therapist's check-in total higher than the client's by at least this (0-10)."),
        low=0,
        low_open=True,
    )
    gap_persistent_sessions: int = _setting(
        2,
        UNVERIFIED,
        N_("A gap in this many consecutive rated sessions raises the alert from info to yellow."),
        low=1,
    )
    # --- not on track (Lambert/Finch; Lutz; Hannan et al. 2005) ---
    not_on_track_yellow_percentile: float = _setting(
        83.0,
        UNVERIFIED
        + " "
        + N_(
            "(docs/clinical.md: Lambert/Finch and Lutz use the 75th percentile of "
            "single-score residuals; 83 was chosen for the client's own-deviation estimate on the "
            "main simulator, the lowest that keeps false alarms within 25% once a reliable "
            "deterioration is red too: docs/alerts-evaluation.md)"
        ),
        N_(
            "Yellow when the client's own deviation from the expected curve, estimated from all "
            "their scores so far, is above this percentile of the clinic's completed episodes, "
            "at not_on_track_persistence scores in a row."
        ),
        low=50,
        high=100,
        low_open=True,
    )
    not_on_track_red_percentile: float = _setting(
        88.0,
        UNVERIFIED
        + " "
        + N_(
            "(docs/clinical.md: Lambert/Finch and Lutz use the 90th percentile of "
            "single-score residuals; 88 was chosen for the client's own-deviation estimate on the "
            "main simulator, docs/alerts-evaluation.md)"
        ),
        N_("Red (at once) when the client's own deviation estimate is above this percentile."),
        low=50,
        high=100,
        low_open=True,
    )
    not_on_track_jump_percentile: float = _setting(
        97.5,
        UNVERIFIED + " " + N_("(chosen on the main simulator, docs/alerts-evaluation.md)"),
        N_(
            "Red (at once) when a single score is above the expected curve by more than this "
            "percentile of the clinic's differences (observed - expected), whatever came before."
        ),
        low=50,
        high=100,
        low_open=True,
    )
    not_on_track_persistence: int = _setting(
        2,
        N_("issue 12: a yellow needs two sessions in a row, red can fire at once (UNVERIFIED)"),
        N_(
            "Scores in a row (of one instrument) that must be at yellow or worse before a yellow "
            "'not on track' alert is raised; 1 = at once."
        ),
        low=1,
    )
    trajectory_instruments: tuple[str, ...] = _setting(
        ("phq9", "gad7"),
        N_("docs/CONTRACTS.md outcome instruments"),
        N_("Outcome instruments with an expected-recovery curve."),
    )
    trajectory_min_episodes: int = _setting(
        30,
        UNVERIFIED,
        N_("Completed episodes needed to fit the clinic's own curve; fewer → default curve."),
        low=2,
    )
    trajectory_min_observations: int = _setting(
        150,
        UNVERIFIED,
        N_("Post-intake scores needed to fit the clinic's own curve; fewer → default curve."),
        low=8,
    )
    trajectory_max_episodes: int = _setting(
        500,
        N_(
            "performance limit (MixedLM loops over episodes in Python: ~1-2 s for 500 episodes, "
            "~2-4 s for 1,000)"
        ),
        N_(
            "At most this many completed episodes (a seeded random subsample) are used to fit the "
            "curve; the residual percentiles still use all of them."
        ),
        low=10,
    )
    trajectory_seed: int = _setting(
        20250101,
        N_("fixed so that a refit on the same data gives the same curve"),
        N_("Seed for the subsample of episodes."),
        low=0,
    )
    trajectory_min_residuals_per_session: int = _setting(
        40,
        UNVERIFIED,
        N_(
            "Residuals needed at a session number for session-specific percentiles; otherwise "
            "the pooled percentiles are used. The curve is held flat beyond the last such session."
        ),
        low=5,
    )
    trajectory_default_reduction: float = _setting(
        0.4,
        UNVERIFIED,
        N_(
            "Default curve: expected = intake x (1 - d·log(session)/log(12)); d is the expected "
            "proportional reduction by session 12."
        ),
        low=0,
        high=1,
    )
    trajectory_default_sd: dict[str, float] = field(
        default_factory=lambda: {"phq9": 4.5, "gad7": 3.5},
        metadata=_meta(
            UNVERIFIED
            + " "
            + N_("(chosen so the red boundary, 1.28 SD, lies near the reliable-change amount)"),
            N_(
                "Default curve: SD of (observed - expected) per instrument; the boundaries are its "
                "normal percentiles."
            ),
        ),
    )
    trajectory_default_max_session: int = _setting(
        20,
        UNVERIFIED,
        N_("Default curve is held flat after this session."),
        low=2,
    )
    trajectory_default_client_share: float = _setting(
        0.65,
        UNVERIFIED + " " + N_("(a clinic fit on simulated data gives about two thirds)"),
        N_(
            "Default curve: share of the variance of (observed - expected) that is the client's own "
            "lasting deviation (the rest is session-to-session noise); it sets how quickly the "
            "own-deviation estimate trusts the client's scores."
        ),
        low=0,
        high=0.95,
        low_open=True,
    )
    # --- reliable deterioration (NHS Talking Therapies; docs/clinical.md) ---
    reliable_deterioration: dict[str, float] = field(
        default_factory=lambda: {"phq9": 6.0, "gad7": 4.0},
        metadata=_meta(
            N_(
                "NHS Talking Therapies reliable-change amounts (deterioration mirrors improvement: "
                "UNVERIFIED per docs/clinical.md)"
            ),
            N_("Rise from intake, by instrument, that counts as reliable deterioration."),
        ),
    )
    # --- disengagement ---
    late_cancel_count: int = _setting(
        2,
        UNVERIFIED,
        N_(
            "Late cancellations within the last late_cancel_window appointments that raise an alert."
        ),
        low=1,
    )
    late_cancel_window: int = _setting(
        6,
        UNVERIFIED,
        N_("Number of most recent past appointments looked at for late cancellations."),
        low=1,
    )
    missing_checkin_sessions: int = _setting(
        2,
        UNVERIFIED,
        N_(
            "Consecutive attended sessions without a client check-in (after the client has done "
            "at least one) that raise an alert."
        ),
        low=1,
    )
    # --- risk ---
    risk_escalation_minutes: int = _setting(
        60,
        UNVERIFIED,
        N_(
            "Minutes after which an unacknowledged risk alert is escalated to the supervisor "
            "(carried out by the Django side)."
        ),
        low=1,
    )
    risk_administrator_escalation_minutes: int = _setting(
        30,
        UNVERIFIED,
        N_(
            "Further minutes after the supervisor was told, still unacknowledged, after which the "
            "clinic's administrators are told too (second stage; carried out by the Django side)."
        ),
        low=1,
    )

    def __post_init__(self) -> None:
        errors = _validate(self)
        if errors:
            raise SettingsError(errors)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AlertSettings:
        """Defaults overridden by ``data`` (e.g. an administrator's stored JSON)."""
        if not isinstance(data, Mapping):
            raise SettingsError({"__all__": "settings must be a JSON object"})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        errors: dict[str, str] = {}
        values: dict[str, object] = {}
        for name, raw in data.items():
            if name not in fields:
                errors[str(name)] = "unknown setting"
                continue
            default = _default_of(fields[name])
            try:
                values[name] = _coerce(raw, default)
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise SettingsError(errors)
        return cls(**values)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        """JSON-able form of every setting (tuples become lists)."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    def overrides(self) -> dict[str, object]:
        """Only the settings that differ from the defaults (what an admin screen would store)."""
        defaults = AlertSettings().as_dict()
        return {k: v for k, v in self.as_dict().items() if defaults[k] != v}

    @classmethod
    def field_info(cls) -> tuple[SettingInfo, ...]:
        """Name, default, source and help text of every setting."""
        return tuple(
            SettingInfo(
                name=f.name,
                default=_default_of(f),
                source=str(f.metadata["source"]),
                help=str(f.metadata["help"]),
                unverified="UNVERIFIED" in str(f.metadata["source"]),
            )
            for f in dataclasses.fields(cls)
        )


def _default_of(f: dataclasses.Field[Any]) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc]


def _coerce(raw: object, default: object) -> object:
    """Convert a JSON value to the type of ``default``, or raise ValueError with a message."""
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if isinstance(default, int):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("must be a whole number")
        # JSON reads 1e309 as infinity, which has no whole number to compare with.
        if not math.isfinite(raw) or raw != int(raw):
            raise ValueError("must be a whole number")
        return int(raw)
    if isinstance(default, float):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("must be a number")
        if not math.isfinite(raw):
            raise ValueError("must be a finite number")
        return float(raw)
    if isinstance(default, str):
        if not isinstance(raw, str):
            raise ValueError("must be text")
        return raw
    if isinstance(default, tuple):
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise ValueError("must be a list of names")
        return tuple(raw)
    if isinstance(default, dict):
        if not isinstance(raw, Mapping):
            raise ValueError("must be an object of instrument: number")
        out: dict[str, float] = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"value for {key!r} must be a number")
            out[str(key)] = float(value)
        return out
    raise ValueError("unsupported setting type")  # pragma: no cover


def _validate(settings: AlertSettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        default = _default_of(f)
        try:
            _coerce(value, default)  # type check (also for direct construction)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        meta = f.metadata
        numbers: list[float] = []
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers = [float(value)]
        elif isinstance(value, dict):
            numbers = [float(v) for v in value.values()]
            if any(not math.isfinite(v) or v <= 0 for v in numbers):
                errors[f.name] = "every value must be a positive number"
            continue
        if isinstance(value, tuple) and len(set(value)) != len(value):
            errors[f.name] = "names must not repeat"
        for number in numbers:
            low, high = meta["low"], meta["high"]
            if not math.isfinite(number):
                errors[f.name] = "must be a finite number"
            elif low is not None and (number <= low if meta["low_open"] else number < low):
                bound = "greater than" if meta["low_open"] else "at least"
                errors[f.name] = f"must be {bound} {low}"
            elif high is not None and number > high:
                errors[f.name] = f"must be at most {high}"
        if meta["choices"] is not None and value not in meta["choices"]:
            errors[f.name] = f"must be one of {', '.join(meta['choices'])}"
    if not errors:
        if settings.not_on_track_red_percentile <= settings.not_on_track_yellow_percentile:
            errors["not_on_track_red_percentile"] = (
                "must be higher than not_on_track_yellow_percentile"
            )
        if settings.not_on_track_jump_percentile <= settings.not_on_track_red_percentile:
            errors["not_on_track_jump_percentile"] = (
                "must be higher than not_on_track_red_percentile"
            )
        if settings.late_cancel_count > settings.late_cancel_window:
            errors["late_cancel_count"] = "must not exceed late_cancel_window"
        missing = [
            i for i in settings.trajectory_instruments if i not in settings.trajectory_default_sd
        ]
        if missing:
            errors["trajectory_default_sd"] = f"needs a value for {', '.join(missing)}"
        if settings.trajectory_min_episodes > settings.trajectory_max_episodes:
            errors["trajectory_min_episodes"] = "must not exceed trajectory_max_episodes"
    return errors
