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

from alliance.reports.pdf import render_pdf

NONE = "\u2013"  # shown where a figure is missing

RATES = (
    ("Recovery", ("nhs", "recovery")),
    ("Reliable recovery", ("nhs", "reliable_recovery")),
    ("Reliable improvement", ("nhs", "reliable_improvement")),
    ("Reliable deterioration", ("nhs", "reliable_deterioration")),
    ("Dropout", ("dropout",)),
    ("Attendance", ("attendance", "attended")),
    ("No-show (DNA)", ("attendance", "no_show")),
    ("Late cancellation", ("attendance", "late_cancel")),
    ("Sessions with an outcome measure", ("completeness", "sessions_with_outcome")),
    ("Sessions with a check-in", ("completeness", "sessions_with_checkin")),
    ("Ended episodes with a last score", ("completeness", "ended_with_last_score")),
)


def _get(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(key)
    return tree


def pct(value: Any) -> str:
    return "\u2013" if value is None else f"{100 * float(value):.1f}%"


def num(value: Any, places: int = 2) -> str:
    return "\u2013" if value is None else f"{float(value):.{places}f}"


def rate_row(label: str, rate: Any) -> list[str]:
    if not isinstance(rate, Mapping):
        return [label, "\u2013", "\u2013", "\u2013"]
    counted = f"{rate.get('numerator')} / {rate.get('denominator')}"
    if rate.get("rate") is None:
        return [label, counted, "none to count", "\u2013"]
    return [label, counted, pct(rate["rate"]), f"{pct(rate['low'])} \u2013 {pct(rate['high'])}"]


def _interval(entry: Mapping[str, Any], key: str = "value") -> str:
    if entry.get(key) is None:
        return "\u2013"
    return f"{num(entry[key])} ({num(entry.get('low'))} to {num(entry.get('high'))})"


def _sections(status_tree: Any) -> str | None:
    if isinstance(status_tree, Mapping) and status_tree.get("status") == "not_available":
        return str(status_tree.get("reason", "not available"))
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
    for y, (_, r) in enumerate(rows):
        axes.plot([r["low"] * 100, r["high"] * 100], [y, y], color="#0b5f73", linewidth=2)
        axes.plot([r["rate"] * 100], [y], "o", color="#0b5f73")
    target = _get(outcomes, ("nhs", "recovery_target"))
    if target is not None:
        axes.axvline(float(target) * 100, color="#a33", linestyle="--", linewidth=1)
        axes.text(
            float(target) * 100 + 1, len(rows) - 0.6, "national target", color="#a33", fontsize=7
        )
    axes.set_yticks(range(len(rows)), [f"{label} (n={r['denominator']})" for label, r in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("% with 95% interval")
    figure.tight_layout()
    out = io.StringIO()
    figure.savefig(out, format="svg")
    return out.getvalue()


def report_document(report: Mapping[str, Any], *, scope: str, identified: bool) -> dict[str, Any]:
    """The data the Typst template reads: strings and lists of rows."""
    outcomes = report.get("outcomes") or {}
    period = report.get("period") or {}
    data: dict[str, Any] = {
        "title": "Insights report",
        "subtitle": (
            f"{scope} · period {period.get('start') or 'all time'} to {period.get('end') or 'now'}"
            f" · as of {report.get('as_of') or NONE}"
        ),
        "ids": "Identified export: client codes and real dates."
        if identified
        else str(report.get("ids", "")),
        "outcomes_note": _sections(outcomes) or "",
        "counts": [],
        "rates": [["Figure", "n / N", "Rate", "95% interval"]],
        "effects": [["Measure", "Pairs", "Pre\u2013post d", "95% interval"]],
        "chart": "",
    }
    if not data["outcomes_note"]:
        counts = outcomes.get("counts") or {}
        data["counts"] = [["Count", "Episodes"]] + [
            [label, str(counts.get(key, "\u2013"))]
            for label, key in (
                ("Referrals", "referrals"),
                ("Started", "started"),
                ("Finished", "finished"),
                ("Active at period end", "active_at_end"),
            )
        ]
        data["rates"] += [rate_row(label, _get(outcomes, path)) for label, path in RATES]
        for key, label in (("phq9", "PHQ-9"), ("gad7", "GAD-7")):
            e = _get(outcomes, ("effect_sizes", key)) or {}
            data["effects"].append(
                [label, str(e.get("n", "\u2013")), num(e.get("d")), _interval(e, "d")]
            )
        mean = _get(outcomes, ("sessions_per_episode", "mean")) or {}
        data["sessions"] = (
            f"Sessions per episode: mean {_interval(mean, 'mean')}, n = {mean.get('n', 0)}"
        )
        data["chart"] = nhs_chart(outcomes)
    data["sessions"] = data.get("sessions", "")

    model = report.get("model") or {}
    data["model"] = [["Term", "Estimate", "SE", "95% interval"]] + [
        [
            term,
            num(f.get("estimate"), 3),
            num(f.get("se"), 3),
            f"{num(f.get('low'), 3)} to {num(f.get('high'), 3)}",
        ]
        for term, f in (model.get("fixed_effects") or {}).items()
    ]
    data["variance"] = [["Variance component", "Estimate"]] + [
        [k, num(v, 3)] for k, v in (model.get("variance_components") or {}).items()
    ]
    lagged = model.get("lagged") or {}
    data["model_sentences"] = [
        *(model.get("sentences") or []),
        *(lagged.get("sentences") or []),
        *([model["warning"]] if model.get("warning") else []),
    ]
    therapists = report.get("therapists") or {}
    data["therapists"] = [["Therapist", "Clients", "Estimate", "95% interval"]] + [
        [
            str(t.get("therapist")),
            str(t.get("clients")),
            num(t.get("estimate")),
            f"{num(t.get('low'))} to {num(t.get('high'))}",
        ]
        for t in therapists.get("therapists") or []
    ]
    data["therapist_sentences"] = list(therapists.get("sentences") or [])

    psychometrics = report.get("psychometrics") or {}
    data["psychometrics"] = [["Check", "Result"]]
    data["psychometrics_note"] = _sections(psychometrics) or ""
    if not data["psychometrics_note"]:
        for label, key in (
            ("Internal consistency", "internal_consistency"),
            ("One factor", "one_factor"),
            ("Stability", "stability"),
            ("Ceiling", "ceiling"),
            ("Next-session outcome", "next_outcome"),
            ("Dropout", "dropout"),
        ):
            part = psychometrics.get(key) or {}
            text = part.get("interpretation") or (
                f"not enough data (have {part.get('have')}, need {part.get('need')})"
                if part.get("status") == "not_enough_data"
                else "\u2013"
            )
            data["psychometrics"].append([label, str(text)])
    data["psychometrics_status"] = str(psychometrics.get("validation_status", ""))

    alerts = report.get("alert_quality") or {}
    data["alerts_note"] = _sections(alerts) or ""
    data["alerts"] = [["Alert kind", "Raised", "Per therapist-week", "Acknowledged", "Not useful"]]
    if not data["alerts_note"]:
        for kind in [*(alerts.get("kinds") or []), alerts.get("all_kinds") or {}]:
            if not kind:
                continue
            per_week = kind.get("per_therapist_week") or {}
            data["alerts"].append(
                [
                    str(kind.get("kind")),
                    str(kind.get("raised")),
                    f"{num(per_week.get('rate'), 3)} ({num(per_week.get('low'), 3)}\u2013{num(per_week.get('high'), 3)})",
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
