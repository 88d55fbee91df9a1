"""Give every request an id, echo it in a response header and make it available to audit events and
log records; log one line per request (method, path without tokens, status, duration)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from alliance.core import request_context
from alliance.core.logs import redact

# gunicorn's own access log is off (alliance serve, deploy/gunicorn.conf.py): it cannot redact tokens.
request_logger = logging.getLogger("alliance.request")
# Monitoring asks every few seconds; its lines would drown the others.
_QUIET_PATHS = frozenset({"/health", "/health/"})

# Accept an id from a trusted proxy only if it looks like one; anything else could be used to forge
# or flood audit records.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_context.set_current(
            request_context.RequestContext(
                request_id=request_id,
                ip_address=request.META.get("REMOTE_ADDR"),
                request=request,
            )
        )
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
        finally:
            self._log(request, status, started)
            request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = redact(request.path)  # never the query string
        request_logger.log(
            logging.DEBUG if request.path in _QUIET_PATHS else logging.INFO,
            "%s %s %d %.1fms",
            request.method,
            path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
            },
        )


class NoStoreMiddleware:
    """No page of the app may be kept by a browser or proxy cache: staff pages carry client data, client
    pages carry a token's forms, and the back button of a shared computer must not show them again.

    Static files never reach this (WhiteNoise answers them earlier, with their long cache lifetime). A view
    that sets its own Cache-Control (a calendar feed, say) keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response


class IdleTimeoutMiddleware:
    """Renew a signed-in session's idle timeout at most once a minute, instead of on every request.

    The idle timeout is SESSION_COOKIE_AGE after the last renewal (the session row's expiry date).
    Django's SESSION_SAVE_EVERY_REQUEST would renew it by writing the session row on every request —
    on SQLite one more write waiting for the single writer behind every page a therapist opens. Writing
    only when the last renewal is a minute old keeps the timeout within a minute of exact (a session
    ends between ALLIANCE_IDLE_MINUTES - 1 and ALLIANCE_IDLE_MINUTES after the last request) and
    removes almost all of those writes. Listed after SessionMiddleware, so that the session it marks
    as modified is saved on the way out.
    """

    RENEW_AFTER_SECONDS = 60
    KEY = "_renewed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions that already exist: an anonymous visitor must not get one from this.
        if session is None or session.session_key is None or session.is_empty():
            return response
        now = int(time.time())
        if now - int(session.get(self.KEY, 0)) >= self.RENEW_AFTER_SECONDS:
            session[self.KEY] = now
        return response


def stamp_renewal_at_login(request: HttpRequest | None, **_kwargs: object) -> None:
    """Signing in saves the session anyway: stamp it then, so the first page after needs no write."""
    if request is not None and hasattr(request, "session"):
        request.session[IdleTimeoutMiddleware.KEY] = int(time.time())
