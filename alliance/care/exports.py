"""An episode's responses as a FHIR R4 Bundle (QuestionnaireResponse + Observation per response).

The mapping itself is alliance.measures.fhir; this view only turns rows into its plain input. The
patient is referenced by the pseudonymous client code, never by name.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.care import access
from alliance.care.models import Episode, Respondent
from alliance.measures.fhir import StoredResponse, export_bundle


def episode_bundle(episode: Episode) -> dict[str, Any]:
    stored = [
        StoredResponse(
            instrument_id=r.instrument,
            version=r.instrument_version,
            answers={**r.answers, **(r.open_answers or {})},
            result=r.score,
            submitted_at=r.submitted_at,
            patient=f"Patient/{episode.client.code}",
            response_id=str(r.pk),
            author=f"Practitioner/{r.submitted_by_id}"
            if r.respondent == Respondent.THERAPIST and r.submitted_by_id
            else None,
        )
        for r in episode.responses.order_by("submitted_at", "pk")
    ]
    return export_bundle(stored)


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
