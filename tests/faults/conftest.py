"""The fault tests reuse the check-in fixtures (a client's appointment tomorrow and its link)."""

from tests.checkin.conftest import after_session, visit  # noqa: F401  (shared fixtures)
