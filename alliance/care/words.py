"""The client's own words, ready to show: open answers and every item answer, not only totals.

One module for the session page, the client page, the client's words page and the brief, so that all of
them show the same thing the same way. Every function runs one query whatever the number of
appointments or episodes (it reads the encrypted answers only for the rows it returns: the client page
asks for the recent ones, never two years of them).

Text is returned as plain strings; templates escape it (never |safe on client text). PHQ-9 item 9 above
0 is marked; an answer of 0 is shown as the answer the client gave, never as "safe" (docs/clinical.md:
most people who died by suicide in one large health system had answered "not at all").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from alliance.care.models import Respondent, Response
from alliance.measures import UnknownInstrument, get_instrument
from alliance.measures.model import Instrument, Item

RISK_ITEM = ("phq9", "9")
CHECKIN = "checkin"
ENDING = "ending"  # asked after the last session's check-in (alliance.checkin.flow)
AFTER_SESSION = (CHECKIN, ENDING)
# The therapist reads these answers, so the caption says what the words are rather than repeating
# the question as the client was asked it ("What will you take with you...?").
STAFF_CAPTIONS: dict[tuple[str, str], Promise] = {
    (ENDING, "take"): _("What they will take with them"),
    (ENDING, "know"): _("What they would like their therapist to know"),
}


@dataclass(frozen=True)
class ItemAnswer:
    link_id: str
    text: str
    answer: str  # "More than half the days (2)" or "7 of 10"
    value: float | None
    risk: bool  # PHQ-9 item 9 above 0
    scored: bool = True  # False for items outside the total (PHQ-9 item 10, "how difficult")


@dataclass(frozen=True)
class OpenAnswer:
    question: str
    text: str
    link_id: str = ""


@dataclass(frozen=True)
class ResponseWords:
    """One response of the client, with the question text of every answer."""

    pk: int
    instrument: str
    title: str
    part: str  # "before" the session (outcome measures, goals) or "after" it (check-in, ending)
    submitted_at: datetime
    session_number: int | None
    appointment_id: int | None
    total: float | None
    risk: bool
    items: tuple[ItemAnswer, ...]
    open_answers: tuple[OpenAnswer, ...]


def _instrument(instrument_id: str) -> Instrument | None:
    try:
        return get_instrument(instrument_id)
    except UnknownInstrument:
        return None


def title_of(instrument_id: str) -> str:
    instrument = _instrument(instrument_id)
    return instrument.title(reading_language()) if instrument else instrument_id


def reading_language() -> str:
    """The language staff read an instrument's wording in: their own (the active one); an
    instrument without it falls back to its primary language (alliance.measures.text)."""
    return translation.get_language() or settings.LANGUAGE_CODE


def _number(value: Any) -> str:
    if isinstance(value, int | float):
        return formats.number_format(value, 0 if value == int(value) else 1)
    return str(value)


def _item_answer(instrument_id: str, item: Item | None, link_id: str, value: Any) -> ItemAnswer:
    numeric = float(value) if isinstance(value, int | float) else None
    if item is None:
        return ItemAnswer(link_id, link_id, _number(value), numeric, False)
    option = item.option_for(value) if item.kind == "choice" else None
    if option is not None:
        answer = f"{option.label(reading_language())} ({_number(option.value)})"
    elif item.kind == "integer" and item.max_value is not None:
        answer = _("%(value)s of %(max)s") % {"value": _number(value), "max": item.max_value}
    else:
        answer = _number(value)
    # GBO items are templates ("Your goal: “{goal1}”…"): show the goal's number, not the template.
    text = (
        item.texts.get(reading_language())
        if not item.context_keys
        else _("Goal %(number)s") % {"number": link_id[-1]}
    )
    risk = (instrument_id, link_id) == RISK_ITEM and numeric is not None and numeric > 0
    return ItemAnswer(link_id, text, answer, numeric, risk, item.scored)


def _items(response: Response, instrument: Instrument | None) -> tuple[ItemAnswer, ...]:
    answers: Mapping[str, Any] = response.answers or {}
    if instrument is None:
        return tuple(_item_answer(response.instrument, None, k, v) for k, v in answers.items())
    known = [item for item in instrument.items if item.link_id in answers]
    extra = [k for k in answers if not instrument.has_item(k)]
    return (
        *(_item_answer(instrument.id, item, item.link_id, answers[item.link_id]) for item in known),
        *(_item_answer(instrument.id, None, k, answers[k]) for k in extra),
    )


def _open(response: Response, instrument: Instrument | None) -> tuple[OpenAnswer, ...]:
    texts: Mapping[str, Any] = response.open_answers or {}
    # In the order the client was asked (the stored JSON does not keep it).
    order = [item.link_id for item in instrument.items] if instrument else []
    found = []
    for link_id, text in sorted(
        texts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
    ):
        question = link_id
        if (response.instrument, link_id) in STAFF_CAPTIONS:
            question = str(STAFF_CAPTIONS[response.instrument, link_id])
        elif instrument is not None and instrument.has_item(link_id):
            question = instrument.item(link_id).texts.get(reading_language())
        found.append(OpenAnswer(question, str(text), link_id))
    return tuple(found)


def present(response: Response) -> ResponseWords:
    """Needs the response's appointment loaded (select_related) for the session number."""
    instrument = _instrument(response.instrument)
    appointment = response.appointment
    return ResponseWords(
        pk=response.pk,
        instrument=response.instrument,
        title=instrument.title(reading_language()) if instrument else response.instrument,
        part="after" if response.instrument in AFTER_SESSION else "before",
        submitted_at=response.submitted_at,
        session_number=appointment.session_number if appointment else None,
        appointment_id=response.appointment_id,
        total=response.total,
        risk=response.risk,
        items=_items(response, instrument),
        open_answers=_open(response, instrument),
    )


