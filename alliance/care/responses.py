"""Storing a completed instrument: score it with alliance.measures, keep the version, never twice.

This is the one place that turns answers into a Response row; check-in links, the therapist's session
rating and imports all come through here, so scoring is never re-implemented in a view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care.models import Appointment, Episode, Respondent, Response, ResponseSource
from alliance.measures import get_instrument


@dataclass(frozen=True)
class Recorded:
    response: Response
    created: bool  # False when an identical earlier submission was found (double submit, retry)


def split_answers(instrument_id: str, answers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Numeric/choice answers stay queryable; free-text answers are encrypted separately."""
    instrument = get_instrument(instrument_id)
    text_items = {item.link_id for item in instrument.items if item.kind == "text"}
    numeric = {k: v for k, v in answers.items() if k not in text_items and v not in (None, "")}
    text = {k: str(v).strip() for k, v in answers.items() if k in text_items and v and str(v).strip()}
    return numeric, text


def record_response(
    *,
    episode: Episode,
    instrument_id: str,
    answers: Mapping[str, Any],
    respondent: str,
    source: str,
    appointment: Appointment | None = None,
    submitted_by: User | None = None,
    submitted_at: Any = None,
) -> Recorded:
    instrument = get_instrument(instrument_id)
    numeric, text = split_answers(instrument_id, answers)
    result = instrument.score({**numeric, **text})
    fields: dict[str, Any] = {
        "episode": episode,
        "appointment": appointment,
        "instrument": instrument.id,
        "instrument_version": instrument.version,
        "respondent": respondent,
        "answers": numeric,
        "open_answers": text or None,
        "scorable": result.scorable,
        "total": result.total,
        "band": result.band.key if result.band else "",
        "above_cutoff": result.above_cutoff,
        "risk": bool(result.risk_flags),
        "score": result.as_dict(),
        "submitted_at": submitted_at or timezone.now(),
        "submitted_by": submitted_by,
        "source": source,
    }
    if appointment is not None:
        existing = Response.objects.filter(
            appointment=appointment, instrument=instrument.id, respondent=respondent
        ).first()
        if existing is not None:
            return Recorded(existing, created=False)
    try:
        with transaction.atomic():
            response = Response.objects.create(**fields)
    except IntegrityError:
        # A concurrent submission of the same form won the race: theirs is the one response.
        existing = Response.objects.filter(
            appointment=appointment, instrument=instrument.id, respondent=respondent
        ).first()
        if existing is None:
            raise
        return Recorded(existing, created=False)
    return Recorded(response, created=True)


def update_therapist_rating(
    response: Response, answers: Mapping[str, Any], user: User
) -> Response:
    """The therapist may correct their own session rating; it is rescored with the current version."""
    instrument = get_instrument(response.instrument)
    numeric, text = split_answers(response.instrument, answers)
    result = instrument.score({**numeric, **text})
    response.answers = numeric
    response.open_answers = text or None
    response.instrument_version = instrument.version
    response.scorable = result.scorable
    response.total = result.total
    response.band = result.band.key if result.band else ""
    response.above_cutoff = result.above_cutoff
    response.risk = bool(result.risk_flags)
    response.score = result.as_dict()
    response.submitted_by = user
    response.submitted_at = timezone.now()
    response.save()
    return response


__all__ = ["Recorded", "Respondent", "ResponseSource", "record_response", "split_answers"]
