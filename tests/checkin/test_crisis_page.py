"""The client's crisis page: the clinic's crisis lines as tap-to-call links, and the client's own
safety plan below them, only through their own valid link, in their language, audited as their read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.care import models as care
from alliance.checkin.links import create_link
from tests import factories
from tests.checkin.conftest import Visit

pytestmark = pytest.mark.django_db

WARNING = "I stop eating and sleep all afternoon"
PEOPLE = "My brother Tomas 020 7946 0011"
PROFESSIONALS = "Dr Amara Okafor +34 91 123 45 67, weekdays"


def _plan(episode: care.Episode, **fields: object) -> care.SafetyPlan:
    values: dict[str, object] = {
        "warning_signs": WARNING,
        "people_and_places": PEOPLE,
        "professionals": PROFESSIONALS,
        "reasons_for_living": "My cat, Biscuit",
    }
    values.update(fields)
    return care.SafetyPlan.objects.create(episode=episode, **values)


def _page(url: str) -> tuple[int, str]:
    response = HttpClient().get(url)
    return response.status_code, response.content.decode()


def _hrefs(page: str) -> list[str]:
    return re.findall(r'href="(tel:[^"]*)"', page)


def test_the_plan_is_shown_below_the_clinics_crisis_lines(visit: Visit) -> None:
    _plan(visit.episode)
    status, page = _page(visit.url("support"))
    assert status == 200
    assert WARNING in page and "My cat, Biscuit" in page
    assert page.index("Samaritans") < page.index("Your safety plan") < page.index(WARNING)
    # Only the sections that were written, in the plan's order.
    assert "Making my surroundings safer" not in page
    assert page.index("When things start to get hard") < page.index("What matters to me")


def test_reading_the_plan_is_audited_as_the_clients_own_read(visit: Visit) -> None:
    plan = _plan(visit.episode)
    _page(visit.url("support"))
    event = AuditEvent.objects.get(action="checkin.safety_plan.viewed")
    assert (event.actor, event.actor_label) == (None, "client link")
    assert (event.client_id, event.object_type, event.object_id) == (
        visit.episode.client_id,
        "safetyplan",
        str(plan.pk),
    )


def test_no_one_elses_link_shows_the_plan(visit: Visit) -> None:
    _plan(visit.episode)
    other_client = factories.ClientFactory.create(code="C-OTH01")
    other_episode = factories.EpisodeFactory.create(client=other_client)
    other = factories.AppointmentFactory.create(
        episode=other_episode, scheduled_at=timezone.now() + timedelta(days=1)
    )
    _, other_token = create_link(other)
    status, page = _page(reverse("checkin_support", args=[other_token]))
    assert status == 200
    assert WARNING not in page and "Your safety plan" not in page
    status, page = _page(reverse("checkin_support", args=["not-a-real-token"]))
    assert status == 404 and WARNING not in page
    assert not AuditEvent.objects.filter(action="checkin.safety_plan.viewed").exists()


def test_an_expired_link_shows_no_plan(visit: Visit) -> None:
    _plan(visit.episode)
    with time_machine.travel(visit.appointment.scheduled_at + timedelta(days=30)):
        status, page = _page(visit.url("support"))
    assert status == 410
    assert WARNING not in page


def test_a_plan_kept_from_the_client_or_left_empty_is_not_shown(visit: Visit) -> None:
    plan = _plan(visit.episode, show_to_client=False)
    assert WARNING not in _page(visit.url("support"))[1]
    care.SafetyPlan.objects.filter(pk=plan.pk).update(show_to_client=True)
    for field in ("warning_signs", "people_and_places", "professionals", "reasons_for_living"):
        setattr(plan, field, "  ")
    plan.show_to_client = True
    plan.save()
    assert "Your safety plan" not in _page(visit.url("support"))[1]
    assert not AuditEvent.objects.filter(action="checkin.safety_plan.viewed").exists()


def test_phone_numbers_are_tap_to_call_links(visit: Visit) -> None:
    _plan(visit.episode)
    page = _page(visit.url("support"))[1]
    hrefs = _hrefs(page)
    # The default crisis resources: emergency and crisis lines as short numbers ...
    assert {"tel:112", "tel:999", "tel:911", "tel:988", "tel:116123"} <= set(hrefs)
    # ... and the plan's people and professionals in international form.
    assert "tel:+442079460011" in hrefs and "tel:+34911234567" in hrefs
    # Only digits (and a leading "+") ever reach a tel: href.
    assert all(re.fullmatch(r"tel:\+?\d+", h) for h in hrefs)


def test_the_clinics_own_crisis_lines_are_linked_and_escaped(visit: Visit) -> None:
    clinic = care.ClinicSettings.load()
    clinic.crisis_resources_en = (
        "Call the clinic on 020 7946 0000 (Mon-Fri 9:00-17:00, closed 24/12/2025).\n"
        "Open 24/7: <b>Crisis team</b> at https://crisis.example.org or +1 202 555 0143."
    )
    clinic.save()
    page = _page(visit.url("support"))[1]
    assert set(_hrefs(page)) == {"tel:+442079460000", "tel:+12025550143"}
    assert "&lt;b&gt;Crisis team&lt;/b&gt;" in page and "<b>Crisis team" not in page
    assert '<a href="https://crisis.example.org"' in page


def test_plan_text_is_escaped(visit: Visit) -> None:
    _plan(visit.episode, professionals='<script>alert(1)</script> "Dr X" 020 7946 0958')
    page = _page(visit.url("support"))[1]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="tel:+442079460958"' in page


def test_the_page_speaks_the_clients_language(visit: Visit) -> None:
    client = visit.episode.client
    client.preferred_language = "es"
    client.save()
    _plan(visit.episode)
    page = _page(visit.url("support"))[1]
    assert "Su plan de seguridad" in page
    assert "Cuando las cosas empiezan a ponerse difíciles, noto…" in page
    assert 'href="tel:024"' in page  # Spain's crisis line, from the Spanish crisis resources
    english = _page(visit.url("support") + "?lang=en")[1]
    assert "Your safety plan" in english and "Su plan de seguridad" not in english


def test_every_client_page_links_to_the_crisis_page(visit: Visit) -> None:
    page = _page(visit.url())[1]
    assert f'href="{visit.url("support")}"' in page
    assert "Need help now? Crisis lines" in page
    es = _page(visit.url() + "?lang=es")[1]
    assert "¿Necesita ayuda ahora? Líneas de crisis" in es
