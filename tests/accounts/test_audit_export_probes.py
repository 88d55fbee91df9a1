"""The audit export probed as an outsider would (issue 10, point 5): hostile filter values never answer
500, are either refused by the form with a message or applied, never reach the export's own audit event
as free text, and no exported cell can run as a spreadsheet formula.

tests/test_bad_input.py sends generic junk to every page; these are the export's own cases.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.audit import log_event
from alliance.accounts.forms import AuditFilterForm
from alliance.accounts.models import AuditEvent
from tests import factories
from tests.conftest import Clinic

EXPORT = "/clinic/audit/export.csv"

#: Values a form should apply as typed: each is a plausible search, however odd.
APPLIED = {
    "apostrophe": "o'brien@example.org",
    "comma": "smith,jones@example.org",
    "unicode": "zoë.núñez+日本@example.org",
    "formula": "=cmd|' /C calc'!A0",
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(1+1)",
    "sentence": "she said she feels unsafe at home",
}
#: Values the form must refuse, with a message.
REFUSED = {
    "nul": "a\x00b",
    "long": "x" * 10_000,
}


@pytest.fixture
def admin(clinic: Clinic) -> HttpClient:
    http = HttpClient()
    http.force_login(clinic.administrator)
    return http


def _export_event() -> AuditEvent:
    return AuditEvent.objects.filter(action="audit.exported").latest("id")


def _rows(response: object) -> list[dict[str, str]]:
    body = response.getvalue().decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body)))


def test_the_url_is_the_one_the_issue_names() -> None:
    assert reverse("audit_export") == EXPORT


@pytest.mark.parametrize("field", ["action", "actor", "client"])
@pytest.mark.parametrize("kind", sorted(APPLIED))
def test_odd_values_are_applied_and_stay_out_of_the_audit_data(
    clinic: Clinic, admin: HttpClient, field: str, kind: str
) -> None:
    value = APPLIED[kind]
    response = admin.get(EXPORT, {field: value})
    if len(value) > AuditFilterForm.base_fields[field].max_length:  # type: ignore[attr-defined]
        # Longer than any client code: refused (with a message), which the issue allows too.
        assert response.status_code == 400
        assert 'class="error"' in response.content.decode()
        return
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    # Applied: no event matches the odd value, so only the header comes back.
    assert _rows(response) == []
    data = _export_event().data
    # The event says a filter was used; the value is kept only if it looks like a code.
    assert field in data["filters"] or field in data["withheld"]
    if field in data["withheld"]:
        assert value not in str(data)
    assert "unsafe" not in str(data)


@pytest.mark.parametrize("field", ["action", "actor", "client"])
@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_nul_and_overlong_values_are_refused_with_a_message(
    clinic: Clinic, admin: HttpClient, field: str, kind: str
) -> None:
    before = AuditEvent.objects.filter(action="audit.exported").count()
    response = admin.get(EXPORT, {field: REFUSED[kind]})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error"' in page
    # Refused means nothing exported: neither rows nor an export event.
    assert "text/html" in response["Content-Type"]
    assert AuditEvent.objects.filter(action="audit.exported").count() == before
    assert "x" * 300 not in page.split("</form>")[-1]


def test_nul_in_a_date_is_refused(clinic: Clinic, admin: HttpClient) -> None:
    response = admin.get(EXPORT, {"date_from": "2026-01-01\x00"})
    assert response.status_code == 400


def test_an_actor_with_an_apostrophe_is_found_and_recorded_by_user_id(
    clinic: Clinic, admin: HttpClient
) -> None:
    obrien = factories.UserFactory.create(email="o'brien@example.org")
    log_event("care.client.viewed", actor=obrien, obj=clinic.client)
    response = admin.get(EXPORT, {"actor": "O'Brien@example.org"})
    assert response.status_code == 200
    assert [row["actor"] for row in _rows(response)] == ["o'brien@example.org"]
    data = _export_event().data
    assert data["withheld"] == ["actor"]
    assert data["actor_user"] == obrien.pk
    assert "brien" not in str(data)


def test_code_shaped_filters_are_recorded(clinic: Clinic, admin: HttpClient) -> None:
    admin.get(
        EXPORT,
        {
            "action": "care.client",
            "actor": "owner@clinic.test",
            "client": clinic.client.code,
            "date_from": "2026-01-01",
        },
    )
    data = _export_event().data
    assert data["filters"] == {
        "action": "care.client",
        "actor": "owner@clinic.test",
        "client": clinic.client.code,
        "date_from": "2026-01-01",
    }
    assert data["withheld"] == []
    assert data["actor_user"] == clinic.owner.pk


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_a_spreadsheet_would_run_are_neutralised(
    clinic: Clinic, admin: HttpClient, start: str
) -> None:
    # An actor's address is the one cell whose start a user chooses (Django accepts these).
    hostile = factories.UserFactory.create(email=f"{start}cmd@example.org")
    log_event("care.client.viewed", actor=hostile, obj=clinic.client)
    response = admin.get(EXPORT, {"action": "care.client.viewed"})
    actors = [row["actor"] for row in _rows(response)]
    assert actors == [f"'{start}cmd@example.org"]
    for row in _rows(response):
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_the_trail_page_shows_the_refusal_too(clinic: Clinic, admin: HttpClient) -> None:
    response = admin.get(reverse("audit_list"), {"actor": "x" * 10_000})
    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert "No events match." in response.content.decode()
