"""allauth and axes glue."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by an administrator, never by public sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


def login_identifier(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """What axes counts failures against: the email being tried (allauth passes it as `email`)."""
    value = (credentials or {}).get("email") or (credentials or {}).get("username")
    if not value and request is not None:
        value = request.POST.get("login")
    return str(value).strip().lower() if value else None
