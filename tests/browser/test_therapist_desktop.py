"""A therapist signs in, meets an alert at the top of the caseload, and acknowledges it in place (HTMX
under the strict Content-Security-Policy), then records a session in the 30-second form."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.care import alert_sync
from alliance.care.models import Alert, Appointment, Respondent, Response
from tests.browser.conftest import Shots, assert_accessible, sign_in_with_form
from tests.care.test_alert_sync import RUPTURE_SERIES, _checkins
from tests.care.test_alert_sync import episode as episode  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alert_is_acknowledged_in_place(
    desktop: Any, live_server: Any, episode: Any, shots: Shots
) -> None:
    _checkins(episode, RUPTURE_SERIES)
    alert_sync.sync([episode.pk])
    sign_in_with_form(desktop, live_server, "t@clinic.test")
    assert desktop.get_by_role("heading", name="Needs your attention").is_visible()
    shots.take(desktop, "caseload")
    assert_accessible(desktop)

    desktop.locator(".attention-item a").first.click()
    desktop.wait_for_load_state()
    shots.take(desktop, "client")
    assert_accessible(desktop)
    rupture = Alert.objects.get(kind="rupture")
    # Listen only from here: axe-core itself touches inline styles while it measures contrast.
    errors: list[str] = []
    desktop.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    desktop.reload()
    card = desktop.locator(f"#alert-{rupture.pk}")
    url_before = desktop.url
    with desktop.expect_response(lambda r: "/acknowledge/" in r.url):
        card.get_by_role("button", name="Acknowledge").click()
    desktop.locator(f"#alert-{rupture.pk} .pill", has_text="Acknowledged").wait_for()
    assert desktop.url == url_before  # swapped in place by HTMX, no page load
    shots.take(desktop, "acknowledged")
    rupture.refresh_from_db()
    assert rupture.status == "acknowledged"
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_session_recorded_in_one_form(
    desktop: Any, live_server: Any, episode: Any, shots: Shots
) -> None:
    [appointment] = _checkins(episode, [8])
    Appointment.objects.filter(pk=appointment.pk).update(attendance="scheduled")
    sign_in_with_form(desktop, live_server, "t@clinic.test")
    desktop.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    desktop.get_by_label("Attended").check()
    for dimension in range(4):
        desktop.locator(".scale").nth(dimension).locator("input[value='9']").check()
    shots.take(desktop, "session-form")
    assert_accessible(desktop)
    desktop.get_by_role("button", name="Save session").click()
    # An attended session goes on to its reflection.
    desktop.wait_for_url(f"**/appointments/{appointment.pk}/reflection/")
    rating = Response.objects.get(respondent=Respondent.THERAPIST)
    assert rating.total == 9 and Appointment.objects.get(pk=appointment.pk).attendance == "attended"
