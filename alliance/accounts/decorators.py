from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

View = Callable[..., HttpResponseBase]


def administrator_required(view: View) -> View:
    """Signed in and an administrator; everyone else gets 404, like any page they may not see."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_administrator:  # type: ignore[union-attr]
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
