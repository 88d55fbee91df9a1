"""Named audit events (in the style of pretix's `log_action`).

`log_event("care.client.viewed", obj=client)` records who did it (the signed-in user of the current
request unless given), which object, which client, the request id and the address. `data` may carry ids,
field names, scores and short codes, never free text: `_check_redacted` refuses anything that looks like
prose, so a careless call fails in tests instead of leaking a note into the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from django.db import models

from alliance.accounts.models import AuditEvent, User
from alliance.core import request_context

_TOKEN = re.compile(r"^[\w.:@/+\-]{0,120}$")


class AuditSubject(Protocol):
    """Models whose rows concern one client expose that client's id for the per-client trail."""

    pk: Any

    @property
    def audit_client_id(self) -> int | None: ...


def _check_redacted(value: Any, path: str = "data") -> None:
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if not _TOKEN.match(value):
            raise ValueError(f"Audit {path} looks like free text; audit events carry codes only.")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_redacted(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_redacted(str(key), f"{path} key")
            _check_redacted(item, f"{path}.{key}")
        return
    raise ValueError(f"Audit {path} has a value of type {type(value).__name__}.")


def _current_actor() -> User | None:
    context = request_context.current()
    request = context.request if context else None
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user
    return None


def log_event(
    action: str,
    *,
    obj: models.Model | None = None,
    actor: User | None = None,
    client_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    payload = dict(data or {})
    _check_redacted(payload)
    context = request_context.current()
    actor = actor or _current_actor()
    if client_id is None and obj is not None:
        client_id = getattr(obj, "audit_client_id", None)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor.email if actor else ("client link" if context else "system"),
        object_type=(obj._meta.model_name or "") if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        client_id=client_id,
        request_id=context.request_id if context else "",
        ip_address=context.ip_address if context else None,
        data=payload,
    )


def log_many(
    action: str, objects: list[models.Model], *, data: Mapping[str, Any] | None = None
) -> None:
    """One event per object, in one INSERT: used by list pages that show several clients."""
    payload = dict(data or {})
    _check_redacted(payload)
    context = request_context.current()
    actor = _current_actor()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=action,
            actor=actor,
            actor_label=actor.email if actor else "system",
            object_type=obj._meta.model_name or "",
            object_id=str(obj.pk),
            client_id=getattr(obj, "audit_client_id", None),
            request_id=context.request_id if context else "",
            ip_address=context.ip_address if context else None,
            data=payload,
        )
        for obj in objects
    )
