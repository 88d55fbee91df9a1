"""Administrators must have a TOTP authenticator before they can use the application."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

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
