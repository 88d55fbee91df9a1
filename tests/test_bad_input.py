"""No input answers 500: every form on every page the owner or the supervisor can open is sent back with
malformed values in each of its fields, and every page is asked for with malformed query parameters.

The pages come from the access matrix, the field names from the forms the pages themselves render, so a
page or a field added later is covered without touching this file.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import Clinic
from tests.test_access_matrix import MATRIX, TOKEN_PAGES

JUNK = ["", "\x00", "9" * 5000, "-1", "2026-13-45", "<script>x</script>", 'o\'brien, "x"', "1e309"]
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
METHOD_POST = re.compile(r"""method=["']?post""", re.I)
ACTION = re.compile(r"""action=["']([^"']*)["']""", re.I)
FIELD = re.compile(r"""<(?:input|select|textarea)\b[^>]*\bname=["']([^"']+)["']""", re.I)
QUERY_KEYS = [
    *("status", "week", "day", "start", "end", "page", "alerts", "quiet", "ending", "lang"),
    *("action", "actor", "client", "date_from", "date_to"),  # the audit trail's filters
]


def _viewer(clinic: Clinic, name: str) -> HttpClient:
    expected = MATRIX[name][1]
    http = HttpClient()
    if name in TOKEN_PAGES:
        return http
    for role in ("owner", "supervisor", "administrator"):
        if expected.get(role) == 200:
            user = clinic.user(role)
            assert user is not None
            http.force_login(user)
            return http
    http.force_login(clinic.owner)  # a page nobody sees as such (the home redirect)
    return http


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_malformed_query_parameters_never_answer_500(clinic: Clinic, name: str) -> None:
    http = _viewer(clinic, name)
    url = MATRIX[name][0](clinic)
    for junk in JUNK:
        response = http.get(url, dict.fromkeys(QUERY_KEYS, junk))
        assert response.status_code < 500, f"{name} ?…={junk[:20]!r}"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_form_field_sent_malformed_never_answers_500(clinic: Clinic, name: str) -> None:
    http = _viewer(clinic, name)
    url = MATRIX[name][0](clinic)
    page = http.get(url)
    if "html" not in page.get("Content-Type", ""):
        pytest.skip("not a page")
    forms = []
    for attrs, body in FORM.findall(page.content.decode()):
        if METHOD_POST.search(attrs):
            found = ACTION.search(attrs)
            forms.append((unescape(found.group(1)) if found else url, body))
    # Signing out would turn every later request into a sign-in redirect.
    forms = [(action, body) for action, body in forms if action != reverse("account_logout")]
    posted = 0
    for action, body in forms:
        fields = sorted(set(FIELD.findall(body)) - {"csrfmiddlewaretoken"})
        for junk in JUNK:
            response = http.post(action or url, dict.fromkeys(fields, junk))
            assert response.status_code < 500, f"{name}: POST {action} with {junk[:20]!r}"
            assert response.status_code != 302 or "/accounts/login/" not in response["Location"]
            posted += 1
    if not forms:
        pytest.skip("no form on this page")
    assert posted == len(forms) * len(JUNK)
