"""Guessing check-in links is limited without locking anyone out (issue 10, point 5).

Before: after 20 failed lookups from one address, every check-in from that address answered 429, valid
links included, so one person's guesses behind a clinic or workplace network locked out every client
behind it. Now only failed lookups are limited; a valid link opens whatever the count and writes no
rate-limit row.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.checkin import views
from tests.checkin.conftest import Visit

SHARED_ADDRESS = "203.0.113.7"


def _guess(http: HttpClient, n: int) -> int:
    # Well-formed (43 URL-safe characters), so each one really is looked up.
    return http.get(f"/c/{'x' * 38}{n:05d}/").status_code


def test_after_25_failed_lookups_a_valid_link_still_opens_and_guesses_get_429(visit: Visit) -> None:
    http = HttpClient(REMOTE_ADDR=SHARED_ADDRESS)
    statuses = [_guess(http, n) for n in range(25)]
    assert statuses[:20] == [404] * 20 and statuses[20:] == [429] * 5
    # Another client behind the same address opens their link as usual...
    page = http.get(visit.url())
    assert page.status_code == 200 and "Before your session" in page.content.decode()
    assert http.get(visit.url("answer", "phq9")).status_code == 200
    # ...while the next guess is refused with a friendly page that reveals nothing.
    refused = http.get(f"/c/{'y' * 43}/")
    body = refused.content.decode()
    assert refused.status_code == 429
    assert "Please wait a little" in body and "too many attempts" in body
    assert "Rosalind" not in body and "C-VIS01" not in body
    assert "no-store" in refused["Cache-Control"]
    # Another address is not affected by this one's guesses.
    assert _guess(HttpClient(REMOTE_ADDR="198.51.100.9"), 0) == 404


def test_the_limit_resets_after_the_window(visit: Visit) -> None:
    http = HttpClient(REMOTE_ADDR=SHARED_ADDRESS)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(21):
            _guess(http, n)
        assert _guess(http, 99) == 429
    # CHECKIN_TOKEN_FAILURE_RATE is per hour: in the next window the address starts again.
    with time_machine.travel(start + timedelta(hours=1, minutes=1), tick=False):
        assert _guess(http, 100) == 404


def test_a_valid_link_writes_no_rate_limit_row(visit: Visit) -> None:
    http = HttpClient(REMOTE_ADDR=SHARED_ADDRESS)
    with CaptureQueriesContext(connection) as queries:
        assert http.get(visit.url()).status_code == 200
    touched_cache = [q["sql"] for q in queries.captured_queries if "alliance_cache" in q["sql"]]
    assert touched_cache == []
    # A failed lookup does count (and that is the only thing that does).
    with CaptureQueriesContext(connection) as queries:
        assert _guess(http, 1) == 404
    assert any("alliance_cache" in q["sql"] for q in queries.captured_queries)


def test_an_expired_link_is_not_counted_as_a_guess(visit: Visit) -> None:
    http = HttpClient(REMOTE_ADDR=SHARED_ADDRESS)
    expired = visit.appointment.scheduled_at + timedelta(hours=80)
    with time_machine.travel(expired, tick=False):
        for _ in range(25):
            assert http.get(visit.url()).status_code == 410
        assert _guess(http, 1) == 404


def test_many_addresses_together_meet_the_global_limit(visit: Visit) -> None:
    # The counts live in the database cache, so each test starts from none.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(views, "TOKEN_GLOBAL_FAILURE_RATE", "30/h")
        statuses = [_guess(HttpClient(REMOTE_ADDR=f"198.51.100.{n}"), n) for n in range(1, 36)]
        assert statuses[:30] == [404] * 30 and statuses[30:] == [429] * 5
        # Valid links still open from anywhere.
        assert HttpClient(REMOTE_ADDR="198.51.100.77").get(visit.url()).status_code == 200
