"""What is insecure or missing in this installation, each finding with what to do about it.

`alliance check` prints every finding and exits non-zero (they are registered as Django deployment
checks in OperationsConfig.ready, and alliance/operations/management/commands/check.py runs them with
--deploy --fail-level WARNING). The administrator's clinic page shows the operational ones
(`operational_findings`): no worker or scheduler recently, no crisis resources, email not configured.

The configuration and file checks are plain functions of an `Installation` snapshot, so tests can
describe an installation without changing settings; the operational ones read the database.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.utils.translation import gettext as _

from alliance.accounts.models import User
from alliance.care.models import ClinicSettings
from alliance.core.secrets import env_bool
from alliance.operations import outbox
from alliance.operations.heartbeat import status


@dataclass(frozen=True)
class Finding:
    id: str  # "alliance.W001", stable, for SILENCED_SYSTEM_CHECKS and for tests
    message: str
    hint: str  # what to do about it

    def as_check_message(self) -> checks.CheckMessage:
        return checks.Warning(self.message, hint=self.hint, id=self.id)


# Mail backends that keep mail on this machine: nobody outside receives a check-in link or an alert.
LOCAL_EMAIL_BACKENDS = frozenset(
    {
        "alliance.core.mail.OutboxBackend",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)

# Keys that are public because they are in this repository or its documentation. A key generated
# into the data directory is fine; one of these protects nothing.
KNOWN_SECRET_KEYS = frozenset({"alliance-demo", "change-me", "changeme", "secret", "insecure"})
KNOWN_FIELD_ENCRYPTION_KEYS = frozenset(
    {"Q2xEV3h1b3Zrb0xvQ1Z3M0JmZ1hJVnRZbE1OUk5GaXk="}  # tests/settings.py
)
DEMO_EMAIL_DOMAIN = "@demo.alliance.invalid"  # alliance.demo.simulate gives demo staff these


@dataclass(frozen=True)
class Installation:
    """The settings and files the configuration checks look at."""

    debug: bool
    secret_key: str
    field_encryption_keys: Sequence[str]
    session_cookie_secure: bool
    csrf_cookie_secure: bool
    site_url: str
    allowed_hosts: Sequence[str]
    email_backend: str
    email_host: str
    demo: bool
    data_dir: Path
    secret_files: Sequence[Path] = field(default_factory=list)

    @classmethod
    def current(cls) -> Installation:
        data_dir = Path(settings.DATA_DIR)
        files = [data_dir / "secret_key", data_dir / "field_encryption_keys"]
        for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "EMAIL_HOST_PASSWORD"):
            if path := os.environ.get(f"{name}_FILE"):
                files.append(Path(path))
        return cls(
            debug=settings.DEBUG,
            secret_key=settings.SECRET_KEY,
            field_encryption_keys=list(settings.FIELD_ENCRYPTION_KEYS),
            session_cookie_secure=settings.SESSION_COOKIE_SECURE,
            csrf_cookie_secure=settings.CSRF_COOKIE_SECURE,
            site_url=settings.SITE_URL,
            allowed_hosts=list(settings.ALLOWED_HOSTS),
            email_backend=settings.EMAIL_BACKEND,
            email_host=settings.EMAIL_HOST,
            demo=env_bool("ALLIANCE_DEMO", default=False),
            data_dir=data_dir,
            secret_files=[p for p in files if p.exists()],
        )


def email_configured(installation: Installation) -> bool:
    return installation.email_backend not in LOCAL_EMAIL_BACKENDS and not (
        installation.email_backend == "django.core.mail.backends.smtp.EmailBackend"
        and not installation.email_host
    )


def configuration_findings(inst: Installation) -> list[Finding]:
    found: list[Finding] = []
    if inst.debug:
        found.append(
            Finding(
                "alliance.W001",
                "Debug mode is on: error pages show settings, code and data to whoever causes them.",
                "Unset ALLIANCE_DEBUG (or set it to 0) and restart.",
            )
        )
    if inst.secret_key in KNOWN_SECRET_KEYS or inst.secret_key.startswith("django-insecure-"):
        found.append(
            Finding(
                "alliance.W002",
                "SECRET_KEY is a published example or default key: anyone can forge sessions.",
                "Remove SECRET_KEY from the environment to have one generated into the data "
                "directory, or set SECRET_KEY_FILE to a file with a long random key.",
            )
        )
    if any(key in KNOWN_FIELD_ENCRYPTION_KEYS for key in inst.field_encryption_keys):
        found.append(
            Finding(
                "alliance.W003",
                "FIELD_ENCRYPTION_KEYS holds a published key: free text about clients can be read "
                "by anyone with the database.",
                "Run `alliance generate_encryption_key`, put the new key first in "
                "FIELD_ENCRYPTION_KEYS, restart, then run `alliance rotate_encryption_keys` and "
                "drop the published key.",
            )
        )
    if not (inst.session_cookie_secure and inst.csrf_cookie_secure):
        found.append(
            Finding(
                "alliance.W004",
                "Cookies are sent over plain HTTP and HSTS is off (ALLIANCE_HTTPS=0): sign-in "
                "sessions can be stolen on the network.",
                "Serve Alliance over HTTPS (docs/deployment.md) and unset ALLIANCE_HTTPS "
                "(it is on by default).",
            )
        )
    scheme = urlsplit(inst.site_url).scheme
    if scheme != "https":
        found.append(
            Finding(
                "alliance.W005",
                f"ALLIANCE_SITE_URL is {inst.site_url!r}: links in emails (check-in links, "
                "alerts) would travel without TLS.",
                "Set ALLIANCE_SITE_URL to the https:// address clients and staff use.",
            )
        )
    if "*" in inst.allowed_hosts:
        found.append(
            Finding(
                "alliance.W006",
                "ALLOWED_HOSTS accepts any host name ('*'): forged Host headers reach the app.",
                "Set ALLOWED_HOSTS to the host names Alliance is served on.",
            )
        )
    if not email_configured(inst):
        found.append(email_finding())
    if inst.demo:
        found.append(
            Finding(
                "alliance.W008",
                "Demo mode is on (ALLIANCE_DEMO=1): the sign-in page advertises demo logins.",
                "Run `alliance serve`, not `alliance demo`, and unset ALLIANCE_DEMO.",
            )
        )
    return found


def email_finding() -> Finding:
    return Finding(
        "alliance.W007",
        _(
            "Email is not configured: check-in links, reminders, alert notifications and risk "
            "escalations are written to the data directory instead of being sent."
        ),
        _(
            "Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD_FILE) and restart."
        ),
    )


def _loose(path: Path) -> bool:
    """Group or others have any permission on it."""
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def file_findings(inst: Installation) -> list[Finding]:
    found: list[Finding] = []
    if inst.data_dir.exists() and _loose(inst.data_dir):
        found.append(
            Finding(
                "alliance.W009",
                f"The data directory {inst.data_dir} can be read or entered by other users; it "
                "holds the database, keys and outgoing mail.",
                f"chmod 700 {inst.data_dir}",
            )
        )
    for path in inst.secret_files:
        if _loose(path):
            found.append(
                Finding(
                    "alliance.W010",
                    f"The secret file {path} is readable by other users.",
                    f"chmod 600 {path} (owned by the user Alliance runs as).",
                )
            )
    return found


def operational_findings(now: datetime | None = None) -> list[Finding]:
    """What stops risk from reaching a human: no worker, no scheduler, no crisis resources, no email.
    Shown on the administrator's clinic page as well as by `alliance check`."""
    found: list[Finding] = []
    roles = status(now)
    worker, scheduler = roles["worker"], roles["scheduler"]
    if worker.stale:
        found.append(
            Finding(
                "alliance.W011",
                _never_or_since(_("No job worker"), worker.age_seconds)
                + _(" Check-in emails, alert notifications and recomputes are not being done."),
                _(
                    "Start `alliance serve` (it runs the worker), or `alliance worker` / the "
                    "alliance-worker systemd unit."
                ),
            )
        )
    if scheduler.stale:
        found.append(
            Finding(
                "alliance.W012",
                _never_or_since(_("No scheduler"), scheduler.age_seconds)
                + _(
                    " Unacknowledged risk alerts are not being escalated and reminders are not "
                    "being sent."
                ),
                _(
                    "Start `alliance serve` (it runs the scheduler), or `alliance scheduler` / the "
                    "alliance-scheduler systemd unit."
                ),
            )
        )
    clinic = ClinicSettings.load()
    missing = [
        label
        for label, text in (
            (_("English"), clinic.crisis_resources_en),
            (_("Spanish"), clinic.crisis_resources_es),
        )
        if not text.strip()
    ]
    if missing:
        found.append(
            Finding(
                "alliance.W013",
                _(
                    "The clinic's own crisis resources are not set (%(languages)s): a client who "
                    "reports risk sees only Alliance's general text (emergency numbers and national "
                    "crisis lines), without the clinic's number or local services."
                )
                % {"languages": ", ".join(missing)},
                _(
                    'An administrator writes them under Settings → "Crisis resources shown to '
                    'clients", in every language.'
                ),
            )
        )
    if not email_configured(Installation.current()):
        found.append(email_finding())
    found.extend(outbox_findings(now))
    return found


