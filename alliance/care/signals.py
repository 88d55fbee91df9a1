"""Every change to client data writes an audit event: `care.<model>.created|changed|deleted`.

The event names the fields that were saved, never their values. Bulk operations bypass signals; the few
places that use them (the demo loader, imports) write their own summary event.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save

from alliance.accounts.audit import PreparedEvent, log_event, prepare_event
from alliance.care.models import (
    Alert,
    AlertNote,
    Appointment,
    Client,
    Episode,
    Goal,
    Reflection,
    Response,
)

TRACKED: tuple[type[models.Model], ...] = (
    Client,
    Episode,
    Goal,
    Appointment,
    Response,
    Reflection,
    Alert,
    AlertNote,
)


def _saved(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    update_fields = kwargs.get("update_fields")
    data: dict[str, Any] = {}
    if update_fields:
        data["fields"] = sorted(update_fields)
    verb = "created" if created else "changed"
    log_event(f"care.{sender._meta.model_name}.{verb}", obj=instance, data=data)


def prepared_created_event(instance: models.Model) -> PreparedEvent:
    """The event `_saved` writes for a new row, prepared before the row is inserted
    (alliance.accounts.audit.prepare_event): the caller inserts the row without post_save
    (`RowInsert.execute(post_save=False)`, or `written(..., post_save=False)` after a chain), then
    writes this (`write`, or as the chain's part: `part`), which is what post_save's receiver would
    have written."""
    meta = instance._meta
    return prepare_event(
        f"care.{meta.model_name}.created",
        model=meta.concrete_model or type(instance),
        client_id=instance.audit_client_id,  # type: ignore[attr-defined]
        data={},
    )


def _deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    try:
        client_id = instance.audit_client_id  # type: ignore[attr-defined]
    except models.ObjectDoesNotExist:
        client_id = None  # the parent went first in a cascade
    log_event(f"care.{sender._meta.model_name}.deleted", obj=instance, client_id=client_id)


def register(model: type[models.Model]) -> None:
    post_save.connect(_saved, sender=model, dispatch_uid=f"audit-save-{model._meta.label}")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"audit-delete-{model._meta.label}")


for _model in TRACKED:
    register(_model)
