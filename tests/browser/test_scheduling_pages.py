"""The scheduling pages in a real browser, on a phone and on a laptop: book a weekly series, see it in the
agenda, move and cancel a session, make a calendar address. Each page passes axe and fits 360 px."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alliance.care.models import Appointment
from tests.browser.conftest import Shots, check_page, signed_in
from tests.conftest import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_book_a_series_see_it_move_and_cancel(
    request: pytest.FixtureRequest, device: str, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    page = request.getfixturevalue(device)
    on_phone = device == "phone"
    signed_in(page, live_server, clinic.owner)
    page.goto(f"{live_server.url}/clients/{clinic.client.code}/")
    page.get_by_role("link", name="Book a session or a series").click()
    page.wait_for_url("**/book/")
    check_page(page, shots, "book", phone=on_phone)

    # A past date without saying what happened is refused, with the reason on the page.
    yesterday = timezone.localdate() - timedelta(days=1)
    page.get_by_label("Date", exact=True).fill(f"{yesterday:%Y-%m-%d}")
    page.get_by_label("Time", exact=True).fill("10:00")
    page.get_by_role("button", name="Book").click()
    page.get_by_text("This date is in the past: record what happened.").wait_for()
    check_page(page, shots, "book-past-refused", phone=on_phone)

    start = timezone.localdate() + timedelta(days=3)
    page.get_by_label("Date", exact=True).fill(f"{start:%Y-%m-%d}")
    page.get_by_label("Time", exact=True).fill("16:00")
    page.get_by_label("Weekly").check()
    page.get_by_label("Number of sessions").fill("6")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(f"**/clients/{clinic.client.code}/")
    page.get_by_text("6 sessions booked").wait_for()
    check_page(page, shots, "client-after-booking", phone=on_phone)
    assert Appointment.objects.filter(episode=clinic.episode).count() == 7

    page.get_by_role("link", name="Agenda").first.click()
    page.wait_for_url("**/agenda/")
    check_page(page, shots, "agenda", phone=on_phone)
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url("**/agenda/?week=*")
    check_page(page, shots, "agenda-next-week", phone=on_phone)

    page.goto(f"{live_server.url}/clients/{clinic.client.code}/")
    page.get_by_role("link", name="Move session 2").click()
    page.wait_for_url("**/move/")
    check_page(page, shots, "move", phone=on_phone)
    page.get_by_label("Time", exact=True).fill("17:30")
    page.get_by_role("button", name="Move the session").click()
    page.get_by_text("moved from").first.wait_for()

    page.get_by_role("link", name="Cancel session 2").click()
    page.wait_for_url("**/cancel/")
    check_page(page, shots, "cancel", phone=on_phone)
    page.get_by_label("Cancelled with notice").check()
    page.get_by_role("button", name="Cancel the session").click()
    page.get_by_text("cancelled with notice").first.wait_for()

    page.goto(f"{live_server.url}/calendar/")
    check_page(page, shots, "calendar", phone=on_phone)
    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_role("textbox", name="Calendar address").input_value()
    assert address.startswith(live_server.url + "/calendar/") and address.endswith(".ics")
    check_page(page, shots, "calendar-new-address", phone=on_phone)
