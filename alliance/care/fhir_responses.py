"""Importing FHIR QuestionnaireResponses: one function for the command line and the FHIR API.

`import_responses(payload, source=..., client_code=..., actor=..., dry_run=...)` takes a parsed
QuestionnaireResponse, a Bundle of them, or the list of an NDJSON file's lines, and returns an
`ImportReport`. It never raises for bad input: the whole payload is checked first
(alliance.care.fhir_response_reader), and any problem rejects all of it, listed per resource with its
position, id and field path. Only then is anything stored.

A stored response goes the way a check-in's does: scored by alliance.measures with the instrument's
version (alliance.care.responses.build_response), saved with its audit event, the episode's alert
recompute scheduled in the same transaction, and a risk answer raising the urgent risk alert at once,
which is emailed to the therapist (alliance.care.notify). Each one keeps where it came from
(`import_source`: the file name or sending system) and its resource id (`import_id`), on which a
unique constraint makes the import idempotent: the same resource, from any file, is stored once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from django.db import DatabaseError, IntegrityError, transaction

from alliance.accounts.audit import is_code, log_event
from alliance.accounts.models import User
from alliance.care import notify
from alliance.care.alert_sync import raise_risk_alerts
from alliance.care.fhir_payload import Payload, find_resources, resource_id
from alliance.care.fhir_response_reader import Candidate, Reader, read_response
from alliance.care.models import Response, ResponseSource
from alliance.care.responses import build_response
from alliance.care.tasks import schedule_recompute

logger = logging.getLogger(__name__)

Status = Literal["imported", "already_imported", "would_import"]


@dataclass(frozen=True)
class ResourceProblem:
    """What is wrong, and where: the resource's position in the payload (entry or line), its id
    when it has one, and the field path from the top of the payload."""

    index: int
    resource_id: str | None
    path: str
    message: str

    def __str__(self) -> str:
        name = f"resource {self.index}" + (f" ({self.resource_id})" if self.resource_id else "")
        where = f" {self.path}" if self.path else ""
        return f"{name}{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.resource_id,
            "path": self.path,
            "message": self.message,
        }


@dataclass(frozen=True)
class ResourceOutcome:
    """What happened to one QuestionnaireResponse (or would have, in a dry run)."""

    index: int
    resource_id: str
    status: Status
    instrument: str
    client_code: str
    episode_id: int
    appointment_id: int | None
    response_id: int | None  # the stored Response's pk; None in a dry run
    total: float | None
    risk: bool
    notes: tuple[str, ...] = ()
    session_number: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.resource_id,
            "status": self.status,
            "instrument": self.instrument,
            "client": self.client_code,
            "episode": self.episode_id,
            "appointment": self.appointment_id,
            "session": self.session_number,
            "response": self.response_id,
            "total": self.total,
            "risk": self.risk,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ImportReport:
    source: str
    dry_run: bool
    problems: tuple[ResourceProblem, ...] = ()
    outcomes: tuple[ResourceOutcome, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "imported": self.count("imported"),
            "would_import": self.count("would_import"),
            "already_imported": self.count("already_imported"),
            "problems": [p.as_dict() for p in self.problems],
            "responses": [o.as_dict() for o in self.outcomes],
            "notes": list(self.notes),
        }


def _already(index: int, rid: str, stored: Response) -> ResourceOutcome:
    return ResourceOutcome(
        index=index,
        resource_id=rid,
        status="already_imported",
        instrument=stored.instrument,
        client_code=stored.episode.client.code,
        episode_id=stored.episode_id,
        appointment_id=stored.appointment_id,
        response_id=stored.pk,
        total=stored.total,
        risk=stored.risk,
        notes=(f"imported before, from {stored.import_source or 'another source'}",),
        session_number=stored.appointment.session_number if stored.appointment else None,
    )


def _outcome(candidate: Candidate, status: Status, response: Response | None) -> ResourceOutcome:
    return ResourceOutcome(
        index=candidate.index,
        resource_id=candidate.resource_id,
        status=status,
        instrument=candidate.instrument.id,
        client_code=candidate.client.code,
        episode_id=candidate.episode.pk,
        appointment_id=candidate.appointment.pk if candidate.appointment else None,
        response_id=response.pk if response is not None else None,
        total=candidate.total,
        risk=candidate.risk,
        notes=tuple(candidate.notes),
        session_number=candidate.appointment.session_number if candidate.appointment else None,
    )


def _check(
    payload: Payload, client_code: str | None
) -> tuple[list[Candidate], dict[str, Response], list[ResourceProblem]]:
    """Every response checked through; those already imported are looked up, not re-checked."""
    problems = [
        ResourceProblem(p.index, p.resource_id, p.path, p.message) for p in payload.problems
    ]
    ids = [resource_id(found) for found in payload.responses]
    stored = {
        r.import_id: r
        for r in Response.objects.filter(import_id__in=[i for i in ids if i]).select_related(
            "episode__client", "appointment"
        )
    }
    first_at: dict[str, int] = {}
    reader = Reader(payload, client_code)
    candidates: list[Candidate] = []
    for found, rid in zip(payload.responses, ids, strict=True):
        if rid is not None:
            if rid in first_at:
                problems.append(
                    ResourceProblem(
                        found.index,
                        rid,
                        f"{found.path}.id",
                        f"the same id as resource {first_at[rid]}: a response imports once",
                    )
                )
                continue
            first_at[rid] = found.index
            if rid in stored:
                continue
        candidate, found_problems = read_response(found, reader)
        problems.extend(
            ResourceProblem(p.index, p.resource_id, p.path, p.message) for p in found_problems
        )
        if candidate is not None:
            candidates.append(candidate)
    return candidates, stored, problems


def _actor_user(actor: Any) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _audit(
    action: str, candidates: list[Candidate], *, source: str, actor: Any, read: bool = False
) -> None:
    """One event per client: who imported, how many, which resource ids (codes, never answers)."""
    by_client: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        by_client.setdefault(candidate.client.pk, []).append(candidate)
    name = PurePath(source).name
    for client_id, theirs in by_client.items():
        data: dict[str, Any] = {
            "count": len(theirs),
            "resources": [c.resource_id for c in theirs][:100],
            "instruments": sorted({c.instrument.id for c in theirs}),
        }
        if is_code(name):
            data["source"] = name
        if actor is not None and _actor_user(actor) is None and is_code(str(actor)):
            data["via"] = str(actor)
        log_event(action, actor=_actor_user(actor), client_id=client_id, data=data, read=read)


def _store(candidate: Candidate, *, source: str, actor: Any) -> tuple[Response, bool]:
    """Save one response; (the stored one, False) when a concurrent import stored it first."""
    response = build_response(
        episode=candidate.episode,
        instrument_id=candidate.instrument.id,
        answers=candidate.answers,
        respondent=candidate.instrument.respondent,
        source=ResponseSource.IMPORT,
        appointment=candidate.appointment,
        submitted_by=_actor_user(actor),
        submitted_at=candidate.submitted_at,
    )
    response.import_source = source[:200]
    response.import_id = candidate.resource_id
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        earlier = Response.objects.filter(import_id=candidate.resource_id).first()
        if earlier is not None:
            return earlier, False
        # A check-in for the same session and instrument won a race with this import: keep both,
        # this one without the session.
        response.appointment = None
        candidate.appointment = None
        candidate.notes.append("its session got a response meanwhile: stored without a session")
        with transaction.atomic():
            response.save()
    return response, True


def import_responses(
    payload: dict[str, Any] | list[Any],
    *,
    source: str,
    client_code: str | None,
    actor: Any,
    dry_run: bool,
) -> ImportReport:
    """Check the whole payload, then store every response in it that is new, or nothing.

    ``source`` is where it came from (a file name, the sending system); ``client_code`` says the
    payload is about that one client (``--client``); ``actor`` is the signed-in User when there is
    one (else anything whose ``str()`` names the sender, e.g. an API credential, or None);
    ``dry_run`` checks and reports without storing."""
    found = find_resources(payload)
    candidates, stored, problems = _check(found, client_code)
    notes = tuple(found.notes)
    if problems:
        return ImportReport(source, dry_run, tuple(problems), (), notes)
    already = [
        _already(f.index, rid, stored[rid])
        for f in found.responses
        if (rid := resource_id(f)) is not None and rid in stored
    ]
    if dry_run:
        _audit("care.responses.import_checked", candidates, source=source, actor=actor, read=True)
        outcomes = [_outcome(c, "would_import", None) for c in candidates] + already
        return ImportReport(source, True, (), tuple(sorted(outcomes, key=lambda o: o.index)), notes)

    saved: list[tuple[Candidate, Response, bool]] = []
    with transaction.atomic():
        for candidate in candidates:
            response, created = _store(candidate, source=source, actor=actor)
            saved.append((candidate, response, created))
        for episode_id in sorted({c.episode.pk for c, _, created in saved if created}):
            schedule_recompute(episode_id)
        _audit(
            "care.responses.imported",
            [c for c, _, created in saved if created],
            source=source,
            actor=actor,
        )
    outcomes = already + [
        _outcome(c, "imported", r) if created else _already(c.index, c.resource_id, r)
        for c, r, created in saved
    ]
    _raise_risk([r for _, r, created in saved if created and r.risk])
    return ImportReport(source, False, (), tuple(sorted(outcomes, key=lambda o: o.index)), notes)


def _raise_risk(responses: list[Response]) -> None:
    """A risk answer reaches the therapist at once, as from a check-in; should this fail, the
    recompute scheduled with the import raises and emails it (alliance.care.tasks)."""
    for response in responses:
        try:
            notify.risk_alerts(raise_risk_alerts(response))
        except DatabaseError:
            logger.exception("Risk alert not raised now; the background recompute will raise it")
