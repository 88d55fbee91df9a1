"""Sending the check-in link: by email with consent, the clinic's wording, a fresh link each time, the
address the server was reached on, never the address in a log; and the demo's printed address."""

from __future__ import annotations

import logging
import stat
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client as HttpClient
from django.test import TestCase, override_settings
from django.urls import reverse

from alliance.accounts.forms import ClinicSettingsForm
from alliance.accounts.models import AuditEvent
from alliance.care import sending
from alliance.care.models import ClinicSettings
from alliance.checkin import tokens
from alliance.checkin.links import resolve
from alliance.checkin.models import CheckinLink
from alliance.core.mail import OutboxBackend
from alliance.demo.management.commands.demo import browsable_url
from tests.accounts.test_clinic_settings_form import settings_form_data
from tests.conftest import Clinic


@pytest.fixture(autouse=True)
def _clinic_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "alliance.clinic.example"]


def _owner(clinic: Clinic) -> HttpClient:
    http = HttpClient(HTTP_HOST="alliance.clinic.example:8443")
    http.force_login(clinic.owner)
    return http


def _consent(clinic: Clinic, lang: str = "en") -> None:
    clinic.client.email_consent = True
    clinic.client.preferred_language = lang
    clinic.client.save()


def _send(http: HttpClient, clinic: Clinic, submission: str | None = None) -> Any:
    # The email is stored in the outbox and delivered once the request's transaction commits; the
    # test's own transaction never commits, so run the after-commit delivery here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return http.post(
            reverse("checkin_link_send", args=[clinic.appointment.pk]),
            {"submission_id": submission or str(uuid.uuid4())},
        )


def _token_in(body: str) -> str:
    url = next(w for w in body.split() if w.startswith("http://alliance.clinic.example:8443/"))
    return url.rstrip("/").split("/")[-1]


def test_without_consent_there_is_no_send_button_and_the_page_says_why(clinic: Clinic) -> None:
    page = _owner(clinic).get(reverse("appointment_detail", args=[clinic.appointment.pk]))
    text = page.content.decode()
    assert reverse("checkin_link_send", args=[clinic.appointment.pk]) not in text
    assert "has not agreed to receive check-in links by email" in text
    response = _send(_owner(clinic), clinic)
    assert response.status_code == 302
    assert mail.outbox == []


def test_no_address_says_so(clinic: Clinic) -> None:
    clinic.client.email_consent = True
    clinic.client.email = ""
    clinic.client.save()
    text = _owner(clinic).get(reverse("appointment_detail", args=[clinic.appointment.pk]))
    assert "has no email address" in text.content.decode()


def test_send_emails_a_fresh_working_link_on_the_requests_address(clinic: Clinic) -> None:
    _consent(clinic)
    old = CheckinLink.objects.get(appointment=clinic.appointment)
    http = _owner(clinic)
    response = _send(http, clinic)
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [clinic.client.email]
    assert clinic.client.name not in message.subject
    assert clinic.client.name not in message.body
    assert "PHQ" not in f"{message.subject} {message.body}"
    assert settings.ALLIANCE_CLINIC_NAME in message.subject
    token = _token_in(str(message.body))
    assert resolve(token).link is not None
    link = CheckinLink.objects.get(token_digest=tokens.digest(token))
    assert link.sent_at is not None and link.send_count == 1
    old.refresh_from_db()
    assert old.revoked_at is not None  # never opened: replaced by the fresh one
    event = AuditEvent.objects.get(action="checkin.link.sent")
    assert event.client_id == clinic.client.pk
    assert clinic.client.email not in str(event.data) + event.object_id
    page = http.get(reverse("appointment_detail", args=[clinic.appointment.pk])).content.decode()
    assert "emailed once" in page and "revoked" in page


def test_an_opened_link_is_not_revoked_by_a_fresh_one(clinic: Clinic) -> None:
    _consent(clinic)
    resolve(clinic.token)  # the client opened it
    _send(_owner(clinic), clinic)
    opened = CheckinLink.objects.get(token_digest=tokens.digest(clinic.token))
    assert opened.revoked_at is None


