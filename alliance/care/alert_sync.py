"""Keeping stored alerts in step with the rules in alliance.alerts.

The rules are pure (series in, findings out); this module builds the series from the database, runs
them, and writes what `alliance.alerts.reconcile` plans: new alerts, severity escalations, refreshed
numbers and automatic repaired/unresolved transitions. It never deletes an alert or a note, so running
it after every response, as a background job, or from `alliance alerts recompute` gives the same result.

Reading is done in a handful of bulk queries whatever the number of episodes, and writing a batch of
episodes at a time: 10,000 episodes recompute in about 11 s when nothing changed and 30 s when every
alert is created (benchmarks/alerts_recompute.py; figures in docs/alerts-evaluation.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import FloatField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.alerts import (
    AlertSettings,
    AlertUpdate,
    CheckinScore,
    ClinicNorms,
    EpisodeSeries,
    Finding,
    NewAlert,
    RiskSignal,
    Session,
    StoredAlert,
    compute_norms,
    default_norms,
    evaluate_episode,
    reconcile,
)
from alliance.care.models import (
    Alert,
    AlertKind,
    AlertNote,
    Appointment,
    ClinicSettings,
    Episode,
    EpisodeStatus,
    NormsCache,
    Respondent,
    Response,
)
from alliance.core import request_context

logger = logging.getLogger(__name__)

OUTCOME_INSTRUMENTS = ("phq9", "gad7")
CHECKIN = "checkin"
THERAPIST_CHECKIN = "checkin-therapist"
DIMENSIONS = ("bond", "goals", "tasks", "overall")
# The scheduler refits the norms when they are this old (`alliance alerts recompute --refit` forces it).
NORMS_MAX_AGE = timedelta(hours=24)
CHUNK = 2000
# Episodes reconciled and written per transaction during a whole-clinic recompute.
EPISODE_BATCH = 1000


@dataclass(frozen=True)
class SyncResult:
    episodes: int
    created: int
    updated: int
    new_alerts: tuple[Alert, ...] = ()


# --- Settings and norms ----------------------------------------------------------------------------


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


# --- Building the series ---------------------------------------------------------------------------


def _checkin_score(
    total: float | None, dims: Sequence[float | None], has_comment: bool
) -> CheckinScore:
    present = {d: float(v) for d, v in zip(DIMENSIONS, dims, strict=True) if v is not None}
    return CheckinScore(total=total, dims=present, concern=has_comment)


# The four dimensions are read out of the JSON answers by the database (json_extract / ->>), which is
# several times faster than decoding every answers document in Python.
_DIMENSION_COLUMNS = {f"dim_{d}": Cast(KT(f"answers__{d}"), FloatField()) for d in DIMENSIONS}


def load_series(episode_ids: Iterable[int] | None = None) -> list[EpisodeSeries]:
    """One EpisodeSeries per episode, from five bulk queries."""
    episodes = Episode.objects.all()
    if episode_ids is not None:
        episodes = episodes.filter(pk__in=list(episode_ids))
    heads = {
        pk: (therapist_id, status == EpisodeStatus.ENDED)
        for pk, therapist_id, status in episodes.values_list("pk", "therapist_id", "status")
    }
    scope = Q(episode_id__in=list(heads)) if episode_ids is not None else Q()

    appointments: dict[int, list[tuple[int, int, Any, str]]] = defaultdict(list)
    for pk, episode_id, number, when, attendance in (
        Appointment.objects.filter(scope)
        .order_by("episode_id", "session_number")
        .values_list("pk", "episode_id", "session_number", "scheduled_at", "attendance")
        .iterator(chunk_size=CHUNK)
    ):
        appointments[episode_id].append((pk, number, when, attendance))

    responses = Response.objects.filter(scope, appointment__isnull=False)
    outcome: dict[int, dict[str, float]] = defaultdict(dict)
    for appointment_id, instrument, total in (
        responses.filter(
            instrument__in=OUTCOME_INSTRUMENTS, respondent=Respondent.CLIENT, scorable=True
        )
        .values_list("appointment_id", "instrument", "total")
        .iterator(chunk_size=CHUNK)
    ):
        if total is not None:
            outcome[appointment_id][instrument] = float(total)

    client_checkin: dict[int, CheckinScore] = {}
    therapist_checkin: dict[int, CheckinScore] = {}
    for appointment_id, instrument, total, has_comment, *dims in (
        responses.filter(instrument__in=(CHECKIN, THERAPIST_CHECKIN))
        .annotate(**_DIMENSION_COLUMNS)
        .values_list("appointment_id", "instrument", "total", "has_comment", *_DIMENSION_COLUMNS)
        .iterator(chunk_size=CHUNK)
    ):
        target = client_checkin if instrument == CHECKIN else therapist_checkin
        target[appointment_id] = _checkin_score(total, dims, has_comment)

    risk: dict[int, list[RiskSignal]] = defaultdict(list)
    for pk, appointment_id, instrument, score in responses.filter(risk=True).values_list(
        "pk", "appointment_id", "instrument", "score"
    ):
        for flag in (score or {}).get("risk_flags", []):
            risk[appointment_id].append(
                RiskSignal(instrument, str(flag.get("item")), float(flag.get("answer") or 0), pk)
            )

    zone = (
        timezone.get_current_timezone()
    )  # once: looking it up per session was a tenth of the time
    series = []
    for episode_id, (therapist_id, completed) in heads.items():
        sessions = tuple(
            Session(
                number=number,
                date=when.astimezone(zone).date(),
                attendance=attendance,  # type: ignore[arg-type]  # the same five values as care.Attendance
                appointment_id=pk,
                outcome=outcome.get(pk, {}),
                risk=tuple(risk.get(pk, ())),
                client_checkin=client_checkin.get(pk),
                therapist_checkin=therapist_checkin.get(pk),
            )
            for pk, number, when, attendance in appointments.get(episode_id, [])
        )
        series.append(EpisodeSeries(episode_id, therapist_id, sessions, completed=completed))
    return series


# --- Writing the plan ------------------------------------------------------------------------------


def _stored(alert: Alert) -> StoredAlert:
    return StoredAlert(
        key=alert.key,
        kind=alert.kind,  # type: ignore[arg-type]
        status=alert.status,  # type: ignore[arg-type]
        severity=alert.severity,  # type: ignore[arg-type]
        session_number=alert.session_number,
        appointment_id=alert.appointment_id,
        title=alert.title,
        explanation=alert.explanation,
        suggestion=alert.suggestion,
        evidence=alert.evidence,
    )


def _content(alert: Alert, finding: Finding) -> None:
    alert.session_number = finding.session_number
    alert.appointment_id = finding.appointment_id
    alert.title = finding.title[:200]
    alert.explanation = finding.explanation
    alert.suggestion = finding.suggestion
    alert.evidence = dict(finding.evidence)


def _new_alert(episode_id: int, new: NewAlert, now: Any) -> Alert:
    alert = Alert(
        episode_id=episode_id,
        key=new.key,
        kind=new.finding.kind,
        severity=new.finding.severity,
        status=new.status,
        created_at=now,
    )
    _content(alert, new.finding)
    if new.status in ("repaired", "unresolved"):
        alert.resolved_at = now
    return alert


def _system_note(alert: Alert, status: str, now: Any) -> AlertNote:
    words = {
        "repaired": "The check-in returned to its level before the drop: marked repaired automatically.",
        "unresolved": "The check-in did not return to its level before the drop within the repair "
        "window: marked unresolved automatically.",
    }
    return AlertNote(
        alert=alert, author=None, action=f"auto_{status}", text=words[status], created_at=now
    )


def _audit(action: str, alert: Alert, client_id: int, data: dict[str, Any]) -> AuditEvent:
    context = request_context.current()
    return AuditEvent(
        action=action,
        actor_label="system",
        object_type="alert",
        object_id=str(alert.pk),
        client_id=client_id,
        request_id=context.request_id if context else "",
        data=data,
    )


def _apply(
    episode_id: int,
    plan_create: Sequence[NewAlert],
    plan_update: Sequence[AlertUpdate],
    stored: dict[str, Alert],
    now: Any,
) -> tuple[list[Alert], list[Alert], list[AlertNote]]:
    created = [_new_alert(episode_id, new, now) for new in plan_create]
    changed: list[Alert] = []
    notes: list[AlertNote] = []
    for update in plan_update:
        alert = stored[update.key]
        if update.severity is not None:
            alert.severity = update.severity
        if update.finding is not None:
            _content(alert, update.finding)
        if update.no_longer_met:
            alert.evidence = {**alert.evidence, "no_longer_met": True}
        if update.status is not None and update.status != alert.status:
            alert.status = update.status
            if update.status in ("repaired", "unresolved"):
                alert.resolved_at = now
                notes.append(_system_note(alert, update.status, now))
        changed.append(alert)
    return created, changed, notes


UPDATE_FIELDS = [
    "severity",
    "status",
    "session_number",
    "appointment",
    "title",
    "explanation",
    "suggestion",
    "evidence",
    "resolved_at",
    "updated_at",
]


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
    ids = [s.episode_id for s in series_list]
    stored_by_episode: dict[int, dict[str, Alert]] = defaultdict(dict)
    for alert in Alert.objects.filter(episode_id__in=ids):
        stored_by_episode[alert.episode_id][alert.key] = alert
    clients = dict(Episode.objects.filter(pk__in=ids).values_list("pk", "client_id"))

    now = timezone.now()
    to_create: list[Alert] = []
    to_update: list[Alert] = []
    notes: list[AlertNote] = []
    for series in series_list:
        findings = evaluate_episode(series, settings, norms)
        stored = stored_by_episode.get(series.episode_id, {})
        plan = reconcile([_stored(a) for a in stored.values()], findings, series, settings)
        if plan.is_empty:
            continue
        created, changed, new_notes = _apply(
            series.episode_id, plan.create, plan.update, stored, now
        )
        to_create += created
        to_update += changed
        notes += new_notes
        # Notes on alerts created in this run are attached after the alerts have primary keys.
        for new, alert in zip(plan.create, created, strict=True):
            if new.status in ("repaired", "unresolved"):
                notes.append(_system_note(alert, new.status, now))
    if not to_create and not to_update:
        return [], 0

    with transaction.atomic():
        Alert.objects.bulk_create(to_create, batch_size=CHUNK)
        for alert in to_update:
            alert.updated_at = now
        Alert.objects.bulk_update(to_update, UPDATE_FIELDS, batch_size=CHUNK)
        for note in notes:
            note.alert_id = note.alert.pk
        AlertNote.objects.bulk_create(notes, batch_size=CHUNK)
        events = [
            _audit(
                "care.alert.raised",
                a,
                clients[a.episode_id],
                {"kind": a.kind, "severity": a.severity},
            )
            for a in to_create
        ] + [
            _audit(
                "care.alert.updated",
                a,
                clients[a.episode_id],
                {"status": a.status, "severity": a.severity},
            )
            for a in to_update
        ]
        AuditEvent.objects.bulk_create(events, batch_size=CHUNK)
    return to_create, len(to_update)


def raise_risk_alerts(response: Response) -> list[Alert]:
    """Run the rules for this episode now, in the request that stored the response, so that a risk
    answer reaches the therapist at once; returns the risk alerts this created."""
    result = sync([response.episode_id])
    return [a for a in result.new_alerts if a.kind == AlertKind.RISK]


def schedule_recompute(episode_id: int) -> None:
    """Recompute an episode's alerts in the background once the current transaction commits."""
    from alliance.care.tasks import recompute_episode_alerts

    transaction.on_commit(lambda: recompute_episode_alerts.enqueue(episode_id))
