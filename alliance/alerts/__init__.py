"""Alerts for measurement-based care: series in, findings out. Pure Python, never Django.

The Django side (``alliance/care/alert_sync.py``) builds one :class:`EpisodeSeries` per episode
from the database, computes :class:`ClinicNorms` now and then (cache them with
``as_dict``/``from_dict``), evaluates, and reconciles the findings with the stored alerts::

    from alliance.alerts import (
        AlertSettings, compute_norms, evaluate_episode, reconcile, StoredAlert,
    )

    settings = AlertSettings.from_dict(clinic.alert_overrides)      # SettingsError names fields
    norms = compute_norms(all_series, settings)                     # nightly; cache as JSON
    findings = evaluate_episode(series, settings, norms)            # list[Finding]
    stored = [StoredAlert(key=a.key, kind=a.kind, status=a.status, severity=a.severity,
                          session_number=a.session_number, appointment_id=a.appointment_id,
                          title=a.title, explanation=a.explanation, suggestion=a.suggestion,
                          evidence=a.evidence) for a in episode.alerts.all()]
    plan = reconcile(stored, findings, series, settings)            # one episode at a time
    for new in plan.create:      # NewAlert: .finding (key, content), .status (usually "open")
        ...
    for change in plan.update:   # AlertUpdate: .severity / .status / .finding (new content) /
        ...                      # .no_longer_met (set evidence["no_longer_met"] = True)

``apply_plan()``/``apply_update()`` are the reference implementation of what to write; nothing
is ever deleted and notes are never touched. All columns map one-to-one onto ``care.Alert``
(key, kind, severity, status, session_number, appointment, title, explanation, suggestion,
evidence). The immediate risk alert that ``alert_sync.raise_risk_alerts`` creates uses the same
key (``risk:ep<id>:r<response id>``), so the next recomputation refreshes it, never duplicates
it.

Public API
----------
Inputs (frozen dataclasses, ``types.py``): :class:`CheckinScore`, :class:`RiskSignal`,
:class:`Session`, :class:`EpisodeSeries`.

Settings (``settings.py``): :class:`AlertSettings` — every threshold with its source
(``AlertSettings.field_info()``); ``from_dict``/``as_dict``/``overrides``; :class:`SettingsError`
with ``errors: dict[field, message]``.

Clinic context (``norms.py``, ``trajectory.py``): :class:`ClinicNorms`, :func:`compute_norms`,
:func:`default_norms`, :class:`TrajectoryModel`, :func:`fit_trajectory`,
:func:`default_trajectory`.

Rules → findings (``evaluate.py``): :func:`evaluate_episode`, :func:`evaluate_clinic`,
:class:`Finding`.

Lifecycle (``lifecycle.py``): :func:`allowed_actions`, :func:`next_states`,
:func:`apply_action`, :class:`StoredAlert`, :func:`reconcile`, :class:`ReconcilePlan`,
:class:`AlertUpdate`, :func:`apply_plan`, :func:`stored_from_finding`; repair detection
:func:`repair_outcome` (``rupture.py``).

Kinds, keys and severities
--------------------------
============================  ====================================================  ==========
kind                          key (one alert = one key)                             severity
============================  ====================================================  ==========
``risk``                      ``risk:ep<id>:r<response_id>`` (one per response;     urgent
                              ``risk:ep<id>:s<n>:<instrument>`` without an id)
``rupture``                   ``rupture:ep<id>:s<n>`` (one per rupture; markers     red (drop /
                              at one session merged; a concern or no-show alone     floor), else
                              needs two appointments in a row and is keyed at the   yellow
                              first; later markers in the repair window join it)
``early_weak_alliance``       ``early_weak_alliance:ep<id>``                        yellow
``perspective_gap``           ``perspective_gap:ep<id>``                            info; yellow
                                                                                    if repeated
``not_on_track``              ``not_on_track:ep<id>`` (both instruments; escalates; yellow / red
                              red from a reliable deterioration on; old
                              per-instrument keys are carried on, see
                              ``lifecycle.LEGACY_KEYS``)
``deterioration``             ``deterioration:ep<id>:<instrument>``                 red
``disengagement``             ``disengagement:ep<id>:<variant>:s<n>`` — variants    yellow
                              ``late_cancel``, ``checkins_stopped`` (keyed by the
                              start of the stretch), ``no_show`` (if configured)
============================  ====================================================  ==========

``urgent`` = act today (the Django side escalates to the supervisor after
``risk_escalation_minutes`` unacknowledged); ``red`` = act at or before the next session;
``yellow`` = look before the next session; ``info`` = context.

No-shows: by default (``no_show_as = "rupture"``) a no-show is a *rupture marker* (docs/clinical.md:
"a missed session without notice is relationship material ... a rupture marker too"), so it gets
the rupture workflow: discuss, then repaired when the client's next check-in returns to the
level before the missed session. ``no_show_as = "disengagement"`` reports it as disengagement
instead. It is never reported twice.

Findings are deterministic and never contain client free text: a written concern is reported as
"the client wrote something", the text stays in the client's record.
"""

from .evaluate import evaluate_clinic, evaluate_episode
from .findings import JSON, KINDS, SEVERITIES, SEVERITY_RANK, Finding, Kind, Severity, make_key
from .lifecycle import (
    ACTIONS,
    NO_LONGER_MET,
    STATUSES,
    Action,
    AlertUpdate,
    NewAlert,
    ReconcilePlan,
    Status,
    StoredAlert,
    TransitionError,
    allowed_actions,
    apply_action,
    apply_plan,
    apply_update,
    next_states,
    reconcile,
    stored_from_finding,
)
from .norms import ClinicNorms, compute_norms, default_norms
from .rupture import RepairOutcome, repair_outcome
from .settings import AlertSettings, SettingInfo, SettingsError
from .suggestions import SUGGESTIONS, Suggestion, suggestion_for
from .trajectory import TrajectoryModel, default_trajectory, fit_trajectory
from .types import ATTENDANCE, CHECKIN_DIMENSIONS, CheckinScore, EpisodeSeries, RiskSignal, Session

__all__ = [
    "ACTIONS",
    "ATTENDANCE",
    "CHECKIN_DIMENSIONS",
    "JSON",
    "KINDS",
    "NO_LONGER_MET",
    "SEVERITIES",
    "SEVERITY_RANK",
    "STATUSES",
    "SUGGESTIONS",
    "Action",
    "AlertSettings",
    "AlertUpdate",
    "CheckinScore",
    "ClinicNorms",
    "EpisodeSeries",
    "Finding",
    "Kind",
    "NewAlert",
    "ReconcilePlan",
    "RepairOutcome",
    "RiskSignal",
    "Session",
    "SettingInfo",
    "SettingsError",
    "Severity",
    "Status",
    "StoredAlert",
    "Suggestion",
    "TrajectoryModel",
    "TransitionError",
    "allowed_actions",
    "apply_action",
    "apply_plan",
    "apply_update",
    "compute_norms",
    "default_norms",
    "default_trajectory",
    "evaluate_clinic",
    "evaluate_episode",
    "fit_trajectory",
    "make_key",
    "next_states",
    "reconcile",
    "repair_outcome",
    "stored_from_finding",
    "suggestion_for",
]
