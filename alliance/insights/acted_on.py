"""How often alerts were acted on (issue 12, point 4), as rows for the Insights alert page: risk apart,
then each other kind and every kind but risk together. The figures are
alliance.analytics.alert_quality's ("Acted on"); nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from alliance.care.caseload_forms import CLOSE_REASONS
from alliance.insights.presenters import RateRow, alert_kind_label, number, rate_row

NONE = "—"


@dataclass(frozen=True)
class ActedOnRow:
    kind: str
    label: str
    raised: int
    acted_on: RateRow
    first_action: str  # "median 5.0 hours (2.0 to 20.0; n=12)" or "—"
    repair_discussed: RateRow | None
    snoozed: RateRow | None  # None for risk: it can never be snoozed
    closed: str  # "Addressed with the client 3 · Duplicate 1" or "—"


@dataclass(frozen=True)
class ActedOnTables:
    risk: list[ActedOnRow]
    others: list[ActedOnRow]  # each kind but risk, then every kind but risk together

    @property
    def groups(self) -> list[tuple[str, list[ActedOnRow]]]:
        """The tables the page prints, titled, risk first; none without figures."""
        titled = [(_("Risk alerts"), self.risk), (_("Other alerts"), self.others)]
        return [(title, rows) for title, rows in titled if rows]


def _hours(q: Mapping[str, Any] | None) -> str:
    if not q or not q.get("n") or q.get("median") is None:
        return NONE
    return _("median %(median)s hours (%(q1)s to %(q3)s; n=%(n)s)") % {
        "median": number(q["median"], 1),
        "q1": number(q.get("q1"), 1),
        "q3": number(q.get("q3"), 1),
        "n": q["n"],
    }


def _closed(pairs: Sequence[Sequence[Any]]) -> str:
    labels = {code: str(label) for code, label in CLOSE_REASONS}
    parts = [f"{labels.get(code, code)} {count}" for code, count in pairs]
    return " · ".join(parts) if parts else NONE


def _row(kind: Mapping[str, Any]) -> ActedOnRow | None:
    acted = kind.get("acted_on")
    if not acted:  # figures cached before this table existed
        return None
    discussed, snoozed = acted.get("repair_discussed"), acted.get("snoozed")
    label = (
        _("Every kind but risk")
        if kind["kind"] == "all_but_risk"
        else alert_kind_label(kind["kind"])
    )
    return ActedOnRow(
        kind=kind["kind"],
        label=label,
        raised=kind["raised"],
        acted_on=rate_row(_("Acted on"), acted["acted_on"]),
        first_action=_hours(acted.get("hours_to_first_action")),
        repair_discussed=rate_row(_("Repair discussed"), discussed) if discussed else None,
        snoozed=rate_row(_("Snoozed"), snoozed) if snoozed else None,
        closed=_closed(acted.get("closed_by_reason") or ()),
    )


def acted_on_tables(quality: Mapping[str, Any]) -> ActedOnTables:
    risk: list[ActedOnRow] = []
    others: list[ActedOnRow] = []
    for kind in quality.get("kinds") or ():
        row = _row(kind)
        if row is not None:
            (risk if row.kind == "risk" else others).append(row)
    total = quality.get("all_but_risk")
    if total and (row := _row(total)) is not None:
        others.append(row)
    return ActedOnTables(risk=risk, others=others)
