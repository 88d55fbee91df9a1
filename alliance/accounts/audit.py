"""Named audit events (in the style of pretix's `log_action`).

`log_event("care.client.viewed", obj=client)` records who did it (the signed-in user of the current
request unless given), which object, which client, the request id and the address. `data` may carry ids,
field names, scores and short codes, never free text: `_check_redacted` refuses anything that looks like
prose, so a careless call fails in tests instead of leaking a note into the audit trail.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from alliance.accounts.models import AuditEvent, User
from alliance.core import chain, deferred, request_context
from alliance.core.inserts import prepared_value

_TOKEN = re.compile(r"^[\w.:@/+\-]{0,120}$")


class AuditSubject(Protocol):
    """Models whose rows concern one client expose that client's id for the per-client trail."""

    pk: Any

    @property
    def audit_client_id(self) -> int | None: ...


def is_code(value: str) -> bool:
    """Whether `value` may go into an event's data: a short token (an id, a code, an address).

    For callers that hold user-typed values (the audit export's filters): they keep what passes and
    leave the rest out, rather than letting `log_event` refuse the whole event."""
    return bool(_TOKEN.match(value))


def _check_redacted(value: Any, path: str = "data") -> None:
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if not is_code(value):
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


def _event(
    action: str,
    *,
    actor: User | None,
    data: dict[str, Any],
    client_id: int | None = None,
    system: bool = False,
) -> dict[str, Any]:
    """An unsaved event's values by field attname (every field but the id), carrying who, when and
    which request; the caller names the object.

    Values, not an `AuditEvent` instance: every client page records its visit, and building the
    model instance was a tenth of the check-in landing's own CPU (issue 10, point 6).

    `system` marks work the application did on its own account (an alert raised by the rules) even
    when a request triggered it: the request id still ties it to that request, but no person or
    address is named as its author."""
    context = request_context.current()
    if system:
        actor = None
    return {
        "at": timezone.now(),
        "actor_id": actor.pk if actor else None,
        "actor_label": actor.email
        if actor
        else ("client link" if context and not system else "system"),
        "action": action,
        "object_type": "",
        "object_id": "",
        "client_id": client_id,
        "request_id": context.request_id if context else "",
        "ip_address": context.ip_address if context and not system else None,
        "data": data,
    }


def log_event(
    action: str,
    *,
    obj: models.Model | None = None,
    actor: User | None = None,
    client_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    read: bool = False,
    actor_label: str | None = None,
) -> None:
    """Record one event. `read=True` marks the record of a read (a page that showed client data), which
    may commit without waiting for the disk (`_insert` says when and why). `actor_label` names an
    actor that is not a user (a FHIR API credential, ``api:<client id>``).

    Written with one prepared INSERT (`_insert`), not `AuditEvent.save()`: every
    client page records its visit, and on the check-in landing the ORM's insert was a quarter of the
    page's time under load (issue 10, point 6). Nothing is returned: an event, once written, is not
    for the caller to touch."""
    payload = dict(data or {})
    _check_redacted(payload)
    if client_id is None and obj is not None:
        client_id = getattr(obj, "audit_client_id", None)
    event = _event(action, actor=actor or _current_actor(), data=payload, client_id=client_id)
    if actor_label:
        event["actor_label"] = actor_label
    if obj is not None:
        event["object_type"] = obj._meta.model_name or ""
        event["object_id"] = str(obj.pk)
    _insert(event, [{}], read=read)


@dataclass(frozen=True)
class PreparedEvent:
    """The event `log_event(action, obj=row)` writes about a row not inserted yet, with every value
    but the row's id computed when it is made (`prepare_event`): before the caller's write
    transaction, which on SQLite holds the one writer. Building the event inside it (the checks, the
    actor, the model instance, each field's value) was the largest part of a check-in submission's
    time holding the writer: 0.22 of about 0.8 ms of CPU (issue 10, point 6). `write(row)`, inside
    the transaction once the row has its id, runs the one INSERT."""

    model: type[models.Model]
    statement: str
    values: tuple[Any, ...]
    object_id_at: int

    def write(self, obj: models.Model) -> None:
        values = list(self.values)
        values[self.object_id_at] = str(obj.pk)
        with connection.cursor() as cursor:
            cursor.execute(self.statement, values)

    def part(self, source: str) -> chain.Part:
        """The same event as a part of a chain (alliance.core.chain), for each row that the chain's
        part `source` inserts and returns with its primary key: the row's id is only known inside
        the chain."""
        if connections[DEFAULT_DB_ALIAS].vendor == "sqlite":
            # Parts run one by one there: this INSERT takes the id `source` returned.
            values: list[Any] = list(self.values)
            values[self.object_id_at] = chain.Returned(source, text=True)
            return chain.Part("audit_event", self.statement, values)
        sql, _fields = _chained_statement(self.model, source, DEFAULT_DB_ALIAS)
        # _chained_statement's parameters are the event's fields in order, all but object_id.
        params = [v for i, v in enumerate(self.values) if i != self.object_id_at]
        return chain.Part("audit_event", sql, params)


