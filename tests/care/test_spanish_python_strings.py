"""Python-side text in Spanish (issue 13, point 4): a sample of each kind — a form error, an email to
staff and one to a client, the text of a PDF, a chart, the reactions checklist — read in Spanish has
the Spanish and none of the English. The staff member's own language decides their pages and their
email; the client's record decides what the client reads."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from alliance.accounts.forms import ClinicSettingsForm
from alliance.alerts import reactions
from alliance.care import alert_mail, charts, ending, reaction_words
from alliance.care.models import Alert, AlertKind, AlertSeverity
from alliance.core.mail_language import shared_language, staff_language
from alliance.operations.models import EmailKind, OutboundEmail
from tests import factories
from tests.accounts.test_clinic_settings_form import settings_form_data
from tests.care.ending_data import history
from tests.conftest import Clinic

pytestmark = pytest.mark.django_db

# Words of Alliance's English that Spanish text never contains (as whole words). Instrument names
# kept in English on purpose (Goal-Based Outcomes, NHS Talking Therapies) are removed first.
ENGLISH = re.compile(
    r"\b(the|and|with|session|sessions|alert|alerts|raised|repaired|start|end|change|goal|goals|"
    r"rating|assessed|record|confidential|therapist|attended|scores|what|learned|open|client)\b",
    re.IGNORECASE,
)
KEPT_IN_ENGLISH = ("Goal-Based Outcomes", "NHS Talking Therapies")


def _english_words(text: str) -> list[str]:
    for name in KEPT_IN_ENGLISH:
        text = text.replace(name, "")
    return ENGLISH.findall(text)


def _http(user: object) -> HttpClient:
    http = HttpClient()
    http.force_login(user)  # type: ignore[arg-type]
    return http


def test_a_form_error_is_in_the_active_language() -> None:
    data = {**settings_form_data(), "alert_digest_hour": "24"}
    with translation.override("es"):
        form = ClinicSettingsForm(data, instance=None)
        assert not form.is_valid()
        message = form.errors["alert_digest_hour"][0]
    assert message == "Elige una hora de 0 a 23."


def test_staff_email_follows_the_recipients_language(clinic: Clinic) -> None:
    clinic.owner.language = "es"
    clinic.owner.save()
    Alert.objects.all().delete()
    risk = factories.AlertFactory.create(
        episode=clinic.episode, kind=AlertKind.RISK, severity=AlertSeverity.URGENT, appointment=None
    )
    with translation.override("en"):  # whatever the page that raised it was in
        alert_mail.urgent([risk])
    message = OutboundEmail.objects.get(kind=EmailKind.ALERT_URGENT)
    assert "Urgente: un cliente respondió a una pregunta de riesgo" in message.subject
    assert "necesita tu atención hoy" in message.body and clinic.client.code in message.body
    assert not _english_words(message.subject + " " + message.body.replace("Alliance", ""))


def test_a_digest_in_spanish_names_kinds_and_counts_in_spanish(clinic: Clinic) -> None:
    clinic.owner.language = "es"
    clinic.owner.save()
    Alert.objects.all().delete()
    now = timezone.now()
    alerts = [
        factories.AlertFactory.create(
            episode=clinic.episode, kind=AlertKind.RUPTURE, created_at=now, appointment=None
        )
        for _ in range(2)
    ]
    with translation.override("es"):
        subject, body = alert_mail._digest_text(alerts, now - timedelta(days=1))
    assert subject.endswith("Tu resumen diario de alertas")
    assert body.startswith("2 alertas nuevas en tus casos desde el ")
    assert "Ruptura" in body
    assert not _english_words(body.replace("Alliance", ""))


def test_language_of_an_email_to_several_people() -> None:
    english = factories.UserFactory.create(language="")
    spanish = factories.UserFactory.create(language="es")
    assert staff_language(spanish) == "es" and staff_language(english) == "en"
    assert shared_language([spanish, factories.UserFactory.create(language="es")]) == "es"
    assert shared_language([spanish, english]) == "en"  # the clinic's default when they differ


def test_the_record_summary_pdf_is_in_the_therapists_language() -> None:
    h = history()
    therapist = h.episode.therapist
    therapist.language = "es"
    therapist.save()
    url = reverse("termination_record_pdf", args=[h.episode.pk])
    response = _http(therapist).get(url)
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    for spanish in ("Resumen de cierre para la historia clínica", "Puntuaciones: inicio y final"):
        assert spanish in " ".join(text.split())
    assert "Scores: start and end" not in text and "Ending summary" not in text


def test_the_record_summary_text_has_no_english_in_spanish() -> None:
    h = history()
    with translation.override("es"):
        data = ending.record_data(h.episode)
    fixed = [
        data["title"],
        data["footer"],
        data["alerts_summary"],
        *data["t"].values(),
        *data["scores"][0],
        *(row[0] for row in data["nhs"]),
        *(row[0] for row in data["sessions"]),
        *data["alerts"][0],
        *(str(cell) for row in data["alerts"][1:] for cell in row[1:]),
    ]
    assert not _english_words(" ".join(fixed)), fixed
    assert data["scores"][0][0] == "Medida" and data["lang"] == "es"


def test_the_client_summary_speaks_the_clients_language_whoever_downloads_it() -> None:
    h = history(lang="es")
    with translation.override("en"):
        data = ending.client_data(h.episode)
    assert data["title"] == "Su terapia: un resumen"
    assert data["subtitle"].startswith("Del ") and " de " in data["subtitle"]
    assert data["sessions"] == "Nos vimos 4 veces."


def test_chart_words_and_numbers_follow_the_language() -> None:
    h = history()
    data = charts.load([h.episode.pk])[h.episode.pk]
    chart = charts.outcome_chart(data, "phq9", None, lang="es")
    assert chart is not None
    assert chart.title == "PHQ-9 por sesión (menos es mejor)"
    assert chart.summary.startswith("PHQ-9: 18 (sesión 1) → 9 (sesión 5)")
    assert "La tabla tiene todos los valores." in chart.summary
    assert chart.table[0][0] == "Sesión"
    assert not _english_words(chart.title + " " + chart.summary)


def test_every_reaction_of_the_checklist_has_its_words_in_spanish() -> None:
    assert set(reaction_words.WORDS) == {r.code for r in reactions.REACTIONS}
    with translation.override("es"):
        assert reaction_words.describe({"frustrated": 3, "moved": 1}) == [
            "Frustrado/a (mucho)",
            "Conmovido/a (un poco)",
        ]
        for reaction in reactions.REACTIONS:
            assert reaction_words.label(reaction.code) != reaction.label
            assert reaction_words.description(reaction.code) != reaction.description
    with translation.override("en"):
        # The English is the pure module's, word for word.
        for reaction in reactions.REACTIONS:
            assert reaction_words.label(reaction.code) == reaction.label
            assert reaction_words.description(reaction.code) == reaction.description
        assert reaction_words.describe({"frustrated": 3}) == reactions.describe({"frustrated": 3})
