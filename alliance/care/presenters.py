"""What the caseload table shows, formatted once in Python.

At 200 rows the template engine's per-variable cost dominated the page (each localised date filter
alone cost ~0.1 ms); formatting here keeps the caseload within its 150 ms budget
(benchmarks/pages.py prints the figure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import formats
from django.utils.translation import pgettext

from alliance.care.models import (
    AlertKind,
    AlertSeverity,
    Attendance,
    EndReason,
    Episode,
    Response,
)
from alliance.care.queries import AttentionGroup
from alliance.core import dates

_CODE = "C-CODE"
# In the order of alliance.care.queries.SEVERITY_ORDER (0 is the most severe).
_SEVERITIES = ("urgent", "red", "yellow", "info")


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    code: str
    name: str
    url: str
    active: bool
    status_label: str
    since: str
    next_appointment: str
    sessions: int
    phq9: str
    gad7: str
    checkin: str
    # The most severe open alert's severity ("urgent", "red", "yellow", "info"), "" without any.
    top_severity: str
    open_alerts: int


def _change(first: float | None, last: float | None) -> str:
    if last is None:
        return ""
    return f"{first:.0f} → {last:.0f}" if first is not None else f"{last:.0f}"


def caseload_rows(episodes: Sequence[Mapping[str, Any]]) -> list[CaseloadRow]:
    """Rows from alliance.care.queries.caseload (dicts)."""
    # Labels and month names resolved once for the whole table (they are lazy translations).
    reasons = {value: str(label) for value, label in EndReason.choices}
    active_label, ended_label = pgettext("episode", "Active"), pgettext("episode", "Ended")
    calendar = dates.names()
    decimal = str(formats.get_format("DECIMAL_SEPARATOR"))  # 4,5 in Spanish
    # One reverse() for the whole table: client codes are URL-safe ([A-Z0-9-]).
    url_pattern = reverse("client_detail", args=[_CODE])
    rows = []
    for e in episodes:
        active = e["status"] == "active"
        code = e["client__code"]
        rows.append(
            CaseloadRow(
                code=code,
                name=e["client__name"],
                url=url_pattern.replace(_CODE, code),
                active=active,
                status_label=active_label
                if active
                else f"{ended_label} · {reasons.get(e['end_reason'], '')}".rstrip(" ·"),
                since=dates.day(e["started_on"], calendar),
                next_appointment=dates.when(e["next_appointment_at"], calendar),
                sessions=e["sessions_attended"],
                phq9=_change(e["first_phq9"], e["last_phq9"]),
                gad7=_change(e["first_gad7"], e["last_gad7"]),
                checkin=f"{e['last_checkin']:.1f}".replace(".", decimal)
                if e["last_checkin"] is not None
                else "",
                top_severity=_SEVERITIES[e["top_severity"]]
                if e["top_severity"] is not None
                else "",
                open_alerts=e["open_alerts"],
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class AttentionRow:
    """One client in the caseload's "needs attention" list, with their open alerts summarised."""

    code: str
    name: str
    url: str
    severity: str
    severity_label: str
    # e.g. ["Risk", "Rupture (2)"], the most severe kind first.
    kinds: list[str]
    count: int


def attention_rows(
    groups: Sequence[AttentionGroup], names: Mapping[int, str]
) -> list[AttentionRow]:
    # Labels are lazy translations: resolved once per list here, not once per row.
    severity_labels = {value: str(label) for value, label in AlertSeverity.choices}
    kind_labels = {value: str(label) for value, label in AlertKind.choices}
    url_pattern = reverse("client_detail", args=[_CODE])
    rows = []
    for group in groups:
        severity = _SEVERITIES[group.top]
        kinds = sorted(group.kinds.items(), key=lambda item: (item[1][1], -item[1][0], item[0]))
        rows.append(
            AttentionRow(
                code=group.code,
                name=names.get(group.client_id, ""),
                url=url_pattern.replace(_CODE, group.code) + f"#alerts-{group.episode_id}",
                severity=severity,
                severity_label=severity_labels[severity],
                kinds=[
                    kind_labels.get(kind, kind) + (f" ({count})" if count > 1 else "")
                    for kind, (count, _top) in kinds
                ],
                count=group.count,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class SessionRow:
    number: int
    url: str
    when: str
    attendance: str
    attendance_label: str
    phq9: str
    phq9_risk: bool
    gad7: str
    checkin: str
    therapist: str
    # Totals by column key ("phq9", "gad7", "checkin", "therapist") for the charts.
    values: dict[str, float]


def _total(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def session_rows(episode: Episode) -> list[SessionRow]:
    """One row per appointment with the totals of what was answered for it (prefetched)."""
    labels = {value: str(label) for value, label in Attendance.choices}
    calendar = dates.names()
    url_pattern = reverse("appointment_detail", args=[0])
    rows = []
    for appointment in episode.appointments.all():
        latest: dict[str, Response] = {}
        for response in appointment.responses.all():
            latest["therapist" if response.respondent == "therapist" else response.instrument] = (
                response
            )
        values = {key: float(r.total) for key, r in latest.items() if r.total is not None}
        phq9 = latest.get("phq9")
        rows.append(
            SessionRow(
                number=appointment.session_number,
                url=url_pattern.replace("/0/", f"/{appointment.pk}/"),
                when=dates.dated(appointment.scheduled_at, calendar),
                attendance=appointment.attendance,
                attendance_label=labels.get(appointment.attendance, appointment.attendance),
                phq9=_total(values.get("phq9"), 0),
                phq9_risk=bool(phq9 and phq9.risk),
                gad7=_total(values.get("gad7"), 0),
                checkin=_total(values.get("checkin"), 1),
                therapist=_total(values.get("therapist"), 1),
                values=values,
            )
        )
    return rows
