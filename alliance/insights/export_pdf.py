"""The Insights report as PDF (issue 11, point 6): the JSON of `alliance.insights.report` turned
into tables of strings and one chart, rendered by Typst (`alliance/reports/pdf.py`,
`typst/insights_report.typ`). Data goes in as JSON, never pasted into markup.

Decisions
  - **Every rate with its denominator and interval** ("38 / 109 · 34.9% (26.6-44.2%)"); a rate with
    no denominator reads "none to count", never 0%.
  - **One chart** (matplotlib SVG): the NHS rates with their intervals and the national 50%
    recovery target; everything else is a table, which prints and copies better.
  - Only figures and the analytics' own sentences (built from numbers) appear: the report carries
    pseudonyms and no free text, so neither does the PDF.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.insights import phrasing
from alliance.insights.presenters import alert_kind_label, term_label
from alliance.reports.pdf import render_pdf

NONE = "\u2013"  # shown where a figure is missing

RATES = (
    (gettext_lazy("Recovery"), ("nhs", "recovery")),
    (gettext_lazy("Reliable recovery"), ("nhs", "reliable_recovery")),
    (gettext_lazy("Reliable improvement"), ("nhs", "reliable_improvement")),
    (gettext_lazy("Reliable deterioration"), ("nhs", "reliable_deterioration")),
    (gettext_lazy("Dropout"), ("dropout",)),
    (gettext_lazy("Attendance"), ("attendance", "attended")),
    (gettext_lazy("No-show (DNA)"), ("attendance", "no_show")),
    (gettext_lazy("Late cancellation"), ("attendance", "late_cancel")),
    (gettext_lazy("Sessions with an outcome measure"), ("completeness", "sessions_with_outcome")),
    (gettext_lazy("Sessions with a check-in"), ("completeness", "sessions_with_checkin")),
    (gettext_lazy("Ended episodes with a last score"), ("completeness", "ended_with_last_score")),
)


def _get(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(key)
    return tree


def interval_95() -> str:
    # A literal percent sign is written %% in a message, like every other (docs/translating.md).
    return _("95%% interval") % {}


def pct(value: Any) -> str:
    """A rate as a percentage in the active language's numbers (34,9% in Spanish)."""
    return "\u2013" if value is None else f"{formats.number_format(100 * float(value), 1)}%"


def num(value: Any, places: int = 2) -> str:
    return "\u2013" if value is None else formats.number_format(float(value), places)


def rate_row(label: str | Promise, rate: Any) -> list[str]:
    label = str(label)
    if not isinstance(rate, Mapping):
        return [label, "\u2013", "\u2013", "\u2013"]
    counted = f"{rate.get('numerator')} / {rate.get('denominator')}"
    if rate.get("rate") is None:
        return [label, counted, _("none to count"), "\u2013"]
    return [label, counted, pct(rate["rate"]), f"{pct(rate['low'])} \u2013 {pct(rate['high'])}"]


def _interval(entry: Mapping[str, Any], key: str = "value") -> str:
    if entry.get(key) is None:
        return "\u2013"
    return _("%(value)s (%(low)s to %(high)s)") % {
        "value": num(entry[key]),
        "low": num(entry.get("low")),
        "high": num(entry.get("high")),
    }


def _sections(status_tree: Any) -> str | None:
    if isinstance(status_tree, Mapping) and status_tree.get("status") == "not_available":
        return phrasing.translate(str(status_tree.get("reason", "not available")))
    return None


