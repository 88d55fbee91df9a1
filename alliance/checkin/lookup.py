"""A check-in link and what its pages need, read in one SQL statement.

Why not the ORM here: every check-in page starts with this lookup, and under load (issue 10, point 6)
the ORM's query compilation cost more than the whole bare Django request (about 0.9 ms for the
link with its appointment, episode and client, against 0.03 ms for the same statement executed
directly; the goal count and the answered forms were two more compiled queries). So this module
writes the statement once, by hand, and turns the row into the same model instances the ORM would
have built (`Model.from_db`, with the fields each backend's converters produce, so datetimes are
aware and JSON is decoded on SQLite and PostgreSQL alike). Fields not read here are *deferred*, as
with `.only()`: touching one loads it with a query, it is never silently empty.

Everything else about links (creating, expiry, the grace period) stays in alliance.checkin.links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.signals import post_init, pre_init

from alliance.care.models import Appointment, Client, Episode, Goal, Respondent, Response
from alliance.checkin.models import CheckinLink

# The fields read, by model (foreign keys by field name: their id column is read).
LINK_FIELDS = (
    "id",
    "appointment",
    "token_digest",
    "expires_at",
    "revoked_at",
    "first_opened_at",
)
APPOINTMENT_FIELDS = (
    "id",
    "episode",
    "scheduled_at",
    "duration_minutes",
    "session_number",
    "is_final",
    "attendance",
)
EPISODE_FIELDS = (
    "id",
    "client",
    "therapist",
    "status",
    "outcome_instruments",
    "gbo_every",
)
CLIENT_FIELDS = ("id", "preferred_language")


def _in_model_order(model: type[Model], names: tuple[str, ...]) -> tuple[str, ...]:
    # Model.from_db takes a partial row's values in the order of the model's own fields.
    order = [field.name for field in model._meta.concrete_fields]
    return tuple(sorted(names, key=order.index))


PARTS: tuple[tuple[type[Model], tuple[str, ...]], ...] = tuple(
    (model, _in_model_order(model, names))
    for model, names in (
        (CheckinLink, LINK_FIELDS),
        (Appointment, APPOINTMENT_FIELDS),
        (Episode, EPISODE_FIELDS),
        (Client, CLIENT_FIELDS),
    )
)


@dataclass(frozen=True)
class Found:
    link: CheckinLink  # with .appointment, .appointment.episode and its .client loaded
    goal_count: int
    answered: frozenset[str]  # instruments the client has answered for this appointment


def _table(model: type[Model]) -> str:
    return model._meta.db_table


def _column(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


@cache
def _statement(vendor: str) -> str:
    """The statement, built from the models' own table and column names (so a renamed column fails
    here, loudly, not in a hand-copied string). One row per answered form, or one row if none."""
    quote = connections[router.db_for_read(CheckinLink)].ops.quote_name
    aliases = ("l", "a", "e", "c")
    columns = [
        f"{alias}.{quote(_column(model, name).column)}"
        for alias, (model, names) in zip(aliases, PARTS, strict=True)
        for name in names
    ]
    goal, response = _table(Goal), _table(Response)
    # Only the models' own table and column names are put in the text; values are parameters.
    return (
        f"SELECT {', '.join(columns)}, "  # noqa: S608
        f"(SELECT COUNT(*) FROM {quote(goal)} g WHERE g.{quote('episode_id')} = e.{quote('id')}), "
        f"r.{quote('instrument')} "
        f"FROM {quote(_table(CheckinLink))} l "
        f"JOIN {quote(_table(Appointment))} a ON a.{quote('id')} = l.{quote('appointment_id')} "
        f"JOIN {quote(_table(Episode))} e ON e.{quote('id')} = a.{quote('episode_id')} "
        f"JOIN {quote(_table(Client))} c ON c.{quote('id')} = e.{quote('client_id')} "
        f"LEFT JOIN {quote(response)} r ON r.{quote('appointment_id')} = a.{quote('id')} "
        f"AND r.{quote('respondent')} = %s "
        f"WHERE l.{quote('token_digest')} = %s"
    )


@cache
def _converters(vendor: str) -> tuple[tuple[Col, tuple[Any, ...]], ...]:
    """For each model's fields, the functions the ORM itself would apply to the raw value (with the
    column expression they are given)."""
    connection = connections[router.db_for_read(CheckinLink)]
    out = []
    for model, names in PARTS:
        for name in names:
            field = _column(model, name)
            col = Col(_table(model), field)
            functions = (
                *connection.ops.get_db_converters(col),
                *col.get_db_converters(connection),
            )
            out.append((col, functions))
    return tuple(out)


@cache
def _attnames(model: type[Model], names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_column(model, name).attname for name in names)


def _instance(model: type[Model], names: tuple[str, ...], values: Sequence[Any], db: str) -> Any:
    """The instance `Model.from_db` would build from these fields' values, the others deferred.

    Built directly when nothing listens for the model's init signals: what from_db does then comes
    to the instance's state and its attributes (a deferred field is one missing from the instance's
    __dict__, as Django's own deferred loading leaves it). from_db maps the values onto every field
    of the model and runs `__init__` over them, which for the four models of a link was the largest
    part of this lookup's CPU (issue 10, point 6). tests/checkin/test_lookup.py compares the two."""
    attnames = _attnames(model, names)
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(db, attnames, list(values))
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = db
    instance._state = state
    instance.__dict__.update(zip(attnames, values, strict=True))
    return instance


def find(digest: str) -> Found | None:
    """The link whose token has this digest, with its appointment, episode and client, the number of
    the episode's goals and the forms already answered; None when there is no such link."""
    db = router.db_for_read(CheckinLink)
    connection = connections[db]
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor), [Respondent.CLIENT.value, digest])
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    converters = _converters(connection.vendor)
    values = []
    for raw, (col, functions) in zip(first, converters, strict=False):
        value = raw
        for function in functions:
            value = function(value, col, connection)
        values.append(value)
    instances = []
    start = 0
    for model, names in PARTS:
        instances.append(_instance(model, names, values[start : start + len(names)], db))
        start += len(names)
    link, appointment, episode, client = instances
    # Each instance already holds its parent's id: only the related objects are put in its cache,
    # as `select_related` does (the descriptor's assignment would check the types and the router).
    Episode._meta.get_field("client").set_cached_value(episode, client)
    Appointment._meta.get_field("episode").set_cached_value(appointment, episode)
    CheckinLink._meta.get_field("appointment").set_cached_value(link, appointment)
    goal_count = int(first[start])
    answered = frozenset(row[start + 1] for row in rows if row[start + 1] is not None)
    return Found(link, goal_count, answered)
