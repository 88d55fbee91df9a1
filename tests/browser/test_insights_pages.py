"""The Insights pages in a real browser at phone and desktop width: each passes axe, fits 360 px
without sideways scrolling, and is screenshotted (test-artifacts/screenshots/...)."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.accounts.models import Role
from tests import factories
from tests.browser.conftest import Shots, check_page, signed_in
from tests.conftest import with_totp
from tests.insights.builders import build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_insights_page(
    request: pytest.FixtureRequest, device: str, live_server: Any, shots: Shots
) -> None:
    page = request.getfixturevalue(device)
    on_phone = device == "phone"
    clinic = build_clinic(episodes=40, therapists=4, seed=5)
    admin = with_totp(
        factories.UserFactory.create(email="admin@insights.test", role=Role.ADMINISTRATOR)
    )
    signed_in(page, live_server, admin)
    for path, step, heading in (
        ("/insights/?start=&end=", "outcomes", "Outcomes"),
        ("/insights/relationship/?start=&end=", "relationship", "The relationship and the outcome"),
        ("/insights/checkin/?start=&end=", "checkin", "The check-in tests itself"),
        ("/insights/alerts/?start=&end=", "alerts", "Alert quality"),
        ("/insights/?start=2025-05-01&end=2025-01-01", "bad-filter", "Outcomes"),
    ):
        page.goto(live_server.url + path)
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        check_page(page, shots, f"admin-{step}", phone=on_phone)

    therapist = clinic.therapists[0]
    page.context.clear_cookies()
    signed_in(page, live_server, therapist)
    for path, step, heading in (
        ("/insights/mine/?start=&end=", "mine", "My figures"),
        ("/insights/relationship/?start=&end=", "relationship", "The relationship and the outcome"),
    ):
        page.goto(live_server.url + path)
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        check_page(page, shots, f"therapist-{step}", phone=on_phone)
