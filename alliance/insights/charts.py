"""The Insights charts, drawn by matplotlib as CSP-safe inline SVG (alliance.care.chart_svg: its
figure defaults, colours, `to_svg` and its cache and drawing lock).

Decisions
  - **Rates** are points with their 95% interval as a bar, on a 0-100% axis, with the national 50%
    recovery target as a dashed line labelled in the chart; a rate with nobody to count is left
    out of the chart (the table beside it says "no one to count").
  - **Therapist variation**: each therapist's shrunk estimate with its interval, in the order the
    analytics give (therapist id, never by estimate), around a zero line (the clinic mean). No
    ranks, no colours for "good" or "bad".
  - Every chart's numbers are in a table on the page too; the chart's accessible name summarises it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from alliance.care.chart_svg import ALERT, CLIENT, MUTED, cached, new_figure, to_svg
from alliance.insights.presenters import RateRow

TARGET = 0.5


def rates_chart(
    rows: Sequence[RateRow], *, label: str, target: float | None = TARGET
) -> SafeString:
    """Rates with their intervals (and the recovery target)."""
    shown = [r for r in rows if r.rate is not None and r.low is not None and r.high is not None]
    target_text = (
        _("National recovery target %(p)s%%") % {"p": round(100 * target)} if target else ""
    )
    key = (
        "insights-rates",
        tuple((r.label, r.rate, r.low, r.high) for r in shown),
        target,
        target_text,
    )

    def draw() -> SafeString:
        height = 0.9 + 0.42 * max(len(shown), 1)
        figure = new_figure(6.4, height)
        axes = figure.add_subplot()
        positions = list(range(len(shown)))[::-1]
        for y, row in zip(positions, shown, strict=True):
            assert row.rate is not None and row.low is not None and row.high is not None
            axes.errorbar(
                [100 * row.rate],
                [y],
                xerr=[[100 * (row.rate - row.low)], [100 * (row.high - row.rate)]],
                fmt="o",
                color=CLIENT,
                ecolor=CLIENT,
                elinewidth=2,
                capsize=4,
                markersize=6,
            )
        if target:
            axes.axvline(
                100 * target, color=ALERT, linestyle="--", linewidth=1.2, label=target_text
            )
            axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=1)
        axes.set_yticks(positions, [r.label for r in shown])
        axes.set_xlim(0, 100)
        axes.set_ylim(-0.6, max(len(shown), 1) - 0.4)
        axes.set_xlabel(_("Percent, with 95%% interval") % {})
        axes.grid(axis="y", visible=False)
        return to_svg(figure, label=label, css_class="chart insights-chart")

    return cached(key, draw)


def therapist_chart(
    rows: Sequence[tuple[str, float, float, float]], *, outcome: str, label: str
) -> SafeString:
    """(name, estimate, low, high) per therapist, in the given (id) order, around the clinic mean."""
    key = ("insights-therapists", tuple(rows), outcome)

    def draw() -> SafeString:
        figure = new_figure(6.4, 0.9 + 0.38 * max(len(rows), 1))
        axes = figure.add_subplot()
        positions = list(range(len(rows)))[::-1]
        for y, (_name, estimate, low, high) in zip(positions, rows, strict=True):
            axes.errorbar(
                [estimate],
                [y],
                xerr=[[estimate - low], [high - estimate]],
                fmt="o",
                color=CLIENT,
                ecolor=CLIENT,
                elinewidth=2,
                capsize=4,
                markersize=6,
            )
        axes.axvline(0, color=MUTED, linewidth=1.2)
        axes.set_yticks(positions, [name for name, *_rest in rows])
        axes.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        axes.set_xlabel(
            _("%(outcome)s points relative to the clinic mean (95%% interval; lower is better)")
            % {"outcome": outcome}
        )
        axes.grid(axis="y", visible=False)
        return to_svg(figure, label=label, css_class="chart insights-chart")

    return cached(key, draw)
