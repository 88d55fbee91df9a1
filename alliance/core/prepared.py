"""A queryset's SQL built by the ORM once per process, then run again with new parameter values.

Why: the caseload's three queries cost more to *build and compile* in the ORM (filters resolved,
subqueries cloned, SQL assembled: about a third of the page's CPU) than to run (issue 10, point 6,
the caseload p95 under 10 concurrent therapists). Their SQL text depends only on a few choices (the
table's filters, how many ids a page holds), and their parameters only on a few values (the user,
the time, the ids). So a query is written once as an ordinary queryset-building function of those
values; :class:`PreparedQuery` calls it with *sentinel* values, compiles it, remembers where each
sentinel landed in the parameter list, and from then on runs the same SQL with the real values in
those places. The rows come back through the ORM's own converters, so dates and numbers are what
the queryset itself would have returned.

Safety: every query is compiled twice at first use, with two different sets of sentinels. The SQL
must be identical and the parameters may differ only where a sentinel was found; anything else (a
value derived from an argument, such as a date computed from ``now``) raises
:class:`NotPreparable` at once instead of silently running with a sentinel. Such a value must be
passed as an argument of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

# An argument is an int (a user or row id), an aware datetime, a tuple of ints (ids for IN), or a
# string compared as a whole (a session key).
Arg = int | datetime | tuple[int, ...] | str


class NotPreparable(RuntimeError):
    """The builder's SQL or parameters depend on its arguments in a way sentinels cannot track."""


def _sentinels(args: Mapping[str, Arg], salt: int) -> dict[str, Arg]:
    # Values no real row or clock can hold: negative ids, datetimes in 1901 (distinct per argument).
    made: dict[str, Arg] = {}
    for n, (name, value) in enumerate(sorted(args.items())):
        base = -(10**12) * (salt + 1) - 10**6 * n
        if isinstance(value, datetime):
            made[name] = datetime(1901, 1, 1, tzinfo=UTC) + timedelta(
                days=97 * salt + n, microseconds=salt * 1000 + n + 1
            )
        elif isinstance(value, tuple):
            made[name] = tuple(base - k for k in range(len(value)))
        elif isinstance(value, str):
            made[name] = f"~sentinel {base}~"
        else:
            made[name] = base
    return made


def _adapt(value: int | datetime | str, alias: str) -> Any:
    # What the ORM passes to the driver for this value in a lookup on an integer or datetime column.
    if isinstance(value, datetime):
        return connections[alias].ops.adapt_datetimefield_value(value)
    return value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    # Parameter position -> (argument name, index in a tuple argument or -1 for a scalar).
    slots: tuple[tuple[int, str, int], ...]
    names: tuple[str, ...]
    # Columns the caller asked for; the SQL may select more (ORDER BY columns of a DISTINCT query).
    width: int
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


class PreparedQuery:
    """``build(**args) -> QuerySet`` compiled once per (variant, database alias).

    ``variant`` is every choice that changes the SQL text (filters, the length of a tuple argument);
    ``args`` are the values that change only parameters. :meth:`rows` returns a list of tuples in
    the queryset's column order (:attr:`names` gives the names), converted as the ORM converts.
    """

    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self._build = build
        self._compiled: dict[Hashable, _Compiled | None] = {}
        self._lock = threading.Lock()

    def _compile_with(
        self, variant: Hashable, args: Mapping[str, Arg], salt: int
    ) -> tuple[str, tuple[Any, ...], dict[int, tuple[str, int]], Any]:
        sentinel_args = _sentinels(args, salt)
        queryset = self._build(variant, **sentinel_args)
        alias = queryset.db
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        where: dict[Any, tuple[str, int]] = {}
        for name, value in sentinel_args.items():
            if isinstance(value, tuple):
                for k, item in enumerate(value):
                    where[_adapt(item, alias)] = (name, k)
            else:
                where[_adapt(value, alias)] = (name, -1)
        found = {i: where[p] for i, p in enumerate(params) if _hashable(p) and p in where}
        return sql, tuple(params), found, compiler

    def _compile(self, variant: Hashable, args: Mapping[str, Arg]) -> _Compiled | None:
        try:
            sql, params, found, compiler = self._compile_with(variant, args, 0)
            sql_b, params_b, found_b, _compiler = self._compile_with(variant, args, 1)
        except EmptyResultSet:
            return None
        differing = {i for i, (a, b) in enumerate(zip(params, params_b, strict=True)) if a != b}
        if sql != sql_b or found != found_b or differing != set(found):
            raise NotPreparable(
                f"{self._build.__qualname__}{variant!r}: parameters at {sorted(differing)} depend "
                f"on the arguments, sentinels were found at {sorted(found)}"
            )
        selected = compiler.select[: compiler.col_count]
        # The columns' names in the SQL's own order (the ORM's values() reorders them afterwards).
        names = [
            alias or getattr(expression, "target", expression).name
            for expression, _sql, alias in selected
        ]
        expressions = [expression for expression, _sql, _alias in selected]
        converters = tuple(
            (position, tuple(convs), expression)
            for position, (convs, expression) in compiler.get_converters(expressions).items()
        )
        return _Compiled(
            sql=sql,
            params=params,
            slots=tuple((i, name, k) for i, (name, k) in sorted(found.items())),
            names=tuple(names),
            width=compiler.col_count,
            converters=converters,
        )

    def compiled(self, variant: Hashable, alias: str, args: Mapping[str, Arg]) -> _Compiled | None:
        key = (variant, alias)
        if key not in self._compiled:
            with self._lock:
                if key not in self._compiled:
                    self._compiled[key] = self._compile(variant, args)
        return self._compiled[key]

    def rows(self, variant: Hashable, alias: str = "default", /, **args: Arg) -> list[list[Any]]:
        compiled = self.compiled(variant, alias, args)
        if compiled is None:  # the ORM proved the result empty (e.g. an empty IN list)
            return []
        params = list(compiled.params)
        for position, name, k in compiled.slots:
            value = args[name]
            params[position] = _adapt(value[k] if isinstance(value, tuple) else value, alias)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        width = compiled.width
        if not compiled.converters:
            return [list(row[:width]) for row in fetched]
        rows = []
        for row in (list(row[:width]) for row in fetched):
            for position, convs, expression in compiled.converters:
                value = row[position]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[position] = value
            rows.append(row)
        return rows

    def names(self, variant: Hashable, alias: str = "default", /, **args: Arg) -> Sequence[str]:
        compiled = self.compiled(variant, alias, args)
        return compiled.names if compiled else ()


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
