"""The scheduling pages in a real browser, on a phone and on a laptop: book a weekly series, see it in the
agenda, move and cancel a session, make a calendar address. Each page passes axe and fits 360 px."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alliance.care.models import Appointment
from tests.browser.conftest import Shots, assert_accessible, assert_no_horizontal_scroll
from tests.conftest import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("owner@clinic.test")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/caseload/")


def _check(page: Any, shots: Shots, step: str, phone: bool) -> None:
    shots.take(page, step)
    assert_accessible(page)
    if phone:
        assert_no_horizontal_scroll(page)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_book_a_series_see_it_move_and_cancel(
    request: pytest.FixtureRequest, device: str, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    page = request.getfixturevalue(device)
    on_phone = device == "phone"
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/clients/{clinic.client.code}/")
    page.get_by_role("link", name="Book a session or a series").click()
    page.wait_for_url("**/book/")
    _check(page, shots, "book", on_phone)

    # A past date without saying what happened is refused, with the reason on the page.
    yesterday = timezone.localdate() - timedelta(days=1)
    page.get_by_label("Date", exact=True).fill(f"{yesterday:%Y-%m-%d}")
    page.get_by_label("Time", exact=True).fill("10:00")
    page.get_by_role("button", name="Book").click()
    page.get_by_text("This date is in the past: record what happened.").wait_for()
    _check(page, shots, "book-past-refused", on_phone)

    start = timezone.localdate() + timedelta(days=3)
    page.get_by_label("Date", exact=True).fill(f"{start:%Y-%m-%d}")
    page.get_by_label("Time", exact=True).fill("16:00")
    page.get_by_label("Weekly").check()
    page.get_by_label("Number of sessions").fill("6")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(f"**/clients/{clinic.client.code}/")
    page.get_by_text("6 sessions booked").wait_for()
    _check(page, shots, "client-after-booking", on_phone)
    assert Appointment.objects.filter(episode=clinic.episode).count() == 7

    page.get_by_role("link", name="Agenda").first.click()
    page.wait_for_url("**/agenda/")
    _check(page, shots, "agenda", on_phone)
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url("**/agenda/?week=*")
    _check(page, shots, "agenda-next-week", on_phone)

    page.goto(f"{live_server.url}/clients/{clinic.client.code}/")
    page.get_by_role("link", name="Move session 2").click()
    page.wait_for_url("**/move/")
    _check(page, shots, "move", on_phone)
    page.get_by_label("Time", exact=True).fill("17:30")
    page.get_by_role("button", name="Move the session").click()
    page.get_by_text("moved from").first.wait_for()

    page.get_by_role("link", name="Cancel session 2").click()
    page.wait_for_url("**/cancel/")
    _check(page, shots, "cancel", on_phone)
    page.get_by_label("Cancelled with notice").check()
    page.get_by_role("button", name="Cancel the session").click()
    page.get_by_text("cancelled with notice").first.wait_for()

    page.goto(f"{live_server.url}/calendar/")
    _check(page, shots, "calendar", on_phone)
    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_role("textbox", name="Calendar address").input_value()
    assert address.startswith(live_server.url + "/calendar/") and address.endswith(".ics")
    _check(page, shots, "calendar-new-address", on_phone)