def prepare_event(
    action: str,
    *,
    model: type[models.Model],
    client_id: int | None,
    data: Mapping[str, Any] | None = None,
) -> PreparedEvent:
    """What `log_event(action, obj=row, client_id=client_id, data=data)` would write for a row of
    `model`, the same checks, actor, request id and address, taken now; the row's id when written."""
    payload = dict(data or {})
    _check_redacted(payload)
    event = _event(action, actor=_current_actor(), data=payload, client_id=client_id)
    event["object_type"] = model._meta.model_name or ""
    db = connections[DEFAULT_DB_ALIAS]
    fields = _fields()
    values = tuple(prepared_value(f, event[f.attname], db) for f in fields)
    at = next(i for i, f in enumerate(fields) if f.attname == "object_id")
    return PreparedEvent(model, _plain_insert(db.alias), values, at)


@functools.cache
def _chained_statement(
    model: type[models.Model], source: str, alias: str
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    """`PreparedEvent.part`'s INSERT ... SELECT and the fields its parameters are for, built once."""
    db = connections[alias]
    quote = db.ops.quote_name
    select, given = [], []
    for field in AuditEvent._meta.concrete_fields:
        if field.primary_key:
            continue
        # Every value cast to its column's type: in a SELECT list PostgreSQL takes an untyped
        # parameter for text, which it will not store in an inet or jsonb column.
        if field.attname == "object_id":
            pk = quote(model._meta.pk.column)
            select.append(f"CAST({quote(source)}.{pk} AS {field.db_type(db)})")
        else:
            select.append(f"CAST(%s AS {field.db_type(db)})")
            given.append(field)
    columns = ", ".join(
        quote(f.column) for f in AuditEvent._meta.concrete_fields if not f.primary_key
    )
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM {quote(source)}"
    )
    return sql, tuple(given)


class AuditRow(NamedTuple):
    """One event of a bulk write: what happened to which object, for which client."""

    action: str
    obj: models.Model
    client_id: int | None
    data: Mapping[str, Any]


def log_events(rows: Iterable[AuditRow], *, system: bool = False) -> int:
    """Many events in one statement, each payload checked like log_event's; returns how many.

    For writers that change hundreds of rows at once (the alert recompute): saving events one by one
    would dominate their time."""
    actor = None if system else _current_actor()
    template = _event("", actor=actor, data={}, system=system)
    varying: list[dict[str, Any]] = []
    for row in rows:
        payload = dict(row.data)
        _check_redacted(payload)
        varying.append(
            {
                "action": row.action,
                "object_type": row.obj._meta.model_name or "",
                "object_id": str(row.obj.pk),
                "client_id": row.client_id,
                "data": payload,
            }
        )
    _insert(template, varying)
    return len(varying)


def log_clients_viewed(
    action: str,
    client_ids: list[int],
    *,
    data: Mapping[str, Any] | None = None,
    actor_label: str | None = None,
) -> None:
    """One event per client a list page showed (so that each client's own trail has it), in one
    statement. `actor_label` as for `log_event`."""
    if not client_ids:
        return
    payload = dict(data or {})
    _check_redacted(payload)
    template = _event(action, actor=_current_actor(), data=payload)
    if actor_label:
        template["actor_label"] = actor_label
    template["object_type"] = "client"
    _insert(template, [{"object_id": str(pk), "client_id": pk} for pk in client_ids], read=True)


@functools.cache
def _fields() -> tuple[models.Field[Any, Any], ...]:
    """Every field of an event but its id, in the order of the INSERT's columns."""
    return tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)


