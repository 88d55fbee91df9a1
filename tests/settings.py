"""Test settings: the production settings, with a throwaway data directory and fast hashing.

DATABASE_URL is honoured, so `.ci/run` runs the same suite against PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("ALLIANCE_DATA_DIR", tempfile.mkdtemp(prefix="alliance-test-"))
os.environ.setdefault("ALLIANCE_HTTPS", "0")

from alliance.settings import *  # noqa: F403
from alliance.settings import STATIC_ROOT, STORAGES

STATIC_ROOT.mkdir(exist_ok=True)

# Argon2 is what production uses (tests/accounts/test_login.py checks alliance.settings says so);
# the suite creates hundreds of users, so it hashes with something quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Jobs run inline, so a test sees their effect at once.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FIELD_ENCRYPTION_KEYS = [
    "Q2xEV3h1b3Zrb0xvQ1Z3M0JmZ1hJVnRZbE1OUk5GaXk=",
]

# No background thread in test processes: tests call alliance.operations.standin directly.
ALLIANCE_SCHEDULER_STANDIN = False
# A test sees the records its request made (tests/core/test_deferred.py runs the queue itself).
ALLIANCE_DEFER_READ_RECORDS = False
