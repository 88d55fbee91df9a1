"""Django's database sessions, read with SQL prepared once per process (SESSION_ENGINE).

Why: every page a signed-in person opens reads their session row and then their user row, each
through a queryset the ORM builds and compiles anew. Under load (issue 10, point 6: ten therapists
opening the caseload at once) those two lookups were an eighth of the caseload's CPU in the web
workers, most of it the ORM's work rather than the database's. The session row is read here with
:class:`alliance.core.prepared.PreparedQuery` (the same SQL as Django's: the key, and an expiry
after now); the user row by :class:`alliance.accounts.backends.AuthenticationBackend`. Everything
else (creating, saving, deleting, clearing expired sessions, decoding) is Django's own.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import router
from django.db.models import QuerySet
from django.utils import timezone

from alliance.core.prepared import PreparedQuery


def _session_data(_variant: None, *, key: str, now: datetime) -> QuerySet[Session, Any]:
    return Session.objects.filter(session_key=key, expire_date__gt=now).values_list("session_data")


_SESSION_DATA = PreparedQuery(_session_data)


_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        # Django makes keys of 32 characters from VALID_KEY_CHARS and accepts any cookie of 8 or
        # more; a key it never makes is no session. That also keeps a NUL byte in a forged cookie
        # out of the query, which PostgreSQL refuses with an error (a 500) rather than no row.
        return bool(key) and len(key) >= 8 and _KEY_CHARS.issuperset(key)  # type: ignore[arg-type]

    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if key is None:  # no cookie, or one Django refused as a key (too short)
            return None
        alias = router.db_for_read(self.model)
        rows = _SESSION_DATA.rows(None, alias, key=key, now=timezone.now())
        if not rows:
            # As Django does for a missing or expired row: a new session gets a new key.
            self._session_key = None
            return None
        # load() reads only `session_data` from what this returns.
        return SimpleNamespace(session_data=rows[0][0])
