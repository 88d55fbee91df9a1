"""An episode as one self-contained FHIR R4 Bundle (type collection), for the clinic's EHR.

The mapping is alliance.measures.fhir_export, on the clinic's own address (alliance.fhirapi.mapping);
this view only turns rows into its plain input. The Bundle holds everything it references:

  - the **Patient** (the client code as identifier, never a name or contact) and a pseudonymous
    **Practitioner** (staff code) for each therapist who rated a session;
  - one **Questionnaire** per instrument and version answered, whose canonical also resolves on the
    clinic's FHIR API;
  - per response a QuestionnaireResponse, the total's Observation (band and cut-off as
    interpretation) and, for a risk answer such as PHQ-9 item 9 above 0, an Observation of that
    answer and a safety Flag;
  - `timestamp`: when it was made.

Resource ids are those the FHIR API serves (``QuestionnaireResponse/<id>``, ``Observation/<id>-total``),
so a system that received the Bundle can read the same resources again. The client's typed answers
travel (the therapist exports the record for the clinic's own EHR); the API leaves them out.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.care import access
from alliance.care.models import Episode
from alliance.fhirapi import mapping
from alliance.measures.fhir_export import Entry, export_bundle


def episode_bundle(episode: Episode) -> dict[str, Any]:
    code = episode.client.code
    stored = []
    authors: set[int] = set()
    for response in episode.responses.order_by("submitted_at", "pk"):
        if mapping.instrument_or_none(response.instrument) is None:
            continue
        stored.append(mapping.stored_response(response, code, text_answers=True))
        author = mapping.author_id(response)
        if author is not None:
            authors.add(author)
    parties: list[Entry] = [mapping.patient_entry(code)]
    parties += [mapping.practitioner_entry(user_id) for user_id in sorted(authors)]
    return export_bundle(
        stored,
        addressing=mapping.addressing(),
        parties=parties,
        questionnaires=True,
        timestamp=timezone.now(),
    )


@login_required
@require_GET
def episode_fhir(request: HttpRequest, pk: int) -> HttpResponse:
    episode = access.get_episode_or_404(request.user, pk)  # type: ignore[arg-type]
    bundle = episode_bundle(episode)
    log_event(
        "care.episode.exported_fhir", obj=episode, data={"entries": len(bundle.get("entry", []))}
    )
    response = HttpResponse(json.dumps(bundle, indent=2), content_type="application/fhir+json")
    response["Content-Disposition"] = (
        f'attachment; filename="{episode.client.code}-episode-{episode.pk}.fhir.json"'
    )
    response["Cache-Control"] = "no-store"
    return response
