"""One model row written with an INSERT whose SQL text Django's own compiler built once per process.

Why: a client's check-in submission writes two rows through the ORM inside its write transaction (the
response and the job that recomputes the episode's alerts), and `Model.save()` compiles each INSERT
anew: about 0.25 ms apiece, a third of the time the transaction held SQLite's one writer, while every
other submission waited for it (issue 10, point 6). Here the statement is compiled once per model,
database and conflict rule, by `SQLInsertCompiler` itself, and a row's parameters are what that
compiler would pass (each field's `pre_save(add=True)`, then `get_db_prep_save`). They are computed
when the `RowInsert` is made, which a caller can do before it opens the transaction; `execute()` then
runs one statement.

What `save()` does is kept: `pre_save` is sent when the row is prepared and `post_save` when it is
written (the audit trail hangs on post_save: alliance.care.signals), the primary key comes back from
`RETURNING`, and the instance is marked as saved. With `ignore_conflicts` a row that would break a
unique constraint is not written and `execute()` returns False, instead of raising inside the caller's
transaction (which PostgreSQL would then refuse to continue): the caller needs no savepoint.

Not covered, refused with `NotInsertable` when the row is prepared: models with parents (multi-table
inheritance), a value that is an expression, fields with their own placeholder SQL, and returned
columns that need a converter. Such rows go through `save()`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import signals
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


class NotInsertable(TypeError):
    """The row needs what `Model.save()` does and this module does not (see the module's docstring)."""


@dataclass(frozen=True)
class _Statement:
    sql: str
    fields: tuple[models.Field[Any, Any], ...]
    returning: tuple[models.Field[Any, Any], ...]


_StatementKey = tuple[type[models.Model], str, bool, bool]
_STATEMENTS: dict[_StatementKey, _Statement] = {}
_BUILDING = threading.Lock()


@functools.cache
def _insertable_fields(
    model: type[models.Model], pk_set: bool
) -> tuple[tuple[models.Field[Any, Any], ...], tuple[bool, ...]]:
    """As Model._save_table chooses them for an INSERT: every concrete, non-generated field, without
    an automatic primary key that has no value yet; and for each, whether its pre_save is Field's
    own (it only reads the attribute). Refuses fields with their own placeholder SQL."""
    meta = model._meta
    fields = [
        field
        for field in meta.local_concrete_fields
        if not field.generated and (pk_set or field is not meta.auto_field)
    ]
    for field in fields:
        if getattr(field, "get_placeholder", None) is not None:
            raise NotInsertable(f"{meta.label}.{field.name} has its own placeholder")
    plain = tuple(type(field).pre_save is models.Field.pre_save for field in fields)
    return tuple(fields), plain


def prepared_value(
    field: models.Field[Any, Any], value: Any, db: Any, *, element: bool = False
) -> Any:
    """What `field.get_db_prep_save(value, db)` gives, taking the short way for the plain values most
    rows hold: no value in a nullable column, a plain str in a text one, a bool in a boolean one, a
    float in a float one (the field would only check them: a check-in submission prepares some
    forty values, an audit event ten, a caseload view 80 events' worth). `element`: the value goes
    into an array that is cast as a whole, so a plain int in an integer column needs no typing
    wrapper either (a single value keeps the one PostgreSQL's backend gives it: the server then sees
    the same parameter types every time, and keeps one prepared statement). Anything else goes
    through the field; tests/accounts/test_audit_writer.py and tests/core/test_inserts.py compare
    the two."""
    kind = type(value)
    if value is None and field.null:
        return None
    # Django's own field classes only, never a subclass: an encrypted field is a TextField that
    # must see every value (alliance.core.fields).
    if _STOCK.get(type(field)) is kind and (kind is not int or element):
        return value
    return field.get_db_prep_save(value, db)


# A value of exactly this type is stored as it is by exactly this field class.
_STOCK: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.FloatField: float,
    # Only inside an array (`element`): a single int keeps the typed wrapper PostgreSQL's gives it.
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveSmallIntegerField: int,
}


def _key(instance: models.Model, using: str, ignore_conflicts: bool) -> _StatementKey:
    # The fields follow from the model and whether the primary key was given (_insertable_fields).
    return (type(instance), using, ignore_conflicts, instance.pk is not None)


