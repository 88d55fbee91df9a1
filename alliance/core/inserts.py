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


_STATEMENTS: dict[tuple[type[models.Model], str, bool, tuple[str, ...]], _Statement] = {}
_BUILDING = threading.Lock()


def _fields(instance: models.Model) -> list[models.Field[Any, Any]]:
    # As Model._save_table chooses them for an INSERT: every concrete, non-generated field, without
    # an automatic primary key that has no value yet.
    meta = instance._meta
    pk_set = instance.pk is not None
    return [
        field
        for field in meta.local_concrete_fields
        if not field.generated and (pk_set or field is not meta.auto_field)
    ]


def _statement(
    instance: models.Model,
    fields: list[models.Field[Any, Any]],
    using: str,
    ignore_conflicts: bool,
) -> _Statement:
    model = type(instance)
    key = (model, using, ignore_conflicts, tuple(field.attname for field in fields))
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
        query.insert_values(fields, [instance])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = list(returning)
        [(sql, params)] = compiler.as_sql()
        if len(params) != len(fields) or compiler.returning_params:
            # Placeholders that are not one "%s" per field (a field's own get_placeholder, an
            # Oracle-style returning parameter): the text depends on the values; not ours to reuse.
            raise NotInsertable(f"{model.__name__}: the INSERT's parameters are not one per field")
        if compiler.get_converters([field.get_col(model._meta.db_table) for field in returning]):
            raise NotInsertable(f"{model.__name__}: a returned column needs a converter")
        statement = _Statement(sql, tuple(fields), returning)
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
        fields = _fields(instance)
        for field in fields:
            if hasattr(getattr(instance, field.attname), "resolve_expression"):
                raise NotInsertable(f"{meta.label}.{field.name} is an expression")
            if getattr(field, "get_placeholder", None) is not None:
                raise NotInsertable(f"{meta.label}.{field.name} has its own placeholder")
        # The statement first: compiling it runs pre_save (auto_now_add), which the values below run
        # again, so that the instance holds what is written.
        self._statement = _statement(instance, fields, using, ignore_conflicts)
        connection = connections[using]
        values = []
        for field in fields:
            value = field.pre_save(instance, add=True)
            if hasattr(value, "resolve_expression"):
                raise NotInsertable(f"{meta.label}.{field.name} is an expression")
            values.append(field.get_db_prep_save(value, connection=connection))
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
