"""Reading FHIR QuestionnaireResponses into responses Alliance can store, or into problems.

`read_response` checks one QuestionnaireResponse (found by alliance.care.fhir_payload) through: its
id, status and date, which instrument it answers, every answer (alliance.care.fhir_answers), whose
it is, and the episode and session it belongs to. Nothing is stored here; every problem is collected with the resource's position, id and a field path, so that one
report lists all of them (alliance.care.fhir_responses rejects the whole payload if there is any).

Matching (docs/fhir.md#import):
  - instrument: the ``questionnaire`` canonical (an instrument's own ``url``, or the clinic's
    ``{base}/Questionnaire/<id>``), a LOINC panel code (at the end of the canonical, or on the
    Questionnaire the canonical names in the same Bundle or contained in the response), else the
    answered linkIds (exactly, or as LOINC item codes like LHC-Forms' ``/44250-9``);
  - answers: ordinals (valueInteger/valueDecimal: the answer's score), the instrument's own codes
    or LOINC answer codes (valueCoding), valueString for text items;
  - client: ``subject.identifier`` (or the identifier of the Patient ``subject.reference`` points at
    in the Bundle) with system ``{base}/sid/client-code``, the client code; or ``--client``;
  - episode: the client's episode whose dates cover ``authored``; session: the episode's
    appointment on that day (the clinic's time zone), the nearest in time if there are two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from alliance.care.fhir_answers import (
    answer_value,
    find_item,
    is_total,
    item_problems,
    structure_link_ids,
    walk_items,
)
from alliance.care.fhir_payload import Checker, Found, Payload, Problem, resource_id, text_or_none
from alliance.care.models import Appointment, Client, Episode, EpisodeStatus, Response
from alliance.measures import Instrument, registry
from alliance.measures.fhir_export import LEGACY_BASE, client_code_system
from alliance.measures.model import LOINC

_LOINC_AT_END = re.compile(r"(?:^|[/:])(\d{1,7}-\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
ACCEPTED_STATUS = ("completed", "amended")
# A response dated a little ahead of this server's clock (a sender's clock running fast) is fine.
CLOCK_SLACK = timedelta(minutes=5)


def fhir_base() -> str:
    return f"{settings.SITE_URL}/fhir"


@dataclass
class Candidate:
    """One response, checked through and ready to store."""

    index: int
    resource_id: str
    instrument: Instrument
    answers: dict[str, Any]
    submitted_at: datetime
    client: Client
    episode: Episode
    appointment: Appointment | None
    risk: bool
    total: float | None
    notes: list[str] = field(default_factory=list)


# --- one response ----------------------------------------------------------------------------


def parse_authored(value: Any) -> tuple[datetime | None, date | None, str | None]:
    """(moment, day, problem): a full dateTime gives both; a date gives the day only."""
    if not isinstance(value, str):
        return None, None, "is missing: the date the response was given is needed"
    if _DATE.match(value):
        try:
            return None, date.fromisoformat(value), None
        except ValueError:
            return None, None, f"{value!r} is not a real date"
    if _DATETIME.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None, None, f"{value!r} is not a real date and time"
        return moment, timezone.localtime(moment).date(), None
    return (
        None,
        None,
        (
            f"{value!r}: give a day (2026-03-02) or a date and time with its zone "
            "(2026-03-02T09:30:00+01:00)"
        ),
    )


class Reader:
    """Reads the responses of one payload; caches what several responses share."""

    def __init__(self, payload: Payload, client_code: str | None) -> None:
        self.payload = payload
        self.client_code = client_code
        self.system = client_code_system(fhir_base())
        self.instruments = registry().all()
        self.shipped = registry().shipped_ids
        self._clients: dict[str, Client | None] = {}
        self._episodes: dict[int, list[Episode]] = {}
        self._appointments: dict[int, list[Appointment]] = {}
        # (appointment, instrument, respondent) already stored, or taken by this payload.
        self._taken: set[tuple[int, str, str]] = set()

    # --- instrument ---------------------------------------------------------------------------

    def _by_canonical(self, canonical: str) -> Instrument | None:
        for instrument in self.instruments:
            if instrument.url and instrument.url.split("|", 1)[0] == canonical:
                return instrument
        for base in (fhir_base(), LEGACY_BASE):
            prefix = f"{base}/Questionnaire/"
            if canonical.startswith(prefix):
                wanted = canonical[len(prefix) :]
                return next((i for i in self.instruments if i.id == wanted), None)
        return None

    def _by_panel(self, panel: str) -> Instrument | None:
        coded = [i for i in self.instruments if i.loinc_panel == panel]
        # The shipped instrument first: an imported copy of the PHQ-9 answers to it as well.
        coded.sort(key=lambda i: (i.id not in self.shipped, i.id))
        return coded[0] if coded else None

    def _panel_of(self, resource: Mapping[str, Any], canonical: str | None) -> str | None:
        if canonical:
            at_end = _LOINC_AT_END.search(canonical)
            if at_end:
                return at_end[1]
        questionnaire: Any = None
        if canonical and canonical.startswith("#"):
            contained = resource.get("contained")
            for res in contained if isinstance(contained, list) else []:
                if isinstance(res, Mapping) and f"#{res.get('id')}" == canonical:
                    questionnaire = res
        elif canonical:
            questionnaire = self.payload.questionnaires.get(canonical)
        codes = questionnaire.get("code") if isinstance(questionnaire, Mapping) else None
        for coding in codes if isinstance(codes, list) else []:
            if isinstance(coding, Mapping) and coding.get("system") == LOINC:
                code = text_or_none(coding.get("code"))
                if code:
                    return code
        return None

    def _by_link_ids(self, link_ids: Sequence[str]) -> list[Instrument]:
        return [
            i
            for i in self.instruments
            if link_ids
            and all(find_item(i, link_id) or is_total(i, link_id) for link_id in link_ids)
        ]

    def instrument(
        self, resource: Mapping[str, Any], link_ids: Sequence[str], check: Checker
    ) -> Instrument | None:
        raw = resource.get("questionnaire")
        canonical = raw.split("|", 1)[0] if isinstance(raw, str) and raw else None
        if raw is not None and canonical is None:
            check.add("questionnaire", "must be a canonical URL (a string)")
            return None
        if canonical:
            named = self._by_canonical(canonical)
            if named is not None:
                return named
        panel = self._panel_of(resource, canonical)
        if panel:
            coded = self._by_panel(panel)
            if coded is not None:
                return coded
        fitting = self._by_link_ids(link_ids)
        if len(fitting) == 1:
            return fitting[0]
        what = (
            f"questionnaire {canonical!r} is not an instrument here"
            if canonical
            else ("names no questionnaire")
        )
        if panel:
            what += f" (LOINC {panel} is not the code of one)"
        if fitting:
            check.add(
                "questionnaire",
                f"{what}, and its linkIds fit several ({', '.join(i.id for i in fitting)}): "
                "name the questionnaire",
            )
        else:
            known = ", ".join(i.id for i in self.instruments)
            check.add(
                "questionnaire",
                f"{what}, and its linkIds are not those of any instrument (known: {known}); "
                "import the Questionnaire first with `alliance instruments import`",
            )
        return None

    # --- answers ------------------------------------------------------------------------------

    def answers(
        self, resource: Mapping[str, Any], instrument: Instrument, check: Checker
    ) -> tuple[dict[str, Any], list[str], dict[str, str]]:
        """The answers by the instrument's linkIds, notes, and each answer's path (for problems)."""
        answers: dict[str, Any] = {}
        notes: list[str] = []
        where: dict[str, str] = {}
        known = structure_link_ids(instrument)
        for path, node in walk_items(resource):
            link_id = node.get("linkId")
            given = node.get("answer")
            if not given:
                continue
            if not isinstance(given, list):
                check.add(f"{path}.answer", "must be a list")
                continue
            item = find_item(instrument, link_id)
            if item is None:
                if is_total(instrument, link_id):
                    notes.append(f"the file's own total ({link_id}) is not used: Alliance scores")
                elif link_id in known:
                    notes.append(
                        f"{link_id} is not a question Alliance stores; its answer is ignored"
                    )
                else:
                    check.add(
                        f"{path}.linkId",
                        f"{link_id!r} is not a question of {instrument.id} "
                        f"(its questions: {', '.join(i.link_id for i in instrument.items)})",
                    )
                continue
            if item.link_id in answers:
                check.add(
                    f"{path}.linkId", f"{instrument.id} item {item.link_id} is answered twice"
                )
                continue
            if len(given) > 1:
                check.add(
                    f"{path}.answer", f"item {item.link_id} takes one answer, not {len(given)}"
                )
                continue
            value = answer_value(item, given[0], f"{path}.answer[0]", check)
            if value is not None:
                answers[item.link_id] = value
                where[item.link_id] = f"{path}.answer[0]"
        return answers, notes, where

    # --- client, episode, session ---------------------------------------------------------------

    def _client(self, code: str) -> Client | None:
        if code not in self._clients:
            self._clients[code] = Client.objects.filter(code=code).first()
        return self._clients[code]

    def _subject_code(self, resource: Mapping[str, Any], check: Checker) -> str | None:
        subject = resource.get("subject")
        if subject is None:
            return None
        if not isinstance(subject, Mapping):
            check.add("subject", "must be a Reference (an object)")
            return None
        identifiers: list[Any] = []
        if isinstance(subject.get("identifier"), Mapping):
            identifiers.append(subject["identifier"])
        reference = text_or_none(subject.get("reference"))
        patient: Any = None
        if reference and reference.startswith("#"):
            contained = resource.get("contained")
            for res in contained if isinstance(contained, list) else []:
                if isinstance(res, Mapping) and f"#{res.get('id')}" == reference:
                    patient = res
        elif reference:
            patient = self.payload.patients.get(reference)
            if patient is None and "/Patient/" in reference:
                patient = self.payload.patients.get(
                    "Patient/" + reference.rsplit("/Patient/", 1)[1]
                )
        if isinstance(patient, Mapping) and isinstance(patient.get("identifier"), list):
            identifiers.extend(patient["identifier"])
        ours = f"{fhir_base()}/Patient/"
        if reference and reference.startswith(ours) and len(reference) > len(ours):
            # An absolute reference to this clinic's own API names the client code (its Patient id);
            # a relative one ("Patient/123") could be any server's, so it is not read as ours.
            identifiers.append({"system": self.system, "value": reference[len(ours) :]})
        codes = {
            ident["value"]
            for ident in identifiers
            if isinstance(ident, Mapping)
            and ident.get("system") == self.system
            and text_or_none(ident.get("value"))
        }
        if len(codes) > 1:
            check.add("subject", f"names several client codes ({', '.join(sorted(codes))})")
            return None
        return next(iter(codes), None)

    def client(self, resource: Mapping[str, Any], check: Checker) -> Client | None:
        code = self._subject_code(resource, check)
        if self.client_code:
            if code and code != self.client_code:
                check.add("subject", f"is client {code}, but the import is for {self.client_code}")
                return None
            code = self.client_code
        if code is None:
            check.add(
                "subject",
                f"no identifier with system {self.system} holding the client code "
                "(or give --client CODE for a file about one client)",
            )
            return None
        client = self._client(code)
        if client is None:
            check.add("subject", f"there is no client with code {code!r}")
        return client

    def episode(self, client: Client, day: date, check: Checker) -> Episode | None:
        if client.pk not in self._episodes:
            self._episodes[client.pk] = list(Episode.objects.filter(client=client))
        episodes = self._episodes[client.pk]
        covering = [
            e for e in episodes if e.started_on <= day and (e.ended_on is None or day <= e.ended_on)
        ]
        if not covering:
            spans = (
                "; ".join(
                    f"{e.started_on:%Y-%m-%d} to {e.ended_on:%Y-%m-%d}"
                    if e.ended_on
                    else f"from {e.started_on:%Y-%m-%d}"
                    for e in episodes
                )
                or "none"
            )
            check.add(
                "authored",
                f"{day:%Y-%m-%d} is in none of client {client.code}'s episodes ({spans})",
            )
            return None
        covering.sort(key=lambda e: (e.status != EpisodeStatus.ACTIVE, -e.started_on.toordinal()))
        return covering[0]

    def appointments(self, episode: Episode) -> list[Appointment]:
        if episode.pk not in self._appointments:
            self._appointments[episode.pk] = list(
                Appointment.objects.filter(episode=episode).order_by("scheduled_at")
            )
            # The sessions' responses already stored, read once per episode, not once per response.
            self._taken.update(
                Response.objects.filter(episode=episode, appointment__isnull=False).values_list(
                    "appointment_id", "instrument", "respondent"
                )
            )
        return self._appointments[episode.pk]

    def appointment(
        self,
        episode: Episode,
        day: date,
        moment: datetime | None,
        instrument: Instrument,
        notes: list[str],
    ) -> Appointment | None:
        same_day = [
            a
            for a in self.appointments(episode)
            if timezone.localtime(a.scheduled_at).date() == day
        ]
        if not same_day:
            notes.append(f"no session on {day:%Y-%m-%d}: stored without one")
            return None
        when = moment or timezone.localtime(same_day[0].scheduled_at)
        chosen = min(same_day, key=lambda a: abs((a.scheduled_at - when).total_seconds()))
        key = (chosen.pk, instrument.id, instrument.respondent)
        if key in self._taken:
            notes.append(
                f"session {chosen.session_number} already has a {instrument.id} response: "
                "stored without a session"
            )
            return None
        self._taken.add(key)
        return chosen


def read_response(found: Found, reader: Reader) -> tuple[Candidate | None, list[Problem]]:
    """Check one QuestionnaireResponse through; a Candidate only when nothing is wrong."""
    resource = found.resource
    rid = resource_id(found)
    check = Checker(found, rid or text_or_none(resource.get("id")))
    if rid is None:
        check.add(
            "id",
            "is missing or not a FHIR id: Alliance imports each response once, by its id",
        )
    status = resource.get("status")
    if status not in ACCEPTED_STATUS:
        check.add("status", f"{status!r}: only completed (or amended) responses are imported")
    moment, day, problem = parse_authored(resource.get("authored"))
    if problem:
        check.add("authored", problem)
    elif moment is not None and moment > timezone.now() + CLOCK_SLACK:
        check.add("authored", f"{resource.get('authored')} is in the future")
    elif day is not None and moment is None and day > timezone.localdate():
        check.add("authored", f"{day:%Y-%m-%d} is in the future")
    link_ids = item_problems(resource, check)
    instrument = reader.instrument(resource, link_ids, check)
    answers: dict[str, Any] = {}
    notes: list[str] = []
    where: dict[str, str] = {}
    if instrument is not None:
        answers, notes, where = reader.answers(resource, instrument, check)
        if not answers and not check.problems:
            check.add("item", f"has no answer to any question of {instrument.id}")
    client = reader.client(resource, check)
    episode = reader.episode(client, day, check) if client is not None and day else None
    if check.problems or instrument is None or client is None or episode is None or day is None:
        return None, check.problems
    assert rid is not None
    result = instrument.score(answers)
    if result.invalid:
        for link_id, message in result.invalid.items():
            check.add(where.get(link_id, "item"), f"{instrument.id} item {link_id}: {message}")
        return None, check.problems
    if result.risk_flags and not reader.appointments(episode):
        flags = ", ".join(f"item {f.item} = {f.answer:g}" for f in result.risk_flags)
        check.add(
            "item",
            f"a risk answer ({flags}), but client {client.code}'s episode has no session for "
            "the risk alert to be raised on: add the session, then import again",
        )
        return None, check.problems
    appointment = reader.appointment(episode, day, moment, instrument, notes)
    if moment is None:
        moment = (
            appointment.scheduled_at
            if appointment is not None
            else timezone.make_aware(datetime.combine(day, time(12)))
        )
        notes.append("authored is a day without a time: dated at its session, else at noon")
    return (
        Candidate(
            index=found.index,
            resource_id=rid,
            instrument=instrument,
            answers=answers,
            submitted_at=moment,
            client=client,
            episode=episode,
            appointment=appointment,
            risk=bool(result.risk_flags),
            total=result.total,
            notes=notes,
        ),
        [],
    )
