"""Administrators must have a TOTP authenticator before they can use the application; an htmx request
whose session has ended goes to the sign-in page as a page, not into the box it meant to update."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

_SESSION_FLAG = "alliance_mfa_ok"


class RequireMfaForAdministratorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.is_administrator
            and not request.session.get(_SESSION_FLAG)
            and not self._is_exempt(request.path)
        ):
            if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                request.session[_SESSION_FLAG] = True
            else:
                return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _is_exempt(path: str) -> bool:
        # The pages needed to set MFA up, to sign out, and static files.
        return path.startswith(("/accounts/", "/static/"))


class HtmxSignInRedirectMiddleware:
    """An htmx request that meets the sign-in redirect (the idle timeout ended the session) reloads the
    whole page at the sign-in form, then comes back to the page the person was on.

    Without this, the browser follows the redirect inside the htmx request and htmx swaps the entire
    sign-in page into the alert card being acknowledged: a page within a page, whose form posts
    nowhere useful. `HX-Redirect` makes htmx navigate instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (302, 303):
            return response
        sign_in = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != sign_in:
            return response
        # Back to the page the person was on (htmx sends its address), not to the fragment's URL.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        target = f"{sign_in}?{urlencode({'next': back})}" if back else sign_in
        return HttpResponseClientRedirect(target)