_FIELDS = (
    "episode_id",
    "appointment_id",
    "instrument",
    "respondent",
    "answers",
    "open_answers",
    "total",
    "risk",
    "submitted_at",
    "appointment__session_number",
)


def _client_responses() -> QuerySet[Response]:
    return (
        Response.objects.filter(respondent=Respondent.CLIENT)
        .select_related("appointment")
        .only(*_FIELDS)
    )


def for_appointments(appointment_ids: Iterable[int]) -> dict[int, list[ResponseWords]]:
    """Every client response of these appointments, by appointment, before-session ones first."""
    by_appointment: dict[int, list[ResponseWords]] = defaultdict(list)
    rows = _client_responses().filter(appointment_id__in=list(appointment_ids))
    for response in rows.order_by("submitted_at", "pk"):
        by_appointment[response.appointment_id or 0].append(present(response))
    for found in by_appointment.values():
        found.sort(key=lambda r: (r.part != "before", r.submitted_at))
    return dict(by_appointment)


def latest(
    episode_ids: Iterable[int], instrument: str, count: int = 1, where: Q | None = None
) -> list[ResponseWords]:
    """The latest `count` responses to one instrument, newest first (`where` narrows them)."""
    rows = _client_responses().filter(episode_id__in=list(episode_ids), instrument=instrument)
    if where is not None:
        rows = rows.filter(where)
    # By session first: a check-in answered late still belongs to its own session.
    order = F("appointment__session_number").desc(nulls_last=True)
    return [present(r) for r in rows.order_by(order, "-submitted_at", "-pk")[:count]]


def latest_session(episode_ids: Iterable[int]) -> list[ResponseWords]:
    """Every client response of the latest session anything was answered for (two queries)."""
    appointment_id = (
        Response.objects.filter(
            episode_id__in=list(episode_ids),
            respondent=Respondent.CLIENT,
            appointment__isnull=False,
        )
        .order_by("-appointment__scheduled_at", "-submitted_at")
        .values_list("appointment_id", flat=True)
        .first()
    )
    if appointment_id is None:
        return []
    return for_appointments([appointment_id]).get(appointment_id, [])


@dataclass(frozen=True)
class Comment:
    """One open answer, with where it came from."""

    question: str
    text: str
    session_number: int | None
    appointment_id: int | None
    submitted_at: datetime
    instrument: str


def comments(
    episode_ids: Iterable[int], limit: int | None = None, where: Q | None = None
) -> list[Comment]:
    """The client's open answers, newest first (`limit` responses at most, when given)."""
    rows = (
        _client_responses()
        .filter(episode_id__in=list(episode_ids), open_answers__isnull=False)
        .order_by("-submitted_at", "-pk")
    )
    if where is not None:
        rows = rows.filter(where)
    found: list[Comment] = []
    for response in rows[:limit] if limit is not None else rows:
        words = present(response)
        found.extend(
            Comment(
                question=answer.question,
                text=answer.text,
                session_number=words.session_number,
                appointment_id=words.appointment_id,
                submitted_at=words.submitted_at,
                instrument=words.instrument,
            )
            for answer in words.open_answers
        )
    return found


def ending_answers(episode_ids: Iterable[int]) -> tuple[OpenAnswer, ...]:
    """What the client wrote in their last ending question (one query), captioned for staff."""
    found = latest(episode_ids, ENDING, 1, where=Q(open_answers__isnull=False))
    return found[0].open_answers if found else ()
