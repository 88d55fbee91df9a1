"""Every page of the access matrix, opened in Spanish by someone who may see it, has no English word
left in its visible text or its accessible names (title, aria-label, placeholder, alt).

The fast, browser-free complement of tests/browser/test_spanish_day.py: it also covers the
administrators' pages and the client's pages (a client whose record says Spanish). What counts as an
English word is tests/english_words.py's; text people entered and instrument names are not counted.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client as HttpClient

from alliance.accounts.models import User
from tests.conftest import Clinic
from tests.english_words import english_in, entered_text
from tests.test_access_matrix import MATRIX, TOKEN_PAGES

pytestmark = pytest.mark.django_db

# Not pages: JSON for monitoring and the FHIR API, downloads (PDF, CSV, FHIR, calendar feed).
NOT_PAGES = {"health", "fhir_metadata", "fhir_smart_configuration", "home"}
# Off unless the clinic allows it (tests/browser/test_ending_pages.py opens it with sharing on).
NOT_PAGES |= {"checkin_progress"}
SKIPPED_ELEMENTS = {"script", "style", "code", "svg", "textarea"}
NAMED_BY = ("title", "aria-label", "placeholder", "alt")


class VisibleText(HTMLParser):
    """Text a person reads or hears: text nodes and accessible-name attributes, without scripts,
    code, client codes, instrument items and anything marked in another language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        lang = values.get("lang")
        skip = (
            tag in SKIPPED_ELEMENTS
            or "code" in classes
            or "item-text" in classes
            or (lang is not None and lang != "es" and tag != "html")
        )
        if self.skipping or skip:
            if tag not in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}:
                self.skipping.append(tag)
            return
        self.parts.extend(v for k, v in attrs if k in NAMED_BY and v)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " \n ".join(parser.parts)


def _viewer(name: str) -> str | None:
    if name in TOKEN_PAGES:
        return "anonymous"
    expected = MATRIX[name][1]
    return next(
        (r for r in ("owner", "supervisor", "administrator") if expected.get(r) == 200), None
    )


PAGES = sorted(
    n
    for n in MATRIX
    if n not in NOT_PAGES
    and not n.endswith(("_pdf", "_fhir", "_export", "_feed", "_file", "_status"))
    and _viewer(n) is not None
)


def test_the_detector_reads_attributes_and_skips_other_languages() -> None:
    text = _text(
        '<html lang="es"><p title="Your caseload">Tus casos</p><span lang="en">English</span>'
        '<code>the</code><span class="code">C-1</span></html>'
    )
    assert "Your caseload" in text and "Tus casos" in text
    assert "English" not in text and "the" not in text.split()


@pytest.mark.parametrize("name", PAGES)
def test_the_page_in_spanish_has_no_english_word(clinic: Clinic, name: str) -> None:
    User.objects.update(language="es")
    clinic.client.preferred_language = "es"
    clinic.client.save()
    role = _viewer(name)
    assert role is not None
    http = HttpClient()
    if (user := clinic.user(role)) is not None:
        http.force_login(User.objects.get(pk=user.pk))
    build, _ = MATRIX[name]
    url = build(clinic)
    response = http.get(url)
    assert response.status_code == 200, f"{name}: {response.status_code}"
    if "text/html" not in response["Content-Type"]:
        return
    html = response.content.decode()
    assert '<html lang="es">' in html, f"{name} ({url}) is not lang=es"
    hits = english_in(_text(html), entered_text())
    assert not hits, f"English on {name} ({url}):\n  " + "\n  ".join(hits[:25])
