"""The Insights figures for the pages: computed from records (the analytics modules' own results
as plain JSON, nothing recomputed here) and turned into rows a template can print.

Decisions
  - **Every rate is printed whole**: the percentage, "numerator of denominator" and the 95%
    interval; a rate with nobody to count says so ("no one to count") instead of 0%.
  - **Sentences** in plain words come from the analytics modules (English); the pages' own
    labels go through gettext.
  - **Therapist views are computed for every therapist at once** (`therapist_view` is cheap) and
    kept with the cached figures, so a therapist's page picks their own from the clinic's fit
    without another fit; the view decides who sees which (alliance.insights.views).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.analytics.alert_quality import alert_quality_report
from alliance.analytics.frames import session_frame
from alliance.analytics.jsonable import plain
from alliance.analytics.model import relationship_model
from alliance.analytics.outcomes import outcomes_report
from alliance.analytics.psychometrics import checkin_psychometrics
from alliance.analytics.records import ClinicData
from alliance.analytics.ruptures import (
    checkin_gaps,
    episode_changes,
    perspective_gap_outcomes,
    rupture_outcomes,
)
from alliance.analytics.therapist import (
    TherapistVariation,
    therapist_variation,
    therapist_view,
)
from alliance.insights.report import lower_is_better, outcome_label

OUTCOME = "phq9"


def _json(value: Any) -> Any:
    return plain(value.as_dict() if hasattr(value, "as_dict") else value)


# --- computing (each returns plain JSON, which the cache keeps) ------------------------------


def outcomes_figures(
    data: ClinicData,
    start: date | None,
    end: date | None,
    *,
    language: str | None = None,
    intake_band: str | None = None,
    end_reason: str | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    report = outcomes_report(
        data,
        start,
        end,
        language=language,
        intake_band=intake_band,
        end_reason=end_reason,
        as_of=as_of,
    )
    result = _json(report)
    assert isinstance(result, dict)
    return result


def relationship_figures(data: ClinicData) -> dict[str, Any]:
    """The model (with its lagged form), therapist variation with every therapist's own view, and
    the rupture and perspective-gap comparisons, all from the same records."""
    model = relationship_model(
        session_frame(data, OUTCOME),
        outcome_label=outcome_label(OUTCOME),
        lower_is_better=lower_is_better(OUTCOME),
    )
    variation = therapist_variation(model)
    label = outcome_label(OUTCOME)
    changes = episode_changes(data, OUTCOME)
    views = {
        t.therapist: _json(therapist_view(variation, t.therapist)) for t in variation.therapists
    }
    return {
        "model": _json(model),
        "therapists": _json(variation),
        "therapist_views": views,
        "ruptures": {
            "repair": _json(rupture_outcomes(changes, data.alerts, label)),
            "perspective_gap": _json(
                perspective_gap_outcomes(changes, data.alerts, checkin_gaps(data.responses), label)
            ),
        },
    }


def own_therapist_view(figures: Mapping[str, Any], therapist: str) -> dict[str, Any]:
    """This therapist's view; one with no estimate when they had no usable sessions."""
    found = figures["therapist_views"].get(therapist)
    if isinstance(found, dict):
        return found
    # Not in the fit: the analytics' own "no sessions yet" answer, with the clinic's spread.
    variation = TherapistVariation(
        outcome_label=figures["therapists"]["outcome_label"],
        therapists=(),
        n_therapists=figures["therapists"]["n_therapists"],
        therapist_variance=figures["therapists"]["therapist_variance"],
        therapist_share=figures["therapists"]["therapist_share"],
        unstable=figures["therapists"]["unstable"],
        sentences=(),
    )
    result = _json(therapist_view(variation, therapist))
    assert isinstance(result, dict)
    return result


def checkin_figures(data: ClinicData) -> dict[str, Any]:
    result = _json(checkin_psychometrics(data, outcome_instrument=OUTCOME))
    assert isinstance(result, dict)
    return result


def alert_figures(data: ClinicData, start: date | None, end: date | None) -> dict[str, Any]:
    result = _json(alert_quality_report(data, start, end))
    assert isinstance(result, dict)
    return result


# --- printing ------------------------------------------------------------------------------


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True)
class RateRow:
    label: str
    value: str  # "29%" or "—"
    counts: str  # "31 of 107" or "no one to count"
    interval: str  # "21% to 38%" or ""
    rate: float | None
    low: float | None
    high: float | None
    note: str = ""


def rate_row(label: str, rate: Mapping[str, Any] | None, note: str = "") -> RateRow:
    """One rate with its numerator, denominator and interval, or an honest "nobody to count"."""
    if not rate or not rate.get("denominator"):
        return RateRow(label, "—", _("no one to count"), "", None, None, None, note)
    value = rate.get("rate")
    low, high = rate.get("low"), rate.get("high")
    return RateRow(
        label=label,
        value=percent(value),
        counts=_("%(n)s of %(d)s") % {"n": rate["numerator"], "d": rate["denominator"]},
        interval=_("%(low)s to %(high)s") % {"low": percent(low), "high": percent(high)}
        if low is not None and high is not None
        else "",
        rate=value,
        low=low,
        high=high,
        note=note,
    )