def _statement(
    instance: models.Model,
    fields: tuple[models.Field[Any, Any], ...],
    using: str,
    ignore_conflicts: bool,
) -> _Statement:
    model = type(instance)
    key = _key(instance, using, ignore_conflicts)
    statement = _STATEMENTS.get(key)
    if statement is not None:
        return statement
    with _BUILDING:
        connection = connections[using]
        returning = tuple(
            field
            for field in model._meta.db_returning_fields
            if connection.features.can_return_columns_from_insert
        )
        query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
        query.insert_values(list(fields), [instance])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = list(returning)
        [(sql, params)] = compiler.as_sql()
        if len(params) != len(fields) or compiler.returning_params:
            # Placeholders that are not one "%s" per field (a field's own get_placeholder, an
            # Oracle-style returning parameter): the text depends on the values; not ours to reuse.
            raise NotInsertable(f"{model.__name__}: the INSERT's parameters are not one per field")
        if compiler.get_converters([field.get_col(model._meta.db_table) for field in returning]):
            raise NotInsertable(f"{model.__name__}: a returned column needs a converter")
        statement = _Statement(sql, fields, returning)
        _STATEMENTS[key] = statement
        return statement


class RowInsert:
    """One unsaved model instance, prepared to be inserted: pre_save sent, parameters computed.

    Make it before the write transaction, call `execute()` inside it. Each instance is inserted once.
    """

    def __init__(
        self,
        instance: models.Model,
        *,
        using: str = DEFAULT_DB_ALIAS,
        ignore_conflicts: bool = False,
    ) -> None:
        meta = instance._meta
        if meta.parents:
            raise NotInsertable(f"{type(instance).__name__} has parent models")
        self.instance = instance
        self.using = using
        origin = meta.concrete_model
        signals.pre_save.send(
            sender=origin, instance=instance, raw=False, using=using, update_fields=None
        )
        fields, plain = _insertable_fields(type(instance), instance.pk is not None)
        statement = _STATEMENTS.get(_key(instance, using, ignore_conflicts))
        if statement is None:
            # Before the statement is compiled from this row: an expression would be compiled in.
            for field in fields:
                if hasattr(getattr(instance, field.attname), "resolve_expression"):
                    raise NotInsertable(f"{meta.label}.{field.name} is an expression")
            # Compiling runs pre_save (auto_now_add), which the values below run again, so that
            # the instance holds what is written.
            statement = _statement(instance, fields, using, ignore_conflicts)
        self._statement = statement
        connection = connections[using]
        values = []
        for field, is_plain in zip(fields, plain, strict=True):
            # A field whose pre_save is Field's own only reads the attribute.
            value = getattr(instance, field.attname) if is_plain else field.pre_save(instance, True)
            if hasattr(value, "resolve_expression"):
                raise NotInsertable(f"{meta.label}.{field.name} is an expression")
            values.append(prepared_value(field, value, connection))
        self._params = values
        self._done = False

    @property
    def sql(self) -> str:
        """The INSERT's text (with RETURNING when the database gives back generated columns)."""
        return self._statement.sql

    @property
    def params(self) -> list[Any]:
        return list(self._params)

    def execute(self, *, post_save: bool = True) -> bool:
        """Insert the row; False when `ignore_conflicts` left it out (a unique constraint held).
        `post_save=False`: the caller writes what the receivers would have (as in `written`)."""
        self._claim()
        with connections[self.using].cursor() as cursor:
            cursor.execute(self._statement.sql, self._params)
            if self._statement.returning:
                return self._finish(cursor.fetchone(), post_save=post_save)
            return self._finish(() if cursor.rowcount else None, post_save=post_save)

    def written(self, returned: Sequence[Any] | None, *, post_save: bool = True) -> bool:
        """What `execute()` does after the statement, for a caller that ran `sql` itself as part of
        a larger statement (alliance.core.chain): `returned` is the row the INSERT returned (an
        empty tuple when it returns nothing), None when the row was left out. `post_save=False`
        when that larger statement itself wrote what the receivers would have written (the caller
        says which receivers those are)."""
        self._claim()
        return self._finish(returned, post_save=post_save)

    def _finish(self, returned: Sequence[Any] | None, *, post_save: bool) -> bool:
        if returned is None:
            return False
        instance = self.instance
        for field, value in zip(self._statement.returning, returned, strict=True):
            setattr(instance, field.attname, value)
        instance._state.adding = False
        instance._state.db = self.using
        if post_save:
            signals.post_save.send(
                sender=instance._meta.concrete_model,
                instance=instance,
                created=True,
                update_fields=None,
                raw=False,
                using=self.using,
            )
        return True

    def _claim(self) -> None:
        # Each row is inserted once: a second execute() (or written() after execute()) is a bug.
        if self._done:
            raise RuntimeError("This row was already inserted")
        self._done = True
