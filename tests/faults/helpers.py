"""Ways to make the database fail on purpose, shared by the fault tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import OperationalError

#: What a response body must never show: a traceback, SQL, or a Python exception's name.
LEAKS = re.compile(
    r"Traceback|File \"/|OperationalError|DatabaseError|IntegrityError|"
    r"\bSELECT\b .* \bFROM\b|\bINSERT INTO\b|\bUPDATE\b \"|server closed the connection",
    re.I,
)


class FailOnQuery:
    """A `connection.execute_wrapper` that raises on the n-th statement (1-based) `matches` accepts,
    as a connection killed mid-request would: the statement never reaches the database."""

    def __init__(
        self,
        n: int,
        matches: Callable[[str], bool] = lambda sql: True,
        error: Exception | None = None,
    ) -> None:
        self.n = n
        self.matches = matches
        self.error = error or OperationalError("server closed the connection unexpectedly")
        self.seen = 0
        self.fired = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.matches(sql):
            self.seen += 1
            if self.seen == self.n:
                self.fired = True
                raise self.error
        return execute(sql, params, many, context)


def assert_nothing_leaked(body: str) -> None:
    found = LEAKS.search(body)
    assert found is None, f"the response shows {found.group(0)!r}"
