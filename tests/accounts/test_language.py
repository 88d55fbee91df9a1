"""A member of staff's own language (alliance/accounts/language.py, docs/translating.md): chosen on their
Language page, activated on every request after sign-in; the browser's language before sign-in and
when nothing is chosen; never the language of a client's pages, which follow the client's record."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from django.template import Context, Template
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation

from alliance.accounts.models import AuditEvent, User
from tests import factories
from tests.conftest import Clinic

pytestmark = pytest.mark.django_db


def _signed_in(user: User, **headers: str) -> HttpClient:
    http = HttpClient(headers=headers)
    http.force_login(user)
    return http


def test_a_chosen_language_is_used_on_every_page_whatever_the_browser_asks(clinic: Clinic) -> None:
    clinic.owner.language = "es"
    clinic.owner.save()
    page = _signed_in(clinic.owner, accept_language="en").get(reverse("caseload"))
    text = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="es">' in text
    assert "Tus casos" in text and "Your caseload" not in text
    assert page["Content-Language"] == "es"


def test_without_a_choice_the_browsers_language_is_used(clinic: Clinic) -> None:
    assert clinic.owner.language == ""
    spanish = _signed_in(clinic.owner, accept_language="es-ES,es;q=0.9").get(reverse("caseload"))
    english = _signed_in(clinic.owner, accept_language="en-GB").get(reverse("caseload"))
    assert (
        '<html lang="es">' in spanish.content.decode() and "Tus casos" in spanish.content.decode()
    )
    assert '<html lang="en">' in english.content.decode()
    assert "Your caseload" in english.content.decode()


def test_the_sign_in_page_follows_the_browser() -> None:
    page = HttpClient(headers={"accept-language": "es"}).get(reverse("account_login"))
    text = page.content.decode()
    assert '<html lang="es">' in text and ">Acceder</button>" in text


def test_choosing_a_language_saves_it_audits_it_and_answers_in_it(clinic: Clinic) -> None:
    http = _signed_in(clinic.owner, accept_language="en")
    form = http.get(reverse("language_settings"))
    assert form.status_code == 200 and "Español" in form.content.decode()
    data = {"language": "es", "submission_id": str(uuid.uuid4())}
    first = http.post(reverse("language_settings"), data, follow=True)
    again = http.post(reverse("language_settings"), data)  # a double click stores once
    clinic.owner.refresh_from_db()
    assert clinic.owner.language == "es"
    assert '<html lang="es">' in first.content.decode()
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action="accounts.language.changed").count() == 1

    back = {"language": "", "submission_id": str(uuid.uuid4())}
    http.post(reverse("language_settings"), back)
    clinic.owner.refresh_from_db()
    assert clinic.owner.language == ""
    assert '<html lang="en">' in http.get(reverse("caseload")).content.decode()


def test_an_unknown_language_is_refused_with_a_message_not_a_500(clinic: Clinic) -> None:
    http = _signed_in(clinic.owner)
    page = http.post(
        reverse("language_settings"), {"language": "xx", "submission_id": str(uuid.uuid4())}
    )
    assert page.status_code == 400
    assert 'class="error"' in page.content.decode()
    clinic.owner.refresh_from_db()
    assert clinic.owner.language == ""


def test_a_clients_page_follows_the_client_not_the_signed_in_therapist(clinic: Clinic) -> None:
    clinic.owner.language = "es"
    clinic.owner.save()
    assert clinic.client.preferred_language == "en"
    page = _signed_in(clinic.owner).get(reverse("checkin_landing", args=[clinic.token]))
    text = page.content.decode()
    assert '<html lang="en">' in text
    assert "Skip to content" in text and "Ir al contenido" not in text


def test_a_spanish_clients_page_is_spanish_for_an_english_speaking_therapist(
    clinic: Clinic,
) -> None:
    clinic.client.preferred_language = "es"
    clinic.client.save()
    page = _signed_in(clinic.owner, accept_language="en").get(
        reverse("checkin_landing", args=[clinic.token])
    )
    text = page.content.decode()
    assert '<html lang="es">' in text and "Ir al contenido" in text


def test_dates_and_numbers_follow_the_active_language() -> None:
    template = Template(
        '{{ day|date:"DATE_FORMAT" }} | {{ day|date:"MONTH_DAY_FORMAT" }} | {{ x|floatformat:1 }}'
    )
    context = Context({"day": date(2026, 12, 5), "x": 12.5})
    with translation.override("es"):
        assert template.render(context) == "5 dic 2026 | sábado 5 de diciembre | 12,5"
    with translation.override("en"):
        assert template.render(context) == "5 Dec 2026 | Saturday 5 December | 12.5"


def test_a_date_field_keeps_its_iso_value_in_spanish(clinic: Clinic) -> None:
    """<input type="date"> only accepts yyyy-mm-dd: Django's Spanish default (05/12/2026) would leave
    the field empty in the browser."""
    clinic.owner.language = "es"
    clinic.owner.save()
    page = _signed_in(clinic.owner).get(reverse("episode_end", args=[clinic.episode.pk]))
    text = page.content.decode()
    assert '<html lang="es">' in text
    [field] = re.findall(r'<input type="date"[^>]*>', text)
    assert f'value="{timezone.localdate().isoformat()}"' in field


def test_a_new_user_has_no_language_chosen() -> None:
    user = factories.UserFactory.create()
    assert user.language == ""