def test_a_double_click_sends_one_email(clinic: Clinic) -> None:
    _consent(clinic)
    http = _owner(clinic)
    submission = str(uuid.uuid4())
    _send(http, clinic, submission)
    _send(http, clinic, submission)
    assert len(mail.outbox) == 1


def test_spanish_client_gets_the_clinics_spanish_wording(clinic: Clinic) -> None:
    _consent(clinic, "es")
    wording = ClinicSettings.load()
    wording.checkin_email_subject = "Mensaje de {clinic}"
    wording.checkin_email_body_es = "Hola. Su enlace: {link} — {clinic}"
    wording.save()
    _send(_owner(clinic), clinic)
    (message,) = mail.outbox
    assert message.subject == f"Mensaje de {settings.ALLIANCE_CLINIC_NAME}"
    assert message.body.startswith("Hola. Su enlace: http://alliance.clinic.example:8443/")


def test_default_wording_follows_the_clients_language(clinic: Clinic) -> None:
    clinic.client.preferred_language = "es"
    subject, body = sending.compose(clinic.client, ClinicSettings.load(), "https://x.test/c/t")
    assert "Su cuestionario" in subject and "https://x.test/c/t" in body
    assert "{" not in subject + body


def test_supervisor_and_colleague_cannot_send(clinic: Clinic) -> None:
    _consent(clinic)
    for user in (clinic.supervisor, clinic.colleague):
        http = HttpClient()
        http.force_login(user)
        assert _send(http, clinic).status_code == 404
    assert mail.outbox == []


def test_link_and_qr_use_the_address_the_server_was_reached_on(clinic: Clinic) -> None:
    response = _owner(clinic).post(
        reverse("checkin_link_create", args=[clinic.appointment.pk]),
        {"submission_id": str(uuid.uuid4())},
    )
    page = response.content.decode()
    assert 'value="http://alliance.clinic.example:8443/' in page
    assert settings.SITE_URL + "/" not in page
    assert "no-store" in response["Cache-Control"]
    assert "staff-tools.js" in page and "<svg" in page


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("checkin_email_subject", "Your link {link}", "not in its subject"),
        ("checkin_email_body_en", "Hello, see you soon.", "Include {link}"),
    ],
)
def test_settings_form_refuses_wording_without_the_link(field: str, value: str, error: str) -> None:
    form = ClinicSettingsForm({"checkin_link_hours": 72, field: value})
    assert not form.is_valid()
    assert error in str(form.errors[field])


@pytest.mark.django_db
def test_settings_page_saves_the_wording() -> None:
    form = ClinicSettingsForm(
        settings_form_data(checkin_email_body_en="Your link: {link}"),
        instance=ClinicSettings.load(),
    )
    assert form.is_valid(), form.errors
    form.save()
    assert ClinicSettings.load().checkin_email_body_en == "Your link: {link}"


def test_outbox_backend_writes_0600_and_logs_no_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(DATA_DIR=tmp_path), caplog.at_level(logging.INFO, "alliance.mail"):
        sent = OutboxBackend().send_messages(
            [EmailMessage("Your session check-in", "link", None, ["someone@example.org"])]
        )
    assert sent == 1
    (written,) = (tmp_path / "outbox").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert "someone@example.org" in written.read_text()
    assert "someone@example.org" not in caplog.text
    assert (
        "outbox directory (no mail server is set): subject=Your session check-in, recipients=1"
        in caplog.text
    )


def test_settings_never_use_the_console_backend_without_smtp() -> None:
    from alliance import settings as production

    if not production.EMAIL_HOST:
        assert production.EMAIL_BACKEND == "alliance.core.mail.OutboxBackend"


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:9123", "http://127.0.0.1:9123"),
        ("192.168.1.20:8080", "http://192.168.1.20:8080"),
        ("[::]:8001", "http://[::1]:8001"),
        ("localhost", "http://localhost:8000"),
        ("unix:/run/alliance.sock", ""),
    ],
)
def test_demo_prints_the_address_it_binds_to(bind: str, url: str) -> None:
    assert browsable_url(bind) == url


def test_expired_and_revoked_states(clinic: Clinic) -> None:
    link = CheckinLink.objects.get(appointment=clinic.appointment)
    later = link.expires_at + timedelta(minutes=1)
    (state,) = sending.link_states([link], later)
    assert state.key == "expired"
