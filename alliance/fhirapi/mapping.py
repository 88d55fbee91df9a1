"""Rows to the plain data of alliance.measures.fhir_export, on the clinic's own FHIR address.

Shared by the per-episode export (alliance.care.exports) and the API, so that a Patient, a
Practitioner or a response looks the same whichever way it left.

  - **Patient**: id and identifier are the client code (``C-7KQ3F``), identifier system
    ``{base}/sid/client-code``. Never a name, email, phone or birth date.
  - **Practitioner**: id and identifier are the staff code ``S-<account number>``, system
    ``{base}/sid/staff-code``: pseudonymous, as the client code is; the clinic can tell who it is
    (the account number is on the administrator's user page), another system cannot.
  - **Base**: ``ALLIANCE_SITE_URL`` + ``/fhir``, the address emails already use. It must be the
    address the clinic's other systems reach Alliance on, since canonicals resolve there.
"""

from __future__ import annotations

from django.conf import settings

from alliance.care.models import Respondent, Response
from alliance.measures import UnknownInstrument, fhir_export, get_instrument
from alliance.measures.fhir_export import (
    Addressing,
    Entry,
    StoredResponse,
    patient_resource,
    practitioner_resource,
    staff_code,
)
from alliance.measures.model import Instrument


def fhir_base() -> str:
    return f"{settings.SITE_URL}/fhir"


def client_code_system() -> str:
    return fhir_export.client_code_system(fhir_base())


def staff_code_system() -> str:
    return fhir_export.staff_code_system(fhir_base())


def score_system() -> str:
    return fhir_export.score_system(fhir_base())


def addressing() -> Addressing:
    return Addressing(base=fhir_base())


def patient(code: str) -> dict[str, object]:
    return patient_resource(code, code, client_code_system())


def practitioner(user_id: int) -> dict[str, object]:
    code = staff_code(user_id)
    return practitioner_resource(code, code, staff_code_system())


def patient_entry(code: str) -> Entry:
    return Entry(addressing().full_url("Patient", code), dict(patient(code)))


def practitioner_entry(user_id: int) -> Entry:
    return Entry(
        addressing().full_url("Practitioner", staff_code(user_id)), dict(practitioner(user_id))
    )


def instrument_or_none(instrument_id: str) -> Instrument | None:
    """None for an instrument whose file was removed since: nothing to map its answers with."""
    try:
        return get_instrument(instrument_id)
    except UnknownInstrument:
        return None


def author_id(response: Response) -> int | None:
    """The therapist who rated a session themselves (their own check-in); None for a client's."""
    if response.respondent == Respondent.THERAPIST and response.submitted_by_id:
        return int(response.submitted_by_id)
    return None


def stored_response(response: Response, client_code: str, *, text_answers: bool) -> StoredResponse:
    """`text_answers`: whether the client's typed answers (stored encrypted) travel too."""
    answers = dict(response.answers or {})
    if text_answers:
        answers.update(response.open_answers or {})
    author = author_id(response)
    return StoredResponse(
        instrument_id=response.instrument,
        version=response.instrument_version,
        answers=answers,
        result=response.score if isinstance(response.score, dict) else {},
        submitted_at=response.submitted_at,
        patient=f"Patient/{client_code}",
        response_id=str(response.pk),
        author=f"Practitioner/{staff_code(author)}" if author is not None else None,
        resource_id=str(response.pk),
    )
