"""A check-in submission keeps the client's answers whichever database statement fails (ground rule 4,
issue 10 point 7).

A POST to a check-in form touches the database at many points: the link lookup (and its first-opened
time), the goals, the answered forms that decide the next page, the duplicate check, the response and
its audit event. Any of them can fail (a killed connection, a locked SQLite file, a failover). Guarding
each with its own try/except would leave the next statement someone adds unguarded, so the whole POST
is wrapped once, here: on `django.db.DatabaseError` the view's work is abandoned, any open transaction
is rolled back, and a fallback re-shows the form from what was posted, with status 503 and no detail
of the error. The fallback must not need the database: it reads only what it can and has a default for
everything it reads (`readable`).

Nothing is half-written: record_response stores the response and its audit event in one atomic block,
and sending the form again stores it exactly once (its duplicate check), so "please press the button
again" is always safe to say, even when the failure came after the answers were stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

T = TypeVar("T")
View = Callable[..., HttpResponse]
# Re-shows the posted form without the database; None when it cannot (the view's URL named no form).
Fallback = Callable[[HttpRequest], HttpResponse | None]


def keeps_answers(fallback: Fallback) -> Callable[[View], View]:
    """Wrap a view so that a database error during a POST answers with `fallback(request)` instead of
    the generic error page. Other methods are left alone: a GET has no answers to lose."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            try:
                return view(request, *args, **kwargs)
            except DatabaseError:
                # The traceback goes to the log only; the page says nothing about it.
                logger.exception("A check-in submission failed on the database; form shown again")
                roll_back()
                page = fallback(request)
                if page is None:
                    raise
                return page

        return wrapped

    return decorate


def roll_back() -> None:
    """Leave nothing half-done by the failed request, on every connection it used.

    In autocommit (how Alliance runs: ATOMIC_REQUESTS is off) each statement outside an atomic block
    committed on its own and each atomic block rolled back as the error left it, so there is nothing
    left to undo. With ATOMIC_REQUESTS the request's own block is still open: it is marked so that it
    rolls back as it closes, instead of committing what ran before the failure. A connection the error
    left unusable (the server closed it) is dropped, so that the fallback's reads and the next request
    open a fresh one; one inside a transaction is left to whoever opened the transaction (a test's)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            if connection.settings_dict.get("ATOMIC_REQUESTS"):
                transaction.set_rollback(True, using=connection.alias)
            continue
        try:
            connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            logger.warning("Could not close a failed database connection", exc_info=True)


def readable(read: Callable[[], T], default: T) -> T:
    """What `read` returns, or `default` when the database cannot answer it just now. For the
    fallback's optional reads (the clinic's crisis text, the client's goals)."""
    try:
        return read()
    except DatabaseError:
        logger.warning("Database unavailable while showing a form again; using a default")
        return default
