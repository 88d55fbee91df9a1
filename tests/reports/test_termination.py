"""The two termination summaries: the scores are in the PDFs' text, the client's version has nothing
of the therapist's, the file names carry the client code and never the name."""

from __future__ import annotations

import io
import uuid

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests import factories
from tests.care.ending_data import History, history

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _ended(lang: str = "en") -> tuple[History, HttpClient]:
    h = history(lang=lang)
    factories.ReflectionFactory.create(episode=h.episode, text="I felt bored and guilty.")
    http = HttpClient()
    http.force_login(h.episode.therapist)
    http.post(
        reverse("episode_end", args=[h.episode.pk]),
        {
            "submission_id": str(uuid.uuid4()),
            "end_reason": "planned",
            "ended_on": timezone.localdate().isoformat(),
            "learned_together": "Small steps count.",
        },
    )
    return h, http


def test_record_version_has_scores_change_nhs_outcome_goals_alerts_and_attendance() -> None:
    h, http = _ended()
    response = http.get(reverse("termination_record_pdf", args=[h.episode.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    assert h.episode.client.code in disposition and h.episode.client.name not in disposition
    text = _text(response.content)
    assert "18 (session 1)" in text and "9 (session 5)" in text  # PHQ-9
    assert "14 (session 1)" in text and "6 (session 5)" in text  # GAD-7
    assert "reliable improvement" in text
    assert "Reliable recovery" in text and "Recovery" in text
    assert "Sleep through the night" in text
    assert "Rupture" in text and "Repaired" in text
    assert "No-shows" in text
    assert "Small steps count." in text
    assert h.episode.client.name not in text


def test_client_version_is_plain_and_private_things_stay_out() -> None:
    h, http = _ended()
    response = http.get(reverse("termination_client_pdf", args=[h.episode.pk]))
    assert response.status_code == 200
    assert h.episode.client.code in response["Content-Disposition"]
    text = _text(response.content)
    assert "Your mood (PHQ-9) score went from 18 to 9." in text
    assert "Sleep through the night" in text
    assert "You rated it 2 at first and 7 most recently" in text
    assert "Small steps count." in text
    for private in (
        "I felt bored",
        "Rupture",
        "Alert",
        "alert",
        "Therapist",
        "reliable",
        "Expected",
    ):
        assert private not in text, private


def test_client_version_in_spanish() -> None:
    h, http = _ended(lang="es")
    text = _text(http.get(reverse("termination_client_pdf", args=[h.episode.pk])).content)
    assert "Su terapia: un resumen" in text
    assert "Su puntuación de ánimo (PHQ-9) pasó de 18 a 9." in text
    assert "Lo que aprendimos juntos" in text


def test_outsider_gets_no_summary() -> None:
    h = history()
    http = HttpClient()
    http.force_login(factories.UserFactory.create())
    for name in ("termination_record_pdf", "termination_client_pdf"):
        assert http.get(reverse(name, args=[h.episode.pk])).status_code == 404


def _took_with_them(h: History, take: str, know: str = "") -> None:
    from alliance.care.models import Respondent, ResponseSource
    from alliance.care.responses import record_response

    record_response(
        episode=h.episode,
        appointment=h.appointments[-1],
        instrument_id="ending",
        answers={"take": take, "know": know},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )


def test_what_the_client_will_take_with_them_is_in_both_versions() -> None:
    h, http = _ended()
    _took_with_them(h, "Small steps, every day.", "I was scared to stop.")
    client = _text(http.get(reverse("termination_client_pdf", args=[h.episode.pk])).content)
    assert "What you said you will take with you" in client
    assert "Small steps, every day." in client
    assert "I was scared to stop." not in client  # addressed to the therapist, not a summary line
    record = _text(http.get(reverse("termination_record_pdf", args=[h.episode.pk])).content)
    assert "In their own words, as they finished" in record
    assert "What they will take with them" in record and "Small steps, every day." in record
    assert "What they would like their therapist to know" in record
    assert "I was scared to stop." in record


def test_what_the_client_will_take_with_them_in_spanish() -> None:
    h, http = _ended(lang="es")
    _took_with_them(h, "Que puedo pedir ayuda.")
    text = _text(http.get(reverse("termination_client_pdf", args=[h.episode.pk])).content)
    assert "Lo que usted dijo que se llevará" in text and "Que puedo pedir ayuda." in text


def test_no_ending_answer_no_section() -> None:
    h, http = _ended()
    client = _text(http.get(reverse("termination_client_pdf", args=[h.episode.pk])).content)
    record = _text(http.get(reverse("termination_record_pdf", args=[h.episode.pk])).content)
    assert "take with you" not in client and "as they finished" not in record
