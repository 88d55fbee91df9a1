"""The safety plan in a browser: written together on a 1280 px laptop screen (then its print layout on
one A4 page), and read by the client on a 360 px phone below the crisis lines, with 44 px tap-to-call
targets. Screenshots go to test-artifacts/screenshots/; every page is checked with axe-core."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from alliance.care.models import SafetyPlan
from tests.browser.conftest import Shots, check_page, signed_in
from tests.checkin.conftest import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAN = {
    "warning_signs": "I stop answering messages and stay in bed most of the day.",
    "what_helps": "Walking the dog round the park. A hot shower. The playlist Ana made me.",
    "people_and_places": "My brother Tomás 020 7946 0011. The library café on Saturdays.",
    "professionals": "Dr Amara Okafor (GP) 020 7946 0958, weekdays 8-18.\nSamaritans 116 123, any time.",
    "safer_surroundings": "Ana keeps my tablets and gives me a week at a time.",
    "reasons_for_living": "My niece's wedding in June. Biscuit the dog. Finishing my course.",
}


def test_therapist_writes_the_plan_with_the_client_on_a_laptop(
    desktop: Any, live_server: Any, visit: Visit, shots: Shots
) -> None:
    signed_in(desktop, live_server, visit.episode.therapist)
    desktop.goto(live_server.url + reverse("safety_plan_edit", args=[visit.episode.pk]))
    check_page(desktop, shots, "plan-empty-form")
    for field, text in PLAN.items():
        desktop.locator(f"#id_{field}").fill(text)
    desktop.get_by_role("button", name="Save the plan").click()
    desktop.wait_for_url("**/safety-plan/")
    check_page(desktop, shots, "plan-saved")
    assert desktop.locator("a[href='tel:+442079460958']").count() == 1
    # The printed copy the client takes home: one A4 page, no navigation.
    desktop.emulate_media(media="print")
    shots.take(desktop, "plan-print")
    assert not desktop.locator(".topbar").is_visible()
    pdf = desktop.pdf(format="A4", print_background=True)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert SafetyPlan.objects.get(episode=visit.episode).what_helps == PLAN["what_helps"]


def test_client_reads_their_plan_on_the_crisis_page_of_a_phone(
    phone: Any, live_server: Any, visit: Visit, shots: Shots
) -> None:
    SafetyPlan.objects.create(episode=visit.episode, **PLAN)
    phone.goto(live_server.url + visit.url("support"))
    check_page(phone, shots, "crisis-page-with-plan", phone=True)
    assert phone.get_by_role("heading", name="Your safety plan").is_visible()
    calls = phone.locator("a[href^='tel:']")
    assert calls.count() >= 8
    for index in range(calls.count()):
        box = calls.nth(index).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, box
    phone.goto(live_server.url + visit.url("support") + "?lang=es")
    check_page(phone, shots, "crisis-page-with-plan-es", phone=True)
    assert phone.get_by_role("heading", name="Su plan de seguridad").is_visible()
