"""/health for monitoring, and the administrator's clinic page saying loudly what is not running."""

from __future__ import annotations

from unittest import mock

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from alliance.accounts.models import AuditEvent
from alliance.care.models import ClinicSettings
from alliance.operations.heartbeat import Heart
from tests.conftest import Clinic

pytestmark = pytest.mark.django_db

SMTP = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "smtp.test"}


def test_health_is_ok_when_the_database_worker_and_scheduler_are() -> None:
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        Heart("worker").beat()
        Heart("scheduler").beat()
    with time_machine.travel("2026-03-02 09:00:20Z", tick=False):
        response = HttpClient().get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker": {"state": "ok", "seen_seconds_ago": 20},
        "scheduler": {"state": "ok", "seen_seconds_ago": 20},
    }
    assert response["Cache-Control"] == "no-store"


def test_health_is_degraded_without_a_recent_worker() -> None:
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        Heart("worker").beat()
        Heart("scheduler").beat()
    with time_machine.travel("2026-03-02 09:02:30Z", tick=False):
        Heart("scheduler").beat()
        body = HttpClient().get("/health").json()
    assert body["status"] == "degraded"
    assert body["worker"] == {"state": "stale", "seen_seconds_ago": 150}
    assert body["scheduler"]["state"] == "ok"


def test_health_is_down_with_503_when_the_database_does_not_answer() -> None:
    with mock.patch("alliance.operations.heartbeat.status", side_effect=OperationalError("gone")):
        response = HttpClient().get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response["Cache-Control"] == "no-store"


def test_health_costs_one_query_sets_no_cookie_and_writes_no_audit_event(
    clinic: Clinic, django_assert_num_queries: object
) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)  # even a signed-in browser's session is left alone
    before = AuditEvent.objects.count()
    with django_assert_num_queries(1):  # type: ignore[operator]
        response = http.get("/health")
    assert response.status_code == 200
    assert not response.cookies
    assert "Set-Cookie" not in str(response.serialize_headers())
    assert AuditEvent.objects.count() == before


def test_health_answers_a_monitor_on_the_app_server_itself() -> None:
    # A load balancer asks over plain HTTP with the server's own address as Host: no 400 for an
    # unlisted host, no redirect to https; other pages still get both.
    with override_settings(ALLOWED_HOSTS=["alliance.clinic.example"], SECURE_SSL_REDIRECT=True):
        http = HttpClient()
        assert http.get("/health", HTTP_HOST="10.0.0.7:8000").status_code == 200
        assert http.get("/health/", HTTP_HOST="10.0.0.7:8000").status_code == 200
        assert http.get("/accounts/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400
        assert http.get("/accounts/login/", HTTP_HOST="alliance.clinic.example").status_code == 301


def test_health_never_shows_client_data(clinic: Clinic) -> None:
    body = HttpClient().get(reverse("health")).content
    for secret in (clinic.client.name, clinic.client.code, clinic.client.email):
        assert secret.encode() not in body


# --- The administrator's clinic page ---------------------------------------------------------------


def _clinic_page(clinic: Clinic) -> str:
    http = HttpClient()
    http.force_login(clinic.administrator)
    response = http.get(reverse("clinic_overview"))
    assert response.status_code == 200
    return response.content.decode()


def test_clinic_page_says_loudly_what_stops_risk_reaching_a_human(clinic: Clinic) -> None:
    page = _clinic_page(clinic)
    assert 'role="alert"' in page
    assert "No job worker has run." in page
    assert "No scheduler has run." in page
    assert "own crisis resources are not set" in page
    assert "Email is not configured" in page


def test_clinic_page_has_no_banner_when_everything_runs(clinic: Clinic) -> None:
    Heart("worker").beat()
    Heart("scheduler").beat()
    ClinicSettings.objects.update_or_create(
        pk=1, defaults={"crisis_resources_en": "Call 999", "crisis_resources_es": "Llame al 112"}
    )
    with override_settings(**SMTP):
        page = _clinic_page(clinic)
    assert 'id="operational-findings"' not in page
    assert "No job worker" not in page


def test_clinic_page_names_a_scheduler_that_stopped(clinic: Clinic) -> None:
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        Heart("worker").beat()
        Heart("scheduler").beat()
    with time_machine.travel("2026-03-02 09:10:00Z", tick=False):
        Heart("worker").beat()
        page = _clinic_page(clinic)
    assert "No scheduler has run for 10 minutes." in page
    assert "Unacknowledged risk alerts are not being escalated" in page
    assert "No job worker" not in page
