"""tests/core reuses the check-in fixtures (a client's appointment tomorrow and its link)."""

from tests.checkin.conftest import visit  # noqa: F401  (shared fixture)