def outbox_findings(now: datetime | None = None) -> list[Finding]:
    """Emails that did not go out: a failed risk or escalation email must be followed up by hand."""
    counts = outbox.problems(now)
    found: list[Finding] = []
    if counts["failed_urgent"]:
        found.append(
            Finding(
                "alliance.W015",
                _(
                    "%(count)d urgent email(s) (risk alerts, escalations or client concerns) could "
                    "not be sent after every retry."
                )
                % {"count": counts["failed_urgent"]},
                _(
                    "Check the mail server settings and the log, then tell the people concerned by "
                    "phone: the alerts are on their caseloads."
                ),
            )
        )
    others = counts["failed"] - counts["failed_urgent"] + counts["uncertain"]
    if others:
        found.append(
            Finding(
                "alliance.W016",
                _("%(count)d email(s) in the last 7 days failed or may not have been sent.")
                % {"count": others},
                _("Check the mail server settings and the log (search for 'outbox')."),
            )
        )
    if counts["overdue"] or counts["stuck"]:
        found.append(
            Finding(
                "alliance.W017",
                _("%(count)d email(s) are overdue: they were due more than 15 minutes ago.")
                % {"count": counts["overdue"] + counts["stuck"]},
                _("Make sure the worker and the scheduler are running (`alliance serve`)."),
            )
        )
    return found


