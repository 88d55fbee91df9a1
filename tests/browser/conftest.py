"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium), never a downloaded browser.

Without Chromium these tests skip with a message saying so; `.ci/run` installs it and sets
ALLIANCE_REQUIRE_BROWSER=1 so that in CI a missing browser fails instead of skipping.
Screenshots of every step go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from tests.checkin.conftest import after_session, visit  # noqa: F401  (shared fixtures)

CHROMIUM = Path(os.environ.get("ALLIANCE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 780}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("ALLIANCE_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"ALLIANCE_REQUIRE_BROWSER=1 but {CHROMIUM} does not exist")
    skip = pytest.mark.skip(
        reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); skipped"
    )
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between page actions are ordinary synchronous calls, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class Shots:
    def __init__(self, name: str) -> None:
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page: Any, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name.replace("[", "-").replace("]", ""))


def assert_accessible(page: Any) -> None:
    """axe-core (bundled with axe-playwright-python, nothing downloaded) finds no WCAG A/AA violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = results.response["violations"]
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert not violations, f"accessibility violations on {page.url}: {summary}"


def assert_no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"page is {width}px wide at {page.viewport_size['width']}px"
    )


def signed_in(page: Any, live_server: Any, user: Any) -> None:
    """Sign the page's browser context in as the user without the login form (tests of other pages)."""
    # The first request warms the live server up (templates, the instrument registry); on a busy
    # machine that alone can pass the fixtures' 10 s.
    page.set_default_navigation_timeout(30_000)
    http = HttpClient()
    http.force_login(user)
    value = http.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_server.url}]
    )


def sign_in_with_form(page: Any, live_server: Any, email: str) -> None:
    """Sign in as a person does, through the login page; returns once the next page has loaded."""
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state()


def check_page(page: Any, shots: Shots, step: str, *, phone: bool = False) -> None:
    """A screenshot of the step, the axe check, and on a phone no sideways scrolling.

    Waits for the page's own requests (charts load by htmx) first, so the screenshot shows them and
    no request is still running against the live server when the test ends."""
    page.wait_for_load_state("networkidle")
    shots.take(page, step)
    assert_accessible(page)
    if phone:
        assert_no_horizontal_scroll(page)
