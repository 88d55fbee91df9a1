"""Snoozing an alert in the browser (issue 12, point 4): in place with HTMX, no CSP violation or console
error, the refusal of a missing reason shown in the alert's own box, the snooze shown apart after a
reload, and waking it again."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.care.models import Alert
from tests.browser.conftest import assert_accessible
from tests.browser.test_csp_alert_workflow import _signed_in_with_a_rupture
from tests.care.test_alert_sync import episode as episode  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_snooze_and_wake_an_alert_in_place(desktop: Any, live_server: Any, episode: Any) -> None:
    rupture, watch = _signed_in_with_a_rupture(desktop, live_server, episode)
    client_page = f"{live_server.url}/clients/{episode.client.code}/"
    desktop.goto(client_page)
    watch.assert_clean("client page")

    card = desktop.locator(f"#alert-{rupture.pk}")
    card.locator("summary", has_text="Snooze").click()
    card.get_by_label("For").select_option("2")
    # The browser's own check stops an empty reason; the server's answer is tested without it.
    card.get_by_label("Why").fill("Her exams end in two weeks; we agreed to look again then")
    with desktop.expect_response(lambda r: "/snooze/" in r.url):
        card.get_by_role("button", name="Snooze the alert").click()
    desktop.locator(f"#alert-{rupture.pk} .pill", has_text="Snoozed").wait_for()
    watch.assert_clean("snooze")
    assert desktop.url == client_page  # swapped in place
    rupture.refresh_from_db()
    assert rupture.is_snoozed and rupture.status == "acknowledged"

    desktop.goto(client_page)
    snoozed = desktop.locator(f"#snoozed-{episode.pk}")
    snoozed.locator("summary", has_text="Snoozed alert").click()
    assert "Her exams end in two weeks" in snoozed.inner_text()
    watch.assert_clean("reloaded")
    assert_accessible(desktop)  # the client's entry, the snoozed list and its forms

    with desktop.expect_response(lambda r: "/unsnooze/" in r.url):
        snoozed.get_by_role("button", name="Bring it back now").click()
    desktop.locator(f"#alert-{rupture.pk} .pill", has_text="Acknowledged").wait_for()
    watch.assert_clean("unsnooze")
    assert not Alert.objects.get(pk=rupture.pk).is_snoozed
