"""`alliance check`: every insecure or missing setting is reported with what to do, and it exits non-zero."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.utils import timezone

from alliance.care.models import ClinicSettings
from alliance.operations.checks import (
    Finding,
    Installation,
    configuration_findings,
    file_findings,
    operational_findings,
    outbox_findings,
)
from alliance.operations.heartbeat import Heart
from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail
from tests import factories

GOOD_FERNET_KEY = "2tZJ6V6BpiCgRXp4CwP8mQrb0c6LwKxIqVxyM5fC2Vw="
SMTP = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "smtp.test"}


@pytest.fixture
def good(tmp_path: Path) -> Installation:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    key_file = data_dir / "field_encryption_keys"
    key_file.write_text(GOOD_FERNET_KEY)
    key_file.chmod(0o600)
    return Installation(
        debug=False,
        secret_key="a-long-random-key-generated-for-this-installation-only-x7Q2",
        field_encryption_keys=[GOOD_FERNET_KEY],
        session_cookie_secure=True,
        csrf_cookie_secure=True,
        site_url="https://alliance.clinic.example",
        allowed_hosts=["alliance.clinic.example"],
        email_backend=SMTP["EMAIL_BACKEND"],
        email_host="smtp.clinic.example",
        demo=False,
        data_dir=data_dir,
        secret_files=[key_file],
    )


def _ids(findings: list[Finding]) -> list[str]:
    return [f.id for f in findings]


def test_a_well_set_up_installation_has_no_findings(good: Installation) -> None:
    assert configuration_findings(good) == []
    assert file_findings(good) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"debug": True}, "alliance.W001"),
        ({"secret_key": "alliance-demo"}, "alliance.W002"),
        ({"secret_key": "django-insecure-abc"}, "alliance.W002"),
        # The key tests/settings.py publishes, anywhere in the list.
        (
            {
                "field_encryption_keys": [
                    GOOD_FERNET_KEY,
                    "Q2xEV3h1b3Zrb0xvQ1Z3M0JmZ1hJVnRZbE1OUk5GaXk=",
                ]
            },
            "alliance.W003",
        ),
        ({"session_cookie_secure": False, "csrf_cookie_secure": False}, "alliance.W004"),
        ({"site_url": "http://alliance.clinic.example"}, "alliance.W005"),
        ({"allowed_hosts": ["*"]}, "alliance.W006"),
        ({"email_backend": "alliance.core.mail.OutboxBackend", "email_host": ""}, "alliance.W007"),
        ({"email_host": ""}, "alliance.W007"),  # SMTP without a host
        ({"demo": True}, "alliance.W008"),
    ],
)
def test_each_insecure_setting_is_one_finding_with_a_hint(
    good: Installation, change: dict[str, object], expected: str
) -> None:
    findings = configuration_findings(dataclasses.replace(good, **change))  # type: ignore[arg-type]
    assert _ids(findings) == [expected]
    assert findings[0].hint  # says what to do


def test_a_data_directory_or_key_file_others_can_read_is_found(good: Installation) -> None:
    good.data_dir.chmod(0o755)
    good.secret_files[0].chmod(0o644)
    findings = file_findings(good)
    assert _ids(findings) == ["alliance.W009", "alliance.W010"]
    assert "chmod 700" in findings[0].hint and "chmod 600" in findings[1].hint


@pytest.mark.django_db
def test_operational_findings_name_what_keeps_risk_from_reaching_a_human() -> None:
    # Nothing beating, no crisis resources, mail kept on this machine (the test settings' backend).
    assert _ids(operational_findings()) == [
        "alliance.W011",
        "alliance.W012",
        "alliance.W013",
        "alliance.W007",
    ]
    Heart("worker").beat()
    Heart("scheduler").beat()
    clinic = ClinicSettings.load()
    clinic.crisis_resources_en = "Call 999"
    clinic.save()
    # Spanish is still missing, and is named.
    (crisis,) = [f for f in operational_findings() if f.id == "alliance.W013"]
    assert "Spanish" in crisis.message and "English" not in crisis.message
    clinic.crisis_resources_es = "Llame al 112"
    clinic.save()
    with override_settings(**SMTP):
        assert operational_findings() == []


@pytest.mark.django_db
def test_emails_that_did_not_go_out_are_reported_urgent_ones_apart() -> None:
    now = timezone.now()
    common = {"recipients": "t@clinic.test", "subject": "s", "body": "b", "created_at": now}
    OutboundEmail.objects.create(
        key="risk", kind=EmailKind.ALERT_URGENT, status=EmailStatus.FAILED, **common
    )
    assert _ids(outbox_findings(now)) == ["alliance.W015"]
    assert "1 urgent email" in outbox_findings(now)[0].message
    OutboundEmail.objects.create(
        key="reminder", kind=EmailKind.REMINDER, status=EmailStatus.UNCERTAIN, **common
    )
    OutboundEmail.objects.create(
        key="late",
        kind=EmailKind.REMINDER,
        status=EmailStatus.PENDING,
        not_before=now - timedelta(hours=1),
        **common,
    )
    assert _ids(outbox_findings(now)) == ["alliance.W015", "alliance.W016", "alliance.W017"]
    # The clinic page and `alliance check` show them with the rest.
    assert {"alliance.W015", "alliance.W016", "alliance.W017"} <= set(
        _ids(operational_findings(now))
    )
    OutboundEmail.objects.all().update(status=EmailStatus.SENT)
    assert outbox_findings(now) == []


@pytest.mark.django_db
def test_demo_accounts_are_found() -> None:
    factories.UserFactory.create(email="therapist1@demo.alliance.invalid")
    assert "alliance.W014" in _check_ids()


def _check_ids() -> set[str | None]:
    return {m.id for m in checks.run_checks(include_deployment_checks=True, tags=["alliance"])}


@pytest.mark.django_db
def test_alliance_check_fails_on_warnings_and_passes_when_all_is_well(tmp_path: Path) -> None:
    with pytest.raises(SystemCheckError) as failed:
        call_command("check")
    for expected in ("alliance.W011", "alliance.W012", "alliance.W013", "alliance.W007"):
        assert expected in str(failed.value)

    Heart("worker").beat()
    Heart("scheduler").beat()
    ClinicSettings.objects.update_or_create(
        pk=1, defaults={"crisis_resources_en": "Call 999", "crisis_resources_es": "Llame al 112"}
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    with override_settings(
        **SMTP,
        DATA_DIR=data_dir,
        FIELD_ENCRYPTION_KEYS=[GOOD_FERNET_KEY],
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
        SECURE_SSL_REDIRECT=True,
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SITE_URL="https://alliance.clinic.example",
    ):
        call_command("check")  # raises SystemCheckError if anything is left


def test_migrate_and_plain_checks_do_not_run_the_deployment_checks() -> None:
    # BaseCommand.check() (what migrate and every other command run) leaves deploy checks out.
    assert not any((m.id or "").startswith("alliance.") for m in checks.run_checks())


def test_alliance_check_exits_non_zero_from_the_command_line(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {"ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_DEBUG": "1", "ALLIANCE_HTTPS": "0"}
    run = subprocess.run(
        [sys.executable, "-m", "alliance", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    for expected in ("alliance.W001", "alliance.W004", "alliance.W005", "alliance.W015"):
        assert expected in run.stderr  # W015: this data directory has no database yet
    assert "HINT: Unset ALLIANCE_DEBUG" in run.stderr
