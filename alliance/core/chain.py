"""Several writes as one statement on PostgreSQL (data-modifying WITH clauses), for writes that must
commit together.

Why (issue 10, point 6): a client's check-in submission writes four rows (the link's first opening,
the response, the response's audit event and the job that recomputes the episode's alerts). As a
transaction that is six round trips (BEGIN, four statements, COMMIT), each one a pass through
psycopg and a wake-up of the database server. Measured in one process on the 2-core machine the
load benchmark runs on: four INSERTs in a transaction cost 0.44 ms of the web process and 0.36 ms of
PostgreSQL's; the same four as one statement 0.11 and 0.14 ms. A statement is atomic on its own:
all of it commits, or none of it, so the chain needs no BEGIN or COMMIT (inside a caller's
transaction it is simply one more statement of it).

What a part may be: one INSERT, UPDATE or DELETE, with or without RETURNING. PostgreSQL runs every
part on one snapshot, so a part does not see the rows another part writes, except through that
part's RETURNING, which it reads by the part's name (`... FROM response`). The order in which the
parts run is not defined: no two parts may write the same row. Every part runs to completion even
when nothing reads what it returns.

SQLite has no data-modifying WITH clauses. There the parts run one by one, in the order given, in one
transaction, which alliance.core.group_commit may share with other threads' chains (one COMMIT for
several submissions: it says why). A part reads what an earlier one returned through a `Returned`
parameter instead of `FROM name`; a part whose `Returned` finds no row is skipped, as PostgreSQL's
`INSERT ... SELECT ... FROM name` inserts nothing then. Callers that can write either way check
`supported()`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper

from alliance.core import group_commit

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,30}$")


@dataclass(frozen=True)
class Part:
    """One write of the chain: `name` is how the other parts and the result read what it returns."""

    name: str
    sql: str
    params: Sequence[Any]


@dataclass(frozen=True)
class Returned:
    """A parameter of a part on SQLite: the first column of the row an earlier part returned
    (as text when `text`)."""

    part: str
    text: bool = False


def supported(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor in ("postgresql", "sqlite")


def _check_names(parts: Sequence[Part], result: str) -> None:
    names = [part.name for part in parts]
    if len(set(names)) != len(names) or not all(_NAME.match(name) for name in names):
        raise ValueError(f"Chain parts need distinct lower-case names: {names}")
    if result not in names:
        raise ValueError(f"The chain's result {result!r} is not one of its parts")


def statement(parts: Sequence[Part], result: str) -> tuple[str, list[Any]]:
    """The chain's text and parameters: every part in a WITH clause, then the rows `result` returns."""
    _check_names(parts, result)
    if any(isinstance(value, Returned) for part in parts for value in part.params):
        raise ValueError("A chain of one statement reads earlier parts by name, not Returned")
    clauses = ", ".join(f"{part.name} AS ({part.sql})" for part in parts)
    params = [value for part in parts for value in part.params]
    return f"WITH {clauses} SELECT * FROM {result}", params  # noqa: S608 (names checked above)


def execute(
    parts: Sequence[Part], result: str, using: str = DEFAULT_DB_ALIAS
) -> list[tuple[Any, ...]]:
    """Run the parts, all of them or none; the rows part `result` returned."""
    vendor = connections[using].vendor
    if vendor == "sqlite":
        _check_names(parts, result)
        return group_commit.run(lambda cursor: in_order(cursor, parts, result), using)
    if vendor != "postgresql":
        raise NotImplementedError(f"No chains on {vendor}")
    sql, params = statement(parts, result)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def in_order(cursor: CursorWrapper, parts: Sequence[Part], result: str) -> list[tuple[Any, ...]]:
    """The parts one by one on `cursor`, inside the caller's transaction (SQLite; see above)."""
    returned: dict[str, list[tuple[Any, ...]]] = {}
    for part in parts:
        params = _resolved(part.params, returned)
        if params is None:
            returned[part.name] = []  # skipped: a part it reads from wrote nothing
            continue
        cursor.execute(part.sql, params)
        returned[part.name] = list(cursor.fetchall()) if cursor.description else []
    return returned[result]


def _resolved(
    params: Sequence[Any], returned: dict[str, list[tuple[Any, ...]]]
) -> list[Any] | None:
    values = []
    for value in params:
        if isinstance(value, Returned):
            rows = returned[value.part]
            if not rows:
                return None
            values.append(str(rows[0][0]) if value.text else rows[0][0])
        else:
            values.append(value)
    return values