def outcome_rows(outcomes: Mapping[str, Any]) -> dict[str, list[RateRow]]:
    """The outcomes report's rates, grouped as the page shows them."""
    nhs = outcomes["nhs"]
    attendance = outcomes["attendance"]
    completeness = outcomes["completeness"]
    return {
        "nhs": [
            rate_row(_("Recovery"), nhs["recovery"], _("national target 50%")),
            rate_row(_("Reliable recovery"), nhs["reliable_recovery"]),
            rate_row(_("Reliable improvement"), nhs["reliable_improvement"]),
            rate_row(_("Reliable deterioration"), nhs["reliable_deterioration"]),
        ],
        "engagement": [
            rate_row(_("Dropout"), outcomes["dropout"], _("of episodes ended in the period")),
            rate_row(_("Attendance"), attendance["attended"], _("of appointments due")),
            rate_row(_("No-show (DNA)"), attendance["no_show"], _("of appointments due")),
            rate_row(_("Late cancellation"), attendance["late_cancel"], _("of appointments due")),
        ],
        "completeness": [
            rate_row(
                _("Sessions with an outcome measure"),
                completeness["sessions_with_outcome"],
                _("of attended sessions"),
            ),
            rate_row(
                _("Sessions with a check-in"),
                completeness["sessions_with_checkin"],
                _("of attended sessions"),
            ),
            rate_row(
                _("Ended episodes with a last score"),
                completeness["ended_with_last_score"],
                _("of ended episodes with a session"),
            ),
        ],
    }


def lowest_completeness(rows: list[RateRow]) -> float | None:
    """The weakest completeness rate, which decides how loudly the page warns."""
    known = [r.rate for r in rows if r.rate is not None]
    return min(known) if known else None


TERMS = ("a_within", "a_between", "log_session", "Intercept")


def term_label(term: str) -> str:
    return {
        "a_within": _("Check-in above the client's own usual (within client)"),
        "a_between": _("Client's usual check-in (between clients)"),
        "log_session": _("Session (log)"),
        "Intercept": _("Intercept"),
    }.get(term, term)


@dataclass(frozen=True)
class EffectRow:
    term: str
    label: str
    estimate: str
    se: str
    interval: str


def effect_rows(model: Mapping[str, Any]) -> list[EffectRow]:
    effects = model.get("fixed_effects") or {}
    rows = []
    for term in TERMS:
        effect = effects.get(term)
        if not effect:
            continue
        rows.append(
            EffectRow(
                term,
                term_label(term),
                number(effect.get("estimate")),
                number(effect.get("se")),
                _("%(low)s to %(high)s")
                % {"low": number(effect.get("low")), "high": number(effect.get("high"))},
            )
        )
    return rows


ALERT_KIND_LABELS = {
    "risk": gettext_lazy("Risk"),
    "rupture": gettext_lazy("Rupture"),
    "early_weak_alliance": gettext_lazy("Early weak relationship"),
    "perspective_gap": gettext_lazy("Perspective gap"),
    "not_on_track": gettext_lazy("Not on track"),
    "deterioration": gettext_lazy("Deterioration"),
    "disengagement": gettext_lazy("Disengagement"),
    "all": gettext_lazy("All kinds"),
}


def alert_kind_label(kind: str) -> str:
    return str(ALERT_KIND_LABELS.get(kind, kind))


@dataclass(frozen=True)
class AlertRow:
    kind: str
    label: str
    raised: int
    per_week: str
    per_week_interval: str
    acknowledged: RateRow
    hours_to_acknowledge: str
    not_useful: RateRow
    repaired: RateRow | None
    days_to_repair: str
    still_open: int


def _quartiles(q: Mapping[str, Any] | None, unit: str) -> str:
    if not q or not q.get("n") or q.get("median") is None:
        return "—"
    return _("median %(median)s %(unit)s (%(q1)s to %(q3)s; n=%(n)s)") % {
        "median": number(q["median"], 1),
        "q1": number(q.get("q1"), 1),
        "q3": number(q.get("q3"), 1),
        "unit": unit,
        "n": q["n"],
    }


def alert_rows(quality: Mapping[str, Any]) -> list[AlertRow]:
    rows = []
    for kind in [*quality["kinds"], quality["all_kinds"]]:
        week = kind["per_therapist_week"]
        repair = kind.get("repair")
        rows.append(
            AlertRow(
                kind=kind["kind"],
                label=alert_kind_label(kind["kind"]),
                raised=kind["raised"],
                per_week=number(week.get("rate"), 2),
                per_week_interval=_("%(low)s to %(high)s")
                % {"low": number(week.get("low"), 2), "high": number(week.get("high"), 2)},
                acknowledged=rate_row(_("Acknowledged"), kind["acknowledged"]),
                hours_to_acknowledge=_quartiles(kind.get("hours_to_acknowledge"), _("hours")),
                not_useful=rate_row(_("Closed as not useful"), kind["not_useful"]),
                repaired=rate_row(_("Repaired"), repair["repaired"]) if repair else None,
                days_to_repair=_quartiles(repair.get("days_to_repair"), _("days"))
                if repair
                else "—",
                still_open=kind["still_open"],
            )
        )
    return rows
