"""The current request, available to code that has no request argument (audit events, signals)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip_address: str | None = None
    request: HttpRequest | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "alliance_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def set_current(context: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _current.set(context)


def reset(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)
