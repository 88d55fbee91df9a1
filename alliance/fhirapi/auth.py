"""The door of every API view: a bearer token (never a staff session), its scope, the audit, errors.

A staff session cookie grants nothing here: the API serves the clinic's systems, each through its
own credential, and a browser that happens to be signed in must not be able to read the clinic's
data through it (nor be recorded as the one who did). Requests are made anonymous before the view.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from alliance.accounts.audit import is_code, log_clients_viewed, log_event
from alliance.fhirapi.outcome import ApiError, forbidden, unauthorized
from alliance.fhirapi.tokens import Caller, authenticate

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponseBase]


def caller_of(request: HttpRequest) -> Caller:
    caller = authenticate(request.headers.get("Authorization", ""))
    if caller is None:
        raise unauthorized(
            "a valid access token is required (Authorization: Bearer <token> from /fhir/token); "
            "it may have expired or its credential been revoked"
        )
    return caller


def require(caller: Caller, kind: str, interaction: str) -> None:
    if not caller.may(kind, interaction):
        words = {"r": "read", "s": "search", "c": "create"}[interaction]
        raise forbidden(
            f"this credential's token has no scope to {words} {kind} (system/{kind}.{interaction})"
        )


def api_view(view: View) -> View:
    """CSRF-exempt (no cookies are trusted), anonymous, and every ApiError answered as FHIR."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.user = AnonymousUser()
        response: HttpResponseBase
        try:
            response = view(request, *args, **kwargs)
        except ApiError as error:
            response = error.response()
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def audit_params(params: Mapping[str, list[str]]) -> dict[str, Any]:
    """Search parameters for the audit trail: values shaped like codes kept, others only named."""
    kept: dict[str, list[str]] = {}
    withheld: list[str] = []
    for name, values in params.items():
        if not is_code(name):
            withheld.append("?")
            continue
        good = [v for v in values if is_code(v)]
        if len(good) == len(values):
            kept[name] = good
        else:
            withheld.append(name)
    return {"params": kept, "withheld": sorted(withheld)}


def audit(
    action: str,
    caller: Caller,
    *,
    data: Mapping[str, Any],
    client_ids: Iterable[int | None] = (None,),
    read: bool = True,
) -> None:
    """Name the credential as actor; never the data itself. With clients: one event per client whose
    data went out (so each client's own trail shows it), written in one statement whatever the page
    size; without: one event about the credential."""
    payload = {"credential": caller.client.client_id, **data}
    label = f"api:{caller.client.client_id}"
    clients = sorted({pk for pk in client_ids if pk is not None})
    if clients:
        log_clients_viewed(action, clients, data=payload, actor_label=label)
        return
    log_event(action, obj=caller.client, data=payload, read=read, actor_label=label)
