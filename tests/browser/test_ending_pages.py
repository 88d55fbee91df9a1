"""Charts, ending and progress in a real browser, on a phone and on a laptop: the client page loads its
charts, the progress view and the ending page pass axe and fit 360 px, the episode ends, and the client
sees their own progress through their link. Screenshots go to test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.care.models import ClinicSettings
from alliance.checkin.links import create_link
from tests.browser.conftest import Shots, check_page, signed_in
from tests.care.ending_data import history
from tests.conftest import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_charts_progress_and_ending(
    request: pytest.FixtureRequest, device: str, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    page = request.getfixturevalue(device)
    on_phone = device == "phone"
    h = history(clinic.owner, sessions=8)
    _link, token = create_link(h.future, created_by=clinic.owner)
    signed_in(page, live_server, clinic.owner)

    page.goto(f"{live_server.url}/clients/{h.episode.client.code}/")
    page.locator(f"#charts-{h.episode.pk} svg").first.wait_for()
    assert page.locator(f"#charts-{h.episode.pk} svg").count() == 4
    check_page(page, shots, "client-page-charts", phone=on_phone)

    page.goto(f"{live_server.url}/episodes/{h.episode.pk}/progress/")
    assert page.get_by_text("Your mood (PHQ-9) score went from 18 to 9.").is_visible()
    check_page(page, shots, "progress", phone=on_phone)

    page.goto(f"{live_server.url}/episodes/{h.episode.pk}/end/")
    check_page(page, shots, "end", phone=on_phone)
    page.get_by_label("What we learned together").fill("Small steps count.")
    page.get_by_role("button", name="End the episode").click()
    page.wait_for_load_state()
    assert page.get_by_text("1 booked session was cancelled").is_visible()
    check_page(page, shots, "ended", phone=on_phone)

    settings = ClinicSettings.load()
    settings.share_progress_with_clients = True
    settings.save()
    h.future.attendance = (
        "scheduled"  # the link was revoked at the ending; a fresh one for the client
    )
    h.future.save()
    _link, token = create_link(h.future, created_by=clinic.owner)
    page.goto(f"{live_server.url}/c/{token}/progress/")
    assert page.get_by_text("Your mood (PHQ-9) score went from 18 to 9.").is_visible()
    check_page(page, shots, "client-progress-link", phone=on_phone)
