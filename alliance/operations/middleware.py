"""Answer /health before the rest of the middleware stack.

A monitor or load balancer asks the app server directly (http://127.0.0.1:8000/health), with a Host
header that ALLOWED_HOSTS need not list and without HTTPS; it should get the health answer, not a
400 or a redirect to https. Answering here, before CommonMiddleware (the host check), sessions,
authentication and CSRF, also means that a health check never touches a session (no Set-Cookie, even
for a signed-in browser), never writes an audit event and costs one query. SECURE_REDIRECT_EXEMPT
keeps SecurityMiddleware, which runs first, from redirecting it; the page builds no URL from the Host
header, so skipping the host check is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from alliance.operations.views import health

HEALTH_PATHS = frozenset({"/health", "/health/"})


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in HEALTH_PATHS:
            return health(request)
        return self.get_response(request)
