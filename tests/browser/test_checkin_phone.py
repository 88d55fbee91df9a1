"""A client walks through a check-in link on a 360 px phone: both forms, a validation error, a double
submit, an expired link, the risk path, and the concern route. Screenshots of every step are written to
test-artifacts/screenshots/; every page is checked with axe-core."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alliance.care.models import Alert, Response
from alliance.checkin.models import CheckinLink
from tests.browser.conftest import Shots, assert_accessible, assert_no_horizontal_scroll
from tests.checkin.conftest import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _choose(page: Any, item: str, value: int | str) -> None:
    page.locator(f"input[name='q_{item}'][value='{value}']").check(force=True)


def _open(page: Any, live_server: Any, path: str) -> None:
    page.goto(live_server.url + path)


def test_client_answers_both_parts_on_a_phone(
    phone: Any, live_server: Any, visit: Visit, shots: Shots, after_session: None
) -> None:
    _open(phone, live_server, visit.url())
    shots.take(phone, "landing")
    assert_accessible(phone)
    assert_no_horizontal_scroll(phone)
    assert "Rosalind" not in phone.content()

    phone.get_by_role("link", name="PHQ-9").click()
    shots.take(phone, "phq9-empty")
    assert_accessible(phone)
    assert_no_horizontal_scroll(phone)
    for item, value in zip(range(1, 9), [2, 1, 1, 0, 1, 2, 0, 1], strict=True):
        _choose(phone, str(item), value)
    phone.get_by_role("button", name="Send my answers").click()
    # Item 9 was skipped: the form comes back with the problem named and every answer kept.
    assert phone.locator("#error-summary").is_visible()
    assert phone.locator("#error-summary").evaluate("e => e === document.activeElement")
    shots.take(phone, "phq9-validation-error")
    assert_accessible(phone)
    assert phone.locator("input[name='q_3'][value='1']").is_checked()
    _choose(phone, "9", 0)
    phone.get_by_role("button", name="Send my answers").click()

    phone.wait_for_url("**/answer/gad7/")
    for item in range(1, 8):
        _choose(phone, str(item), 1)
    shots.take(phone, "gad7-filled")
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/answer/gbo/")
    assert "Go back to swimming" in phone.content()
    _choose(phone, "goal1", 4)
    shots.take(phone, "gbo-filled")
    assert_accessible(phone)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/thanks/")
    shots.take(phone, "thanks-before")
    assert_accessible(phone)

    phone.get_by_role("link", name="Session check-in").click()
    for dimension, rating in (("bond", 8), ("goals", 6), ("tasks", 5), ("overall", 7)):
        _choose(phone, dimension, rating)
    phone.get_by_label("What could have been better today?").fill("I felt rushed at the end.")
    shots.take(phone, "checkin-filled")
    assert_accessible(phone)
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/thanks/")
    shots.take(phone, "thanks-all")

    totals = dict(Response.objects.values_list("instrument", "total"))
    assert totals == {"phq9": 8, "gad7": 7, "gbo": 4, "checkin": 6.5}


def test_double_submit_stores_one_response(
    phone: Any, live_server: Any, visit: Visit, shots: Shots, after_session: None
) -> None:
    _open(phone, live_server, visit.url("answer", "checkin"))
    for item, value in (("bond", 9), ("goals", 9), ("tasks", 8), ("overall", 9)):
        _choose(phone, item, value)
    # Two quick presses, then the browser's back-and-resubmit: still one response.
    button = phone.get_by_role("button", name="Send my answers")
    button.dblclick()
    phone.wait_for_url("**/thanks/")
    phone.go_back()
    phone.wait_for_load_state()
    shots.take(phone, "after-back")
    phone.evaluate(
        "document.querySelector('form.instrument') && document.querySelector('form.instrument').submit()"
    )
    phone.wait_for_load_state()
    shots.take(phone, "resubmitted")
    assert Response.objects.filter(instrument="checkin").count() == 1


def test_expired_link_shows_a_friendly_page(
    phone: Any, live_server: Any, visit: Visit, shots: Shots
) -> None:
    CheckinLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    _open(phone, live_server, visit.url())
    assert "This link is no longer active" in phone.content()
    assert "Rosalind" not in phone.content() and "C-VIS01" not in phone.content()
    shots.take(phone, "expired")
    assert_accessible(phone)


def test_risk_answer_shows_crisis_resources_at_once(
    phone: Any, live_server: Any, visit: Visit, shots: Shots
) -> None:
    _open(phone, live_server, visit.url("answer", "phq9"))
    for item in range(1, 10):
        _choose(phone, str(item), 1 if item != 9 else 2)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/support/**")
    shots.take(phone, "crisis-resources")
    assert_accessible(phone)
    assert phone.get_by_role("heading", name="You don't have to face this alone").is_visible()
    assert Alert.objects.filter(kind="risk", severity="urgent").count() == 1
    phone.get_by_role("link", name="Continue with the questions").click()
    phone.wait_for_url("**/answer/gad7/")


def test_spanish_and_concern_route(
    phone: Any, live_server: Any, visit: Visit, shots: Shots
) -> None:
    client = visit.episode.client
    client.preferred_language = "es"
    client.save()
    _open(phone, live_server, visit.url())
    assert "Antes de la sesión" in phone.content()
    shots.take(phone, "landing-es")
    assert_accessible(phone)
    phone.get_by_role("link", name="Comunicar una preocupación al centro").click()
    phone.get_by_label("¿Qué le gustaría que supiera el centro?").fill("Me siento juzgada.")
    phone.get_by_label("No me siento seguro(a) con mi terapeuta").check()
    shots.take(phone, "concern-es")
    assert_accessible(phone)
    phone.get_by_role("button", name="Enviar al centro").click()
    assert "Su mensaje ha llegado al centro" in phone.content()
    shots.take(phone, "concern-sent-es")


def test_works_with_javascript_off(
    browser: Any, live_server: Any, visit: Visit, shots: Shots, after_session: None
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + visit.url("answer", "checkin"))
        for item, value in (("bond", 7), ("goals", 7), ("tasks", 7), ("overall", 7)):
            page.locator(f"input[name='q_{item}'][value='{value}']").check(force=True)
        page.get_by_role("button", name="Send my answers").click()
        page.wait_for_url("**/thanks/")
        shots.take(page, "no-js-thanks")
    finally:
        context.close()
    assert Response.objects.filter(instrument="checkin").count() == 1


def test_answers_survive_a_reload_before_sending(
    phone: Any, live_server: Any, visit: Visit, after_session: None
) -> None:
    _open(phone, live_server, visit.url("answer", "checkin"))
    _choose(phone, "bond", 3)
    phone.get_by_label("What could have been better today?").fill("Started late")
    phone.reload()
    assert phone.locator("input[name='q_bond'][value='3']").is_checked()
    assert phone.get_by_label("What could have been better today?").input_value() == "Started late"