def _never_or_since(who: str, age_seconds: int | None) -> str:
    if age_seconds is None:
        return _("%(who)s has run.") % {"who": who}
    minutes = age_seconds // 60
    return _("%(who)s has run for %(minutes)d minutes.") % {"who": who, "minutes": minutes}


def demo_accounts_findings() -> list[Finding]:
    if User.objects.filter(email__iendswith=DEMO_EMAIL_DOMAIN).exists():
        return [
            Finding(
                "alliance.W014",
                "Demo accounts (with the published demo password) exist in this database.",
                "Do not run a clinic on the demo database: start from an empty one "
                "(a new ALLIANCE_DATA_DIR or DATABASE_URL) and `alliance createsuperuser`.",
            )
        ]
    return []


def deployment_check(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[Any]:
    """Registered with deploy=True: run by `alliance check` (and `check --deploy`), never by migrate."""
    inst = Installation.current()
    found = configuration_findings(inst) + file_findings(inst)
    try:
        operational = operational_findings() + demo_accounts_findings()
    except DatabaseError as error:
        found.append(
            Finding(
                "alliance.W015",
                f"The database could not be read ({type(error).__name__}), so workers, the "
                "scheduler and crisis resources were not checked.",
                "Check DATABASE_URL and run `alliance migrate`.",
            )
        )
    else:
        said = {f.id for f in found}  # email is in both lists; say it once
        found += [f for f in operational if f.id not in said]
    return [finding.as_check_message() for finding in found]