def nhs_chart(outcomes: Mapping[str, Any]) -> str:
    """NHS rates with their intervals and the 50% recovery target, as SVG text."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = [(label, _get(outcomes, path)) for label, path in RATES[:4]]
    rows = [(label, r) for label, r in rows if isinstance(r, Mapping) and r.get("rate") is not None]
    if not rows:
        return ""
    figure = Figure(figsize=(6.4, 2.2))
    axes = figure.add_subplot()
    for y, (_label, r) in enumerate(rows):
        axes.plot([r["low"] * 100, r["high"] * 100], [y, y], color="#0b5f73", linewidth=2)
        axes.plot([r["rate"] * 100], [y], "o", color="#0b5f73")
    target = _get(outcomes, ("nhs", "recovery_target"))
    if target is not None:
        axes.axvline(float(target) * 100, color="#a33", linestyle="--", linewidth=1)
        axes.text(
            float(target) * 100 + 1, len(rows) - 0.6, _("national target"), color="#a33", fontsize=7
        )
    axes.set_yticks(range(len(rows)), [f"{label} (n={r['denominator']})" for label, r in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel(_("%% with 95%% interval") % {})
    figure.tight_layout()
    out = io.StringIO()
    figure.savefig(out, format="svg")
    return out.getvalue()


def report_document(report: Mapping[str, Any], *, scope: str, identified: bool) -> dict[str, Any]:
    """The data the Typst template reads: strings and lists of rows, in the active language."""
    outcomes = report.get("outcomes") or {}
    period = report.get("period") or {}
    data: dict[str, Any] = {
        "lang": translation.get_language() or "en",
        "t": {
            "footer": _("Alliance · Insights report · confidential"),
            "outcomes": _("Outcomes"),
            "rates_note": _(
                "Rates with Wilson 95%% intervals; the national recovery target is 50%%."
            )
            % {},
            "relationship": _("The relationship and the outcome"),
            "therapists": _("Therapist variation"),
            "checkin": _("The check-in tests itself"),
            "status": _("Status:"),
            "alerts": _("Alert quality"),
        },
        "title": _("Insights report"),
        "subtitle": _("%(scope)s · period %(start)s to %(end)s · as of %(as_of)s")
        % {
            "scope": scope,
            "start": period.get("start") or _("all time"),
            "end": period.get("end") or _("now"),
            "as_of": report.get("as_of") or NONE,
        },
        "ids": _("Identified export: client codes and real dates.")
        if identified
        else phrasing.translate(str(report.get("ids", ""))),
        "outcomes_note": _sections(outcomes) or "",
        "counts": [],
        "rates": [[_("Figure"), "n / N", _("Rate"), interval_95()]],
        "effects": [[_("Measure"), _("Pairs"), _("Pre-post d"), interval_95()]],
        "chart": "",
    }
    if not data["outcomes_note"]:
        counts = outcomes.get("counts") or {}
        data["counts"] = [[_("Count"), _("Episodes")]] + [
            [label, str(counts.get(key, "\u2013"))]
            for label, key in (
                (_("Referrals"), "referrals"),
                (_("Started"), "started"),
                (_("Finished"), "finished"),
                (_("Active at period end"), "active_at_end"),
            )
        ]
        data["rates"] += [rate_row(label, _get(outcomes, path)) for label, path in RATES]
        for key, label in (("phq9", "PHQ-9"), ("gad7", "GAD-7")):
            e = _get(outcomes, ("effect_sizes", key)) or {}
            data["effects"].append(
                [label, str(e.get("n", "\u2013")), num(e.get("d")), _interval(e, "d")]
            )
        mean = _get(outcomes, ("sessions_per_episode", "mean")) or {}
        data["sessions"] = _("Sessions per episode: mean %(mean)s, n = %(n)s") % {
            "mean": _interval(mean, "mean"),
            "n": mean.get("n", 0),
        }
        data["chart"] = nhs_chart(outcomes)
    data["sessions"] = data.get("sessions", "")

    model = report.get("model") or {}
    data["model"] = [[_("Term"), _("Estimate"), _("SE"), interval_95()]] + [
        [
            term_label(term),
            num(f.get("estimate"), 3),
            num(f.get("se"), 3),
            _("%(low)s to %(high)s") % {"low": num(f.get("low"), 3), "high": num(f.get("high"), 3)},
        ]
        for term, f in (model.get("fixed_effects") or {}).items()
    ]
    data["variance"] = [[_("Variance component"), _("Estimate")]] + [
        [k, num(v, 3)] for k, v in (model.get("variance_components") or {}).items()
    ]
    lagged = model.get("lagged") or {}
    data["model_sentences"] = phrasing.translate_all(
        [
            *(model.get("sentences") or []),
            *(lagged.get("sentences") or []),
            *([model["warning"]] if model.get("warning") else []),
        ]
    )
    therapists = report.get("therapists") or {}
    data["therapists"] = [[_("Therapist"), _("Clients"), _("Estimate"), interval_95()]] + [
        [
            str(t.get("therapist")),
            str(t.get("clients")),
            num(t.get("estimate")),
            _("%(low)s to %(high)s") % {"low": num(t.get("low")), "high": num(t.get("high"))},
        ]
        for t in therapists.get("therapists") or []
    ]
    data["therapist_sentences"] = phrasing.translate_all(therapists.get("sentences") or [])

    psychometrics = report.get("psychometrics") or {}
    data["psychometrics"] = [[_("Check"), _("Result")]]
    data["psychometrics_note"] = _sections(psychometrics) or ""
    if not data["psychometrics_note"]:
        for label, key in (
            (_("Internal consistency"), "internal_consistency"),
            (_("One factor"), "one_factor"),
            (_("Stability"), "stability"),
            (_("Ceiling"), "ceiling"),
            (_("Next-session outcome"), "next_outcome"),
            (_("Dropout"), "dropout"),
        ):
            part = psychometrics.get(key) or {}
            text = (
                phrasing.translate(str(part["interpretation"]))
                if part.get("interpretation")
                else _("not enough data (have %(have)s, need %(need)s)")
                % {"have": part.get("have"), "need": part.get("need")}
                if part.get("status") == "not_enough_data"
                else "\u2013"
            )
            data["psychometrics"].append([label, str(text)])
    data["psychometrics_status"] = phrasing.translate(
        str(psychometrics.get("validation_status", ""))
    )

    alerts = report.get("alert_quality") or {}
    data["alerts_note"] = _sections(alerts) or ""
    data["alerts"] = [
        [_("Alert kind"), _("Raised"), _("Per therapist-week"), _("Acknowledged"), _("Not useful")]
    ]
    if not data["alerts_note"]:
        for kind in [*(alerts.get("kinds") or []), alerts.get("all_kinds") or {}]:
            if not kind:
                continue
            per_week = kind.get("per_therapist_week") or {}
            data["alerts"].append(
                [
                    alert_kind_label(str(kind.get("kind"))),
                    str(kind.get("raised")),
                    f"{num(per_week.get('rate'), 3)} "
                    f"({num(per_week.get('low'), 3)}\u2013{num(per_week.get('high'), 3)})",
                    " ".join(rate_row("", kind.get("acknowledged"))[1:3]),
                    " ".join(rate_row("", kind.get("not_useful"))[1:3]),
                ]
            )
    return data


def report_pdf(
    report: Mapping[str, Any], *, scope: str, identified: bool = False, at: datetime | None = None
) -> bytes:
    return render_pdf(
        "insights_report", report_document(report, scope=scope, identified=identified), at=at
    )
