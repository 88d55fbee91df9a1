"""Every page a therapist, a supervisor or a client opens, at desktop and phone width: it renders, passes
the axe-core WCAG 2.2 AA check, does not scroll sideways on a 360 px phone, and leaves a screenshot in
test-artifacts/screenshots/every-page/ for a person to look at.

The list of pages is the access matrix (tests/test_access_matrix.py): a page added there is checked here
too, opened by the first role that may see it (owner, then supervisor, then a client's link).
Administrators' pages are left to their own tests (they need a TOTP sign-in).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    PHONE,
    SCREENSHOTS,
    assert_accessible,
    assert_no_horizontal_scroll,
    signed_in,
)
from tests.conftest import Clinic
from tests.test_access_matrix import MATRIX, TOKEN_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Not checked here: off by default, with its own browser test.
NOT_PAGES = {
    # Off unless the clinic allows it: tests/browser/test_ending_pages.py opens it with sharing on.
    "checkin_progress",
    # JSON for monitoring, not a page (tests/operations/test_health.py).
    "health",
    # JSON for the clinic's systems, not pages (tests/fhirapi/test_api.py).
    "fhir_metadata",
    "fhir_smart_configuration",
}


def _is_download(name: str) -> bool:
    """PDFs, exports and feeds are checked by their own tests, not as pages."""
    return name.endswith(("_pdf", "_fhir", "_export", "_feed"))


def _viewer(name: str) -> str | None:
    expected = MATRIX[name][1]
    if name in TOKEN_PAGES:
        return "anonymous"
    for role in ("owner", "supervisor"):
        if expected.get(role) == 200:
            return role
    return None


PAGES = sorted(
    n for n in MATRIX if n not in NOT_PAGES and not _is_download(n) and _viewer(n) is not None
)


@pytest.mark.parametrize("name", PAGES)
def test_page_at_desktop_and_phone(
    browser: Any, live_server: Any, clinic: Clinic, name: str
) -> None:
    build, _ = MATRIX[name]
    url = live_server.url + build(clinic)
    role = _viewer(name)
    assert role is not None
    folder = SCREENSHOTS / "every-page"
    folder.mkdir(parents=True, exist_ok=True)
    for label, options in (
        ("desktop", {"viewport": {"width": 1280, "height": 900}}),
        ("phone", {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True}),
    ):
        context = browser.new_context(**options)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if (user := clinic.user(role)) is not None:
            signed_in(page, live_server, user)
        errors: list[str] = []
        page.on(
            "console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None
        )
        response = page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, f"{name} as {role}: {url}"
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        assert not [e for e in errors if "Content Security Policy" in e], (name, errors)
        assert_accessible(page)
        if label == "phone":
            assert_no_horizontal_scroll(page)
        context.close()
