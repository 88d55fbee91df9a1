"""/health: for monitoring. No sign-in, no session, no client data, never cached.

`{"status": "ok" | "degraded" | "down", "database": "ok" | "unavailable", "worker": {...},
"scheduler": {...}}`, 200 while the database answers (the web servers can serve) and 503 when it does
not. "degraded" means the database answers but no job worker or no scheduler has beaten recently:
pages work, but reminders, alert emails and risk escalation are not going out. One query.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from alliance.operations import heartbeat

logger = logging.getLogger(__name__)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    try:
        roles = heartbeat.status()
    except DatabaseError:
        logger.exception("Health check: the database did not answer")
        response = JsonResponse(
            {"status": "down", "database": "unavailable", "worker": None, "scheduler": None},
            status=503,
        )
    else:
        body: dict[str, object] = {
            "status": "degraded" if any(r.stale for r in roles.values()) else "ok",
            "database": "ok",
        }
        for role, state in roles.items():
            body[role] = {"state": state.state, "seen_seconds_ago": state.age_seconds}
        response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
