"""Which open alerts are quiet today, as SQL: the database side of alliance.alerts.lifecycle.is_quiet.

The caseload's attention list, its counts and its order leave snoozed alerts out (issue 12, point 4).
`awake()` is the condition they add to their "open alert" filter; `AWAKE_SQL` is the same condition
for hand-written SQL. A risk alert is awake whatever its row says (lifecycle.UNSNOOZABLE_KINDS); the
recompute clears `snoozed_until` when an alert gets worse, so "got worse" needs no condition here.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from alliance.alerts.lifecycle import UNSNOOZABLE_KINDS

# For raw SQL on care_alert: %(now)s is the time of the request (timezone.now()), a parameter.
AWAKE_SQL = (
    "(care_alert.snoozed_until IS NULL OR care_alert.snoozed_until <= %(now)s"
    " OR care_alert.kind IN (" + ", ".join(f"'{kind}'" for kind in sorted(UNSNOOZABLE_KINDS)) + "))"
)


def awake(prefix: str = "", now: datetime | None = None) -> Q:
    """Alerts not snoozed at `now` (the current time by default); `prefix` as in
    alliance.care.queries.open_alert_filter ("alerts__" from an episode)."""
    moment = now or timezone.now()
    return (
        Q(**{f"{prefix}snoozed_until__isnull": True})
        | Q(**{f"{prefix}snoozed_until__lte": moment})
        | Q(**{f"{prefix}kind__in": sorted(UNSNOOZABLE_KINDS)})
    )


def snoozed(prefix: str = "", now: datetime | None = None) -> Q:
    """The opposite of `awake`: quiet at `now`."""
    return ~awake(prefix, now)
