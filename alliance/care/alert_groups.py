"""One client's alerts as one entry (issue 12, point 4): the worst severity first and the kinds
listed, as the caseload's "needs attention" list shows a person (alliance.care.queries.
attention_from), so the client page opens with one line, not N rows for one client.

Snoozed alerts are counted beside the others, never in the worst severity or the kinds: they are
quiet until their time (alliance.alerts.lifecycle.is_quiet). A risk alert is never snoozed, so it is
always in the entry, and an urgent one always leads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from alliance.alerts.lifecycle import is_quiet
from alliance.care.models import Alert, AlertKind, AlertSeverity

# Most severe first (as alliance.care.queries.SEVERITY_ORDER).
SEVERITY_ORDER = {"urgent": 0, "red": 1, "yellow": 2, "info": 3}


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int
    severity: str  # the worst of this kind


@dataclass(frozen=True)
class ClientAlerts:
    """What the client page's alert entry says: nothing to say when `count` and `snoozed` are 0."""

    count: int = 0  # open alerts needing attention (not snoozed)
    severity: str = ""  # the worst of those, "" without any
    severity_label: str = ""
    kinds: tuple[KindCount, ...] = field(default_factory=tuple)  # worst first, then most
    snoozed: int = 0
    anchor: str = ""  # the id of the episode section holding the worst alert


def client_alerts(alerts: Iterable[Alert], now: datetime | None = None) -> ClientAlerts:
    """The entry for these open alerts (every episode of one client)."""
    moment = now or timezone.now()
    awake: list[Alert] = []
    snoozed = 0
    for alert in alerts:
        if is_quiet(alert, moment):
            snoozed += 1
        else:
            awake.append(alert)
    if not awake:
        return ClientAlerts(snoozed=snoozed)
    per_kind: dict[str, tuple[int, int]] = {}
    for alert in awake:
        count, worst = per_kind.get(alert.kind, (0, 9))
        per_kind[alert.kind] = (count + 1, min(worst, SEVERITY_ORDER.get(alert.severity, 3)))
    labels = dict(AlertKind.choices)
    severities = list(SEVERITY_ORDER)
    ordered = sorted(per_kind.items(), key=lambda item: (item[1][1], -item[1][0], item[0]))
    worst_alert = min(awake, key=lambda a: (SEVERITY_ORDER.get(a.severity, 3), -a.pk))
    severity = worst_alert.severity
    return ClientAlerts(
        count=len(awake),
        severity=severity,
        severity_label=str(dict(AlertSeverity.choices).get(severity, severity)),
        kinds=tuple(
            KindCount(kind, str(labels.get(kind, kind)), count, severities[worst])
            for kind, (count, worst) in ordered
        ),
        snoozed=snoozed,
        anchor=f"alerts-{worst_alert.episode_id}",
    )
