"""Exporting an episode as FHIR: what the clinic's stored responses look like to another system."""

from __future__ import annotations

import json

from django.test import Client as HttpClient
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from alliance.care.models import Respondent, ResponseSource
from alliance.care.responses import record_response
from tests import factories


def test_episode_exports_as_a_valid_bundle_with_loinc_totals(db: None) -> None:
    appointment = factories.AppointmentFactory.create()
    episode = appointment.episode
    record_response(
        episode=episode,
        appointment=appointment,
        instrument_id="phq9",
        answers={str(n): 2 for n in range(1, 10)} | {"10": 1},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )
    record_response(
        episode=episode,
        appointment=appointment,
        instrument_id="checkin",
        answers={"bond": 7, "goals": 6, "tasks": 8, "overall": 7, "better": "Less rushing"},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )
    http = HttpClient()
    http.force_login(episode.therapist)
    page = http.get(reverse("episode_fhir", args=[episode.pk]))
    assert page.status_code == 200 and page["Content-Type"] == "application/fhir+json"
    bundle = json.loads(page.content)
    Bundle.model_validate(bundle)  # raises if the Bundle is not valid R4(B)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("QuestionnaireResponse") == 2
    totals = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and any(c.get("code") == "44261-6" for c in e["resource"]["code"]["coding"])
    ]
    assert [t["valueQuantity"]["value"] for t in totals] == [18]
    assert all(
        e["resource"].get("subject", {}).get("reference", "Patient/" + episode.client.code)
        == f"Patient/{episode.client.code}"
        for e in bundle["entry"]
    )
    assert episode.client.name not in page.content.decode()
