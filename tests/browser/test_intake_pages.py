"""Intake and the caseload in a real browser on a 360 px phone: add a client (first with a mistake the
form explains), reword a goal and see its history, filter the caseload, close an alert without a reason
and read why it failed, and meet the calm 404 page. Every step passes the axe check."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.care.models import Client, GoalRevision
from tests.browser.conftest import Shots, check_page, signed_in
from tests.conftest import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_a_client_and_reword_a_goal_on_a_phone(
    phone: Any, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    signed_in(phone, live_server, clinic.owner)
    phone.goto(live_server.url + "/caseload/")
    phone.get_by_role("link", name="Add a client").click()
    phone.get_by_label("Name", exact=True).fill("Theodora Pennywhistle")
    phone.get_by_label("Agreed to receive check-in links by email").check()
    phone.get_by_label("Goal 1").fill("Feel less alone at weekends")
    phone.get_by_role("button", name="Add the client").click()
    assert phone.get_by_text("Consent to emailed links needs an email address").is_visible()
    check_page(phone, shots, "create-with-error", phone=True)

    phone.get_by_label("Email", exact=True).fill("tp@example.com")
    phone.get_by_role("button", name="Add the client").click()
    phone.get_by_text("with their first episode").wait_for()
    client = Client.objects.get(email_consent=True)
    assert client.code in phone.url and "Pennywhistle" not in phone.url
    check_page(phone, shots, "client-page", phone=True)

    phone.get_by_role("link", name="Goals and measure plan").click()
    phone.get_by_label("Goal 1").fill("Feel less alone, weekends and evenings")
    phone.get_by_role("button", name="Save goals and plan").click()
    phone.get_by_text("Earlier wordings").wait_for()
    assert phone.get_by_text("Feel less alone at weekends").is_visible()
    assert GoalRevision.objects.filter(goal__episode__client=client).count() == 1
    check_page(phone, shots, "goals-history", phone=True)


def test_caseload_filters_alert_errors_and_not_found(
    phone: Any, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    signed_in(phone, live_server, clinic.owner)
    phone.goto(live_server.url + "/caseload/")
    assert phone.locator(".attention-item").count() == 1
    phone.get_by_label("With open alerts").check()
    phone.get_by_role("button", name="Apply").click()
    phone.wait_for_url("**alerts=on**")
    check_page(phone, shots, "caseload-filtered", phone=True)

    phone.goto(live_server.url + f"/clients/{clinic.client.code}/")
    card = phone.locator(f"#alert-{clinic.alert.pk}")
    card.get_by_text("Close…").click()
    # The browser's own check would stop an empty reason; take it away to see the server's answer.
    card.locator("select[name=reason]").evaluate("select => select.removeAttribute('required')")
    card.get_by_role("button", name="Close the alert").click()
    card = phone.locator(f"#alert-{clinic.alert.pk}")
    card.get_by_text("Choose a reason for closing the alert.").wait_for()
    check_page(phone, shots, "alert-error-in-place", phone=True)

    response = phone.goto(live_server.url + "/clients/C-NOPE1/")
    assert response.status == 404
    assert phone.get_by_role("heading", name="This page isn't here").is_visible()
    check_page(phone, shots, "not-found", phone=True)
