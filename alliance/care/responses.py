"""Storing a completed instrument: score it with alliance.measures, keep the version, never twice.

This is the one place that turns answers into a Response row; check-in links, the therapist's session
rating and imports all come through here, so scoring is never re-implemented in a view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Required, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.accounts.audit import PreparedEvent
from alliance.accounts.models import User
from alliance.care.comments import has_something_to_say
from alliance.care.models import Appointment, Episode, Respondent, Response, ResponseSource
from alliance.care.signals import prepared_created_event
from alliance.core import chain
from alliance.core.inserts import RowInsert
from alliance.measures import get_instrument


@dataclass(frozen=True)
class Recorded:
    response: Response
    created: bool  # False when an identical earlier submission was found (double submit, retry)


def split_answers(
    instrument_id: str, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Numeric/choice answers stay queryable; free-text answers are encrypted separately."""
    instrument = get_instrument(instrument_id)
    text_items = {item.link_id for item in instrument.items if item.kind == "text"}
    numeric = {k: v for k, v in answers.items() if k not in text_items and v not in (None, "")}
    text = {
        k: str(v).strip() for k, v in answers.items() if k in text_items and v and str(v).strip()
    }
    return numeric, text


def build_response(
    *,
    episode: Episode,
    instrument_id: str,
    answers: Mapping[str, Any],
    respondent: str,
    source: str,
    appointment: Appointment | None = None,
    submitted_by: User | None = None,
    submitted_at: Any = None,
) -> Response:
    """An unsaved, scored Response (bulk loaders save many at once; record_response saves one)."""
    instrument = get_instrument(instrument_id)
    numeric, text = split_answers(instrument_id, answers)
    result = instrument.score({**numeric, **text})
    return Response(
        episode=episode,
        appointment=appointment,
        instrument=instrument.id,
        instrument_version=instrument.version,
        respondent=respondent,
        answers=numeric,
        open_answers=text or None,
        has_comment=has_something_to_say(list(text.values())),
        scorable=result.scorable,
        total=result.total,
        band=result.band.key if result.band else "",
        above_cutoff=result.above_cutoff,
        risk=bool(result.risk_flags),
        score=result.as_dict(),
        submitted_at=submitted_at or timezone.now(),
        submitted_by=submitted_by,
        source=source,
    )


def _existing(appointment: Appointment | None, instrument: str, respondent: str) -> Response | None:
    if appointment is None:
        return None
    return Response.objects.filter(
        appointment=appointment, instrument=instrument, respondent=respondent
    ).first()


@dataclass(frozen=True)
class PendingResponse:
    """A scored response with its INSERT prepared (alliance.core.inserts), not yet stored: made before
    the caller's write transaction, so that scoring and compiling are not done while the transaction
    holds SQLite's one writer (issue 10, point 6). `store()` inside the transaction writes it."""

    response: Response
    insert: RowInsert
    # The response's audit event, prepared with it for the same reason (care.signals).
    event: PreparedEvent

    def store(self, *, known_new: bool = False) -> Recorded:
        """Store the response, or return the one already stored for the same appointment,
        instrument and respondent. `known_new`: the caller read in this request that there is none
        (the check-in's link lookup reads the answered forms with the link), so the duplicate
        check's SELECT is skipped; the unique constraint still catches a submission that raced this
        one, and the INSERT then writes nothing (no savepoint needed: see RowInsert)."""
        response = self.response
        existing = (
            None
            if known_new
            else _existing(response.appointment, response.instrument, response.respondent)
        )
        if existing is not None:
            return Recorded(existing, created=False)
        # The row and its audit event commit together; inside the caller's transaction this adds no
        # savepoint. The event is the one post_save's one receiver (care.signals._saved) would write,
        # prepared before the transaction (tests/checkin/test_submission.py holds the two together).
        with transaction.atomic(savepoint=False):
            created = self.insert.execute(post_save=False)
            if created:
                self.event.write(response)
        return self._outcome(created)

    def chained(self, name: str = "response") -> list[chain.Part]:
        """The response's INSERT and its audit event as parts of a chain (alliance.core.chain,
        PostgreSQL), for a caller that knows there is no response yet (`known_new` above); call
        `chain_stored()` with what the part `name` returned once the chain has run."""
        return [
            chain.Part(name, self.insert.sql, self.insert.params),
            self.event.part(source=name),
        ]

    def chain_stored(self, returned: Sequence[Any] | None) -> Recorded:
        # The chain wrote the audit event post_save's one receiver would have (care.signals).
        return self._outcome(self.insert.written(returned, post_save=False))

    def _outcome(self, created: bool) -> Recorded:
        response = self.response
        if created:
            return Recorded(response, created=True)
        # A concurrent submission of the same form won the race: theirs is the one response.
        existing = _existing(response.appointment, response.instrument, response.respondent)
        if existing is None:
            raise IntegrityError(f"Response for {response.instrument} was not stored: a constraint")
        return Recorded(existing, created=False)


class ResponseFields(TypedDict, total=False):
    """`build_response`'s arguments, for the functions that pass them on."""

    episode: Required[Episode]
    instrument_id: Required[str]
    answers: Required[Mapping[str, Any]]
    respondent: Required[str]
    source: Required[str]
    appointment: Appointment | None
    submitted_by: User | None
    submitted_at: Any


def prepare_response(**fields: Unpack[ResponseFields]) -> PendingResponse:
    """Score the answers and prepare the row's INSERT (see PendingResponse)."""
    response = build_response(**fields)
    return PendingResponse(
        response, RowInsert(response, ignore_conflicts=True), prepared_created_event(response)
    )


def record_response(*, known_new: bool = False, **fields: Unpack[ResponseFields]) -> Recorded:
    """Store one response, or return the one already stored for the same appointment, instrument and
    respondent (PendingResponse.store says how)."""
    return prepare_response(**fields).store(known_new=known_new)


SCORED_FIELDS = (
    "answers",
    "open_answers",
    "has_comment",
    "instrument_version",
    "scorable",
    "total",
    "band",
    "above_cutoff",
    "risk",
    "score",
    "submitted_by",
    "submitted_at",
)


def update_therapist_rating(response: Response, answers: Mapping[str, Any], user: User) -> Response:
    """The therapist may correct their own session rating; it is rescored with the current version."""
    rescored = build_response(
        episode=response.episode,
        instrument_id=response.instrument,
        answers=answers,
        respondent=response.respondent,
        source=response.source,
        appointment=response.appointment,
        submitted_by=user,
    )
    for name in SCORED_FIELDS:
        setattr(response, name, getattr(rescored, name))
    response.save(update_fields=list(SCORED_FIELDS))
    return response


__all__ = [
    "PendingResponse",
    "Recorded",
    "Respondent",
    "ResponseFields",
    "ResponseSource",
    "build_response",
    "prepare_response",
    "record_response",
    "split_answers",
]
