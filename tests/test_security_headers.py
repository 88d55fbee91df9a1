"""Strict CSP, no inline script, nothing from a third party, on staff and client pages alike."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from alliance.care.caseload_forms import CLOSE_REASONS
from alliance.core.middleware import NoStoreMiddleware
from tests.conftest import Clinic
from tests.test_access_matrix import MATRIX
from tests.test_bad_input import _viewer

TEMPLATES = Path(__file__).resolve().parents[1] / "alliance" / "templates"


def _pages(clinic: Clinic) -> list[tuple[HttpClient, str]]:
    therapist = HttpClient()
    therapist.force_login(clinic.owner)
    return [
        (HttpClient(), reverse("account_login")),
        (therapist, reverse("caseload")),
        (therapist, reverse("client_detail", args=[clinic.client.code])),
        (therapist, reverse("appointment_detail", args=[clinic.appointment.pk])),
        (HttpClient(), reverse("checkin_landing", args=[clinic.token])),
        (HttpClient(), reverse("checkin_answer", args=[clinic.token, "gad7"])),
    ]


def test_every_page_has_a_strict_policy_and_no_inline_script(clinic: Clinic) -> None:
    for http, url in _pages(clinic):
        page = http.get(url)
        assert page.status_code == 200, url
        policy = page["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        html = page.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script on {url}: {tag}"
        assert not re.search(r"<[^>]+\sstyle=", html), f"inline style attribute on {url}"
        assert not re.search(r"\s on[a-z]+=", html), f"inline event handler on {url}"
        assert page["X-Frame-Options"] == "DENY"
        assert page["Referrer-Policy"] == "same-origin"


def test_no_template_loads_anything_from_another_site() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), template


def test_pages_with_client_data_are_never_cached(clinic: Clinic) -> None:
    for http, url in _pages(clinic):
        page = http.get(url)
        assert "no-store" in page["Cache-Control"], url


def test_every_client_page_sends_what_never_cache_would(clinic: Clinic) -> None:
    # The check-in pages set Django's never_cache directives as constants (alliance.checkin.views:
    # _page); error pages and redirects included, none may be kept by a browser or a proxy.
    http = HttpClient()
    pages = [
        reverse(name, args=[clinic.token])
        for name in ("checkin_landing", "checkin_thanks", "checkin_support", "checkin_concern")
    ]
    pages += [
        reverse("checkin_answer", args=[clinic.token, "gad7"]),
        reverse("checkin_landing", args=["x" * 43]),  # no such link: 404
    ]
    for url in pages:
        page = http.get(url)
        directives = {d.strip() for d in page["Cache-Control"].split(",")}
        assert {"no-store", "no-cache", "must-revalidate", "private", "max-age=0"} <= directives, (
            url
        )
        assert page["Expires"] == "0", url
    answered = http.post(reverse("checkin_answer", args=[clinic.token, "gad7"]), {"started": "x"})
    assert "no-store" in answered["Cache-Control"]


def test_a_view_that_sets_its_own_cache_policy_keeps_it(rf: RequestFactory) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("feed")
        response["Cache-Control"] = "private, max-age=300"
        return response

    response = NoStoreMiddleware(view)(rf.get("/"))
    assert response["Cache-Control"] == "private, max-age=300"


# --- Issue 10, point 5: keep the strict policy, HSTS, secure cookies, the idle timeout and the
# lockout (the lockout itself: tests/accounts/test_login.py).

#: Answered before the CSP middleware on purpose (JSON for monitors, see its middleware): no page.
ANSWERED_BEFORE_THE_POLICY = {"health"}
INLINE_STYLE = re.compile(r"<[^>]+\sstyle=", re.I)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\ssrc=)[^>]*>", re.I)


def _assert_strict(response: Any, where: str) -> None:
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy, where
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    assert response["X-Content-Type-Options"] == "nosniff", where


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_url_answers_with_the_strict_policy(clinic: Clinic, name: str) -> None:
    """Every URL of the access matrix, as a role that may see it: whatever the status, the policy is
    there, and an HTML answer has no inline script, style or event handler."""
    http = _viewer(clinic, name)
    url = MATRIX[name][0](clinic)
    response = http.get(url)
    if name in ANSWERED_BEFORE_THE_POLICY:
        assert "html" not in response["Content-Type"]
        return
    _assert_strict(response, name)
    if "html" in response.get("Content-Type", "") and not response.streaming:
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), f"inline script on {name}"
        assert not INLINE_STYLE.search(html), f"inline style attribute on {name}"


def test_htmx_fragments_swapped_into_the_client_page_carry_no_inline_style(clinic: Clinic) -> None:
    """What htmx swaps in is held to the same policy as the page: the charts (matplotlib SVG, its
    style attributes rewritten) and the alert card after acknowledge, repair and close."""
    http = HttpClient()
    http.force_login(clinic.owner)
    fragments = [
        http.get(reverse("episode_charts", args=[clinic.episode.pk]), HTTP_HX_REQUEST="true")
    ]
    for action, data in (
        ("acknowledge", {}),
        ("discuss_repair", {"note": "We talked about the missed week"}),
        ("close", {"reason": CLOSE_REASONS[0][0]}),
    ):
        url = reverse("alert_action", args=[clinic.alert.pk, action])
        fragments.append(http.post(url, data, HTTP_HX_REQUEST="true"))
    for response in fragments:
        assert response.status_code == 200
        _assert_strict(response, response.request["PATH_INFO"])
        html = response.content.decode()
        assert not INLINE_STYLE.search(html), response.request["PATH_INFO"]
        assert "<script" not in html and "<style" not in html
    clinic.alert.refresh_from_db()
    assert clinic.alert.status == "closed"


def test_htmx_request_after_the_session_ended_reloads_at_the_sign_in_page(clinic: Clinic) -> None:
    """The idle timeout ends the session while the client page is open: the next htmx action must not
    swap the whole sign-in page into the alert card (it used to), but navigate to it and come back."""
    response = HttpClient().post(
        reverse("alert_action", args=[clinic.alert.pk, "acknowledge"]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/clients/{clinic.client.code}/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == (
        f"{reverse('account_login')}?next=%2Fclients%2F{clinic.client.code}%2F"
    )
    assert response.content == b""
    # Without htmx, the ordinary redirect is left alone.
    plain = HttpClient().post(reverse("alert_action", args=[clinic.alert.pk, "acknowledge"]))
    assert plain.status_code == 302 and "HX-Redirect" not in plain


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
def test_over_https_hsts_is_sent_cookies_are_secure_and_http_is_redirected(clinic: Clinic) -> None:
    """The values production uses with ALLIANCE_HTTPS on (tests/accounts/test_login.py checks that
    alliance.settings sets them); here, that the responses really carry them."""
    http = HttpClient()
    plain = http.get(reverse("account_login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    page = http.get(reverse("account_login"), secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    _assert_strict(page, "login over https")
    signed_in = http.post(
        reverse("account_login"),
        {"login": "owner@clinic.test", "password": "correct horse battery staple"},
        secure=True,
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert http.cookies[settings.CSRF_COOKIE_NAME]["secure"]


def test_the_session_ends_after_the_idle_time_and_activity_keeps_it(clinic: Clinic) -> None:
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    client_page = reverse("client_detail", args=[clinic.client.code])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        http = HttpClient()
        http.force_login(clinic.owner)
        assert http.get(client_page).status_code == 200
        clock.shift(idle - timedelta(minutes=1))
        assert http.get(client_page).status_code == 200  # activity renews the session
        clock.shift(idle - timedelta(minutes=1))
        assert http.get(client_page).status_code == 200
        clock.shift(idle + timedelta(seconds=1))
        gone = http.get(client_page)
        assert gone.status_code == 302
        assert gone["Location"].startswith(reverse("account_login"))


def test_activity_renews_the_session_at_most_once_a_minute(clinic: Clinic) -> None:
    """Renewing is a write; a page a second must not write the session row a second."""
    from django.contrib.sessions.models import Session

    client_page = reverse("client_detail", args=[clinic.client.code])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        http = HttpClient()
        http.force_login(clinic.owner)
        http.get(client_page)
        key = http.cookies["sessionid"].value
        renewed = Session.objects.get(session_key=key).expire_date
        clock.shift(timedelta(seconds=30))
        http.get(client_page)
        assert Session.objects.get(session_key=key).expire_date == renewed
        clock.shift(timedelta(seconds=31))
        http.get(client_page)
        assert Session.objects.get(session_key=key).expire_date > renewed
    # An anonymous visitor is not given a session by it.
    anonymous = HttpClient()
    anonymous.get(reverse("account_login"))
    assert "sessionid" not in anonymous.cookies
