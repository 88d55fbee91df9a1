"""A Spanish-speaking client's check-in pages are Spanish from top to bottom (issue 13, point 4): the
client copy comes from the catalog in the client's language, and the pages render in it even when
the browser (or a staff session on the same browser) asks for English."""

from __future__ import annotations

import re
from html import unescape

from django.test import Client as HttpClient

from tests.checkin.conftest import Visit

# Whole English words of the client pages; none is a Spanish word.
ENGLISH = re.compile(
    r"\b(your|the|session|before|after|questions?|answers?|therapist|start|send|help|clinic|"
    r"language|concern|thank|please)\b",
    re.IGNORECASE,
)


def _visible_text(page: str) -> str:
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    text = unescape(page)
    # The language switch names each language in itself ("English"), on purpose.
    return text.replace("English", "")


def test_the_landing_page_in_spanish_has_no_english_words(visit: Visit) -> None:
    client = visit.episode.client
    client.preferred_language = "es"
    client.save()
    http = HttpClient(headers={"accept-language": "en"})
    page = http.get(visit.url()).content.decode()
    text = _visible_text(page)
    assert '<html lang="es">' in page
    assert "Antes de la sesión" in text and "Le llevará más o menos un minuto" in text
    assert ENGLISH.findall(text) == []


def test_the_form_page_in_spanish_has_no_english_words(visit: Visit) -> None:
    client = visit.episode.client
    client.preferred_language = "es"
    client.save()
    page = HttpClient().get(visit.url("answer", "phq9")).content.decode()
    text = _visible_text(page)
    assert "Enviar mis respuestas" in text
    assert ENGLISH.findall(text) == []
