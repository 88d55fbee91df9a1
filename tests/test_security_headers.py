"""Strict CSP, no inline script, nothing from a third party, on staff and client pages alike."""

from __future__ import annotations

import re
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse

from alliance.core.middleware import NoStoreMiddleware
from tests.conftest import Clinic

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


def test_a_view_that_sets_its_own_cache_policy_keeps_it(rf: RequestFactory) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("feed")
        response["Cache-Control"] = "private, max-age=300"
        return response

    response = NoStoreMiddleware(view)(rf.get("/"))
    assert response["Cache-Control"] == "private, max-age=300"