@functools.cache
def _plain_insert(alias: str) -> str:
    """The INSERT of one event, built once per database alias."""
    quote = connections[alias].ops.quote_name
    columns = ", ".join(quote(f.column) for f in _fields())
    placeholders = ", ".join(["%s"] * len(_fields()))
    return f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


def _unnest_insert(
    fields: Sequence[models.Field[Any, Any]],
    shared: list[Any],
    own: list[tuple[int, models.Field[Any, Any]]],
    rows: list[dict[str, Any]],
    db: Any,
) -> tuple[str, list[Any]]:
    """PostgreSQL: the rows as one INSERT ... SELECT over unnest(), each row's own values in one
    array per column and the shared values once. A caseload's 80 read records then cost one
    statement of a dozen parameters, which psycopg keeps prepared, instead of 80 rows of ten values
    each adapted in Python (COPY's write_row: about 0.6 ms of the web process per view; issue 10,
    point 6). Every value is cast to its column's type: in a SELECT list PostgreSQL would take an
    untyped parameter for text, which it will not store in an inet or jsonb column."""
    quote = db.ops.quote_name
    mine = {i for i, _field in own}
    select = [
        f"t.c{i}" if i in mine else f"CAST(%s AS {field.db_type(db)})"
        for i, field in enumerate(fields)
    ]
    arrays = [f"CAST(%s AS {field.db_type(db)}[])" for _i, field in own]
    columns = ", ".join(quote(f.column) for f in fields)
    statement = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) "
        f"AS t({', '.join(f'c{i}' for i, _field in own)})"
    )
    params = [value for i, value in enumerate(shared) if i not in mine]
    params += [
        [prepared_value(field, row[field.attname], db, element=True) for row in rows]
        for _i, field in own
    ]
    return statement, params


def _insert(template: dict[str, Any], rows: list[dict[str, Any]], *, read: bool = False) -> None:
    """Insert one event per row: the template's values (`_event`), with the row's fields in their
    place.

    `read`: the events record a read, not a change. On PostgreSQL such events, when written on their
    own (not inside the transaction of a change), commit with `synchronous_commit` off: the commit
    returns before the disk has flushed, which on this kind of machine is 3.5 ms against 0.3 ms, on
    every page that shows client data (issue 10, point 6). What that risks: if PostgreSQL itself
    crashes, the read events of the last fraction of a second (at most three times
    `wal_writer_delay`, 600 ms by default) may be missing; the database is never corrupted, and
    changes, with their own events, always commit durably. SQLite in WAL mode with
    `synchronous=NORMAL` (alliance.settings) already makes that trade for every commit.

    One executemany of prepared values, not bulk_create: at 200 clients the ORM's per-object work in
    bulk_create was a sixth of the caseload page's time. Values shared by every row are prepared
    once."""
    if not rows:
        return
    # The connection itself, not the thread-local proxy: each attribute read through the proxy
    # costs a context-variable lookup, and a caseload view prepares 160 values.
    db = connections[DEFAULT_DB_ALIAS]
    fields = _fields()
    # Each row's own values go in their columns of a copy of the shared ones; every row names the
    # same fields (its callers build them in one comprehension).
    own = [(i, f) for i, f in enumerate(fields) if f.attname in rows[0]]
    mine = {i for i, _field in own}
    shared = [
        None if i in mine else prepared_value(f, template[f.attname], db)
        for i, f in enumerate(fields)
    ]
    if db.vendor == "postgresql" and len(rows) > 1:
        statement, params = _unnest_insert(fields, shared, own, rows, db)
        values = [params]
    else:
        statement = _plain_insert(db.alias)
        values = []
        for row in rows:
            value = shared.copy()
            for i, field in own:
                value[i] = prepared_value(field, row[field.attname], db)
            values.append(value)
    if read and deferred.enabled() and not connection.in_atomic_block:
        # Written in the next batch, off the request path (alliance.core.deferred says why).
        deferred.write_many(statement, values)
        return
    relaxed = read and connection.vendor == "postgresql" and not connection.in_atomic_block
    if len(values) == 1 and not relaxed:
        # One statement commits on its own (or with the caller's transaction).
        with connection.cursor() as cursor:
            cursor.execute(statement, values[0])
        return
    # One transaction: in autocommit mode SQLite would commit each of the rows on its own.
    with transaction.atomic(), connection.cursor() as cursor:
        if relaxed:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.executemany(statement, values)
