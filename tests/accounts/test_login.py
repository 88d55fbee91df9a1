"""Email + password sign-in, lockout after repeated failures, MFA for administrators, idle timeout."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import Role
from tests import factories

PASSWORD = "correct horse battery staple"


def _login(http: HttpClient, email: str, password: str) -> Any:
    return http.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_therapist_signs_in_with_email_and_lands_on_caseload() -> None:
    factories.UserFactory.create(email="t@clinic.test")
    http = HttpClient()
    response = _login(http, "T@Clinic.test", PASSWORD)
    assert response.status_code == 302
    assert http.get(reverse("home"))["Location"] == reverse("caseload")


@pytest.mark.django_db
def test_account_locks_after_repeated_failures_even_with_the_right_password() -> None:
    factories.UserFactory.create(email="t@clinic.test")
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(http, "t@clinic.test", "wrong password!").status_code == 200
    assert _login(http, "t@clinic.test", "wrong password!").status_code == 429
    locked = _login(http, "t@clinic.test", PASSWORD)
    assert locked.status_code == 429
    assert "Sign-in paused" in locked.content.decode()
    assert "_auth_user_id" not in http.session


@pytest.mark.django_db
def test_administrator_without_totp_is_sent_to_set_it_up() -> None:
    admin = factories.UserFactory.create(email="a@clinic.test", role=Role.ADMINISTRATOR)
    http = HttpClient()
    http.force_login(admin)
    response = http.get(reverse("user_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not Authenticator.objects.filter(user=admin).exists()


@pytest.mark.django_db
def test_administrator_with_totp_must_give_a_code_at_sign_in() -> None:
    from tests.conftest import with_totp

    with_totp(factories.UserFactory.create(email="a@clinic.test", role=Role.ADMINISTRATOR))
    http = HttpClient()
    response = _login(http, "a@clinic.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in http.session


@pytest.mark.django_db
def test_public_sign_up_is_closed() -> None:
    response = HttpClient().post(
        reverse("account_signup"), {"email": "x@y.test", "password1": "a long passphrase 123"}
    )
    assert "_auth_user_id" not in HttpClient().session
    assert b"closed" in response.content.lower()


def test_production_settings_are_secure_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    for name in ("ALLIANCE_HTTPS", "ALLIANCE_DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path))
    import alliance.settings as production

    production = importlib.reload(production)
    assert production.DEBUG is False
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
    assert production.SECURE_SSL_REDIRECT and production.SECURE_HSTS_SECONDS > 0
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert production.SESSION_COOKIE_AGE == 30 * 60
    # The idle timeout is renewed by activity (at most once a minute) by this middleware.
    assert "alliance.core.middleware.IdleTimeoutMiddleware" in production.MIDDLEWARE
    secret = tmp_path / "secret_key"
    keys = tmp_path / "field_encryption_keys"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert keys.stat().st_mode & 0o777 == 0o600
    assert secret.read_text().strip() == production.SECRET_KEY
    # A second start reads the same secrets instead of generating new ones.
    assert secret.read_text().strip() == importlib.reload(production).SECRET_KEY


def test_database_url_selects_postgresql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/alliance")
    import alliance.settings as production

    production = importlib.reload(production)
    assert production.DATABASES["default"]["ENGINE"] == "alliance.core.postgresql"
    monkeypatch.delenv("DATABASE_URL")
    production = importlib.reload(production)
    options = production.DATABASES["default"]["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"] and options["timeout"] == 20
