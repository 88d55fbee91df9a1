"""Django settings, read from the environment.

Secure by default: debug is opt-in (ALLIANCE_DEBUG=1), cookies are HTTPS-only unless ALLIANCE_HTTPS=0
(which `alliance demo` sets, because it serves plain HTTP on 127.0.0.1), and secrets that are not given
are generated once into the data directory with mode 0600 rather than falling back to a constant.

Every secret can be given directly or as a file (`SECRET_KEY` or `SECRET_KEY_FILE`), as healthchecks does,
so that container secrets and systemd credentials work without copying values into the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from alliance.core.logs import logging_config
from alliance.core.secrets import env_bool, env_list, read_or_create_secret, secret_from_env

BASE_DIR = Path(__file__).resolve().parent


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "alliance"


DATA_DIR = Path(os.environ.get("ALLIANCE_DATA_DIR") or _default_data_dir()).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

DEBUG = env_bool("ALLIANCE_DEBUG", default=False)
HTTPS = env_bool("ALLIANCE_HTTPS", default=True)

SECRET_KEY = secret_from_env("SECRET_KEY") or read_or_create_secret(
    DATA_DIR / "secret_key", "django"
)

# Newest key first. Older keys stay readable so that a rotation never strands data; `alliance
# rotate_encryption_keys` then re-encrypts every encrypted field with the newest key.
FIELD_ENCRYPTION_KEYS: list[str] = env_list(
    secret_from_env("FIELD_ENCRYPTION_KEYS")
    or read_or_create_secret(DATA_DIR / "field_encryption_keys", "fernet")
)

ALLOWED_HOSTS = env_list(os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"))
CSRF_TRUSTED_ORIGINS = env_list(os.environ.get("CSRF_TRUSTED_ORIGINS", ""))
SITE_URL = os.environ.get("ALLIANCE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "alliance.core",
    "alliance.accounts",
    "alliance.care",
    "alliance.checkin",
    "alliance.demo",
    "alliance.operations",
    "alliance.insights",
    "alliance.fhirapi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "alliance.core.middleware.RequestIdMiddleware",
    # /health answers here, before sessions, sign-in and the host check (see its docstring).
    "alliance.operations.middleware.HealthMiddleware",
    "alliance.core.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "alliance.core.middleware.IdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's own language replaces the browser's (alliance/accounts/language.py).
    "alliance.accounts.language.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "alliance.accounts.middleware.HtmxSignInRedirectMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "alliance.accounts.middleware.RequireMfaForAdministratorsMiddleware",
    # Axes must be last: it turns a lockout raised during authentication into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "alliance.core.context_processors.demo",
            ],
            "builtins": ["alliance.core.templatetags.alliance_tags"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------
# SQLite by default, in WAL mode with a busy timeout so that the web process and the job worker can
# write concurrently; IMMEDIATE transactions avoid "database is locked" upgrades under load.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'alliance.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with writers queued in the process (alliance/core/sqlite/base.py says why).
    DATABASES["default"]["ENGINE"] = "alliance.core.sqlite"
    # Tests use an in-memory database, as Django does for SQLite; said explicitly because tools that
    # recognise SQLite by the ENGINE string (pytest-django's per-worker names) no longer can.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    # Persistent connections: each worker keeps its SQLite connection, and with it a warm page cache.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            # A larger page cache and memory-mapped reads: the caseload touches a few MB of index
            # pages per request, which the default 2 MB cache kept re-reading through syscalls.
            "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that asks the server only when it has written unasked
    # (alliance/core/postgresql/base.py says why).
    DATABASES["default"]["ENGINE"] = "alliance.core.postgresql"
if (
    DATABASES["default"]["ENGINE"] == "alliance.core.postgresql"
    and os.environ.get("DATABASE_PREPARED_STATEMENTS", "1") != "0"
):
    # Parameters bound by the server, and a statement run twice on a connection kept prepared there:
    # PostgreSQL then parses and plans the same statement once per connection rather than on every
    # request. Measured with benchmarks/load.py (issue 10, point 6): the check-in landing page's
    # database CPU went from 0.9 to 0.3 ms, the caseload's from 8.5 to 6.6 ms. A connection pooler in
    # transaction mode that cannot keep prepared statements needs DATABASE_PREPARED_STATEMENTS=0.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 2}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache (the database) so rate limits and lockouts hold across worker processes without
# adding a broker or Redis to a small clinic's server.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "alliance_cache",
    },
    # Drawn charts (alliance.care.chart_svg), shared by the server's worker processes and kept across
    # restarts: drawing an episode's charts takes ~200 ms, reading them back ~1 ms. Its own store, so
    # that culling charts can never evict a rate-limit counter from "default". Files are compressed,
    # in the data directory (mode 0700); keys hold the charted numbers, so an entry is never stale.
    "charts": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "chart-cache"),
        "TIMEOUT": 60 * 60 * 24 * 30,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

# --- Accounts, login, MFA, lockout ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # allauth's, reading the signed-in user with prepared SQL (alliance/accounts/sessions.py says
    # why). Sessions started under allauth's own path end at the upgrade: one sign-in more.
    "alliance.accounts.backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "alliance.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
# Lockout after failed sign-ins is django-axes' job (one policy, one place to unlock); allauth's own
# failed-login limiter would otherwise answer first with a different message.
ACCOUNT_RATE_LIMITS = {"login_failed": False}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("ALLIANCE_CLINIC_NAME", "Alliance")

AXES_FAILURE_LIMIT = int(os.environ.get("ALLIANCE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("ALLIANCE_LOCKOUT_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "alliance.accounts.adapters.login_identifier"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_RESET_ON_SUCCESS = True
# Show the lockout page (not a bare form error) to a locked-out attempt, without extending the pause.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("ALLIANCE_PROXY_COUNT", "0")) or None

# Idle timeout: the session is renewed by activity (at most once a minute), so it expires after this many
# minutes without activity. Clinical screens left open on a shared computer should not stay signed in.
SESSION_COOKIE_AGE = int(os.environ.get("ALLIANCE_IDLE_MINUTES", "30")) * 60
# Django's database sessions, read with prepared SQL (alliance/accounts/sessions.py).
SESSION_ENGINE = "alliance.accounts.sessions"
# Renewed at most once a minute by alliance.core.middleware.IdleTimeoutMiddleware, not by a write on
# every request (SESSION_SAVE_EVERY_REQUEST).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- HTTP security ---------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A client's expired CSRF cookie must not cost them their answers (see alliance.checkin.views).
CSRF_FAILURE_VIEW = "alliance.checkin.views.csrf_failure"
SECURE_SSL_REDIRECT = HTTPS and env_bool("ALLIANCE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts and
# Django rejects them as cross-site. Tokens in check-in URLs still never leave the site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("ALLIANCE_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Monitors ask the app server itself over plain HTTP (alliance.operations.middleware).
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
# `alliance check` (alliance.operations.checks) says these again in this installation's own terms
# (ALLIANCE_DEBUG, ALLIANCE_HTTPS), so Django's versions would only repeat them. HSTS preload (W021)
# is a commitment a clinic chooses for its domain, not a setting Alliance can make for it.
SILENCED_SYSTEM_CHECKS = [
    "security.W004",  # HSTS off: ALLIANCE_HTTPS=0
    "security.W012",  # session cookie not secure: ALLIANCE_HTTPS=0
    "security.W016",  # CSRF cookie not secure: ALLIANCE_HTTPS=0
    "security.W018",  # DEBUG: ALLIANCE_DEBUG=1
    "security.W021",  # HSTS preload
    # Indexes that include the id for PostgreSQL's index-only scans (alliance/care/models.py): SQLite's
    # indexes always hold the rowid, so there is nothing it misses.
    "models.W040",
]

# Strict CSP (as pretix does): no inline script or style anywhere, nothing from a third party.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Static files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve straight from the app directories when collectstatic has not been run (development, tests).
WHITENOISE_USE_FINDERS = DEBUG

# --- Internationalisation --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
# Two catalogs so that template text and Python text can be extracted and translated separately:
# `makemessages` puts each file's strings in the first locale path whose parent directory holds it,
# so templates go to templates/locale and everything else (forms, views, emails, PDFs) to locale/.
# Both are compiled (Babel, see docs/translating.md) and shipped; at run time Django merges them.
LOCALE_PATHS = [BASE_DIR / "templates" / "locale", BASE_DIR / "locale"]
# Dates and numbers follow the active language; templates name formats (alliance/formats/__init__.py).
FORMAT_MODULE_PATH = ["alliance.formats"]
TIME_ZONE = os.environ.get("ALLIANCE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Jobs ------------------------------------------------------------------------------------------
# Jobs live in the database (django-tasks-db): no broker to run. `alliance worker` processes them.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "ALLIANCE_TASKS_BACKEND", "alliance.operations.task_backend.DatabaseBackend"
        ),
    }
}

# --- Email -----------------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = secret_from_env("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Alliance <alliance@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Without a mail server, mail goes to DATA_DIR/outbox/ (mode 0600) and the log gets one line without
# the address (alliance/core/mail.py says why not Django's console backend).
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "alliance.core.mail.OutboxBackend"
)

# --- Logging ---------------------------------------------------------------------------------------
# One line per record with the request id; JSON lines with ALLIANCE_LOG_FORMAT=json. Check-in and
# calendar tokens are redacted from every line (alliance/core/logs.py).
LOGGING = logging_config(
    os.environ.get("ALLIANCE_LOG_FORMAT", "plain"), os.environ.get("ALLIANCE_LOG_LEVEL", "INFO")
)

# --- Alliance ------------------------------------------------------------------------------------
# How long after an appointment a check-in link stays valid (issue #4 default: 72 hours).
CHECKIN_LINK_HOURS = int(os.environ.get("ALLIANCE_CHECKIN_LINK_HOURS", "72"))
# Failed check-in link lookups allowed per address, and from all addresses together, before further
# failed lookups get a "please wait" page. A valid link always opens (docs/client-checkin.md).
CHECKIN_TOKEN_FAILURE_RATE = "20/h"  # noqa: S105 (a rate, not a secret)
CHECKIN_TOKEN_GLOBAL_FAILURE_RATE = "1000/h"  # noqa: S105
ALLIANCE_CLINIC_NAME = os.environ.get("ALLIANCE_CLINIC_NAME", "Alliance")
# A web process runs the urgent part of the scheduler's round when no scheduler is alive
# (alliance.operations.standin), so risk escalation happens even under bare gunicorn.
ALLIANCE_SCHEDULER_STANDIN = env_bool("ALLIANCE_SCHEDULER_STANDIN", default=True)

# Records of reads (audit events of pages that showed client data, a link's first opening) are
# written in batches off the request path, a quarter of a second late at most; alliance.core.deferred
# says why and what a killed process can lose. 0 writes each one at once.
ALLIANCE_DEFER_READ_RECORDS = env_bool("ALLIANCE_DEFER_READ_RECORDS", default=True)
# Where the clinic's phone numbers are dialled (ISO 3166 codes, the first reads numbers written without
# a country code): crisis pages turn numbers valid there into tap-to-call links (alliance.core.phones).
# The default covers the countries the default crisis resources name.
ALLIANCE_PHONE_REGIONS = env_list(os.environ.get("ALLIANCE_PHONE_REGIONS", "GB,IE,US,ES"))
