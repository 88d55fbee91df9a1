"""Django's PostgreSQL backend, with a connection health check that needs no round trip when the
server has said nothing.

Why: Django checks a kept connection at the start of every request that uses the database
(`conn_health_checks` in alliance.settings) with `SELECT 1`: a round trip and a statement for both
psycopg and the server, on every check-in page, where the page itself needs one statement (issue 10,
point 6). The check is there for one case, a connection the server has closed (a restart, an
administrator's `pg_terminate_backend`, an idle timeout): the server then sends its goodbye and closes
the socket, and the socket becomes readable. A connection the server has not written to since its
last answer is the connection we left. So: a socket with nothing to read is usable without asking;
a socket with something to read (a closing server, or a notice) gets Django's own `SELECT 1`.

Not covered, as before Django's check existed: a server that vanished without closing the socket
(a cable pulled between two machines). The first statement then fails, the request answers with its
error page (the check-in keeps the client's answers: alliance.checkin.resilience), and Django closes
the connection at the end of that request, so the next one connects again.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())
        poll = select.poll()
        poll.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        if poll.poll(0):
            # The server wrote unasked (it is closing, or sent a notice): ask it.
            return bool(super().is_usable())
        return True
