"""The charts of an episode, drawn with matplotlib (alliance.care.chart_svg) as CSP-safe inline SVG.

- Outcome (PHQ-9, GAD-7) by session against the expected band of the not-on-track model
  (alliance.alerts.trajectory), with the caseness cut-off, reliable-change rings, missed sessions on
  the axis and alerts/repairs along the top.
- The relationship check-in by dimension, the therapist's ratings beside the client's (small multiples).
- Goal progress (Goal-Based Outcomes, 0-10 per goal).

`load` reads what they show for some episodes in a fixed number of queries; the drawing functions take
that plain data, so the same charts go into the pages and the PDFs (alliance.reports). Each chart
carries its own numbers as a table: the pages show it under the chart for screen readers and for anyone
who prefers numbers, and the summary is the chart's accessible name.

The band: the expected score for this client's intake ± the model's yellow residual percentile (75th by
default), and a dotted line at the red percentile (90th) above it. The percentiles are one-sided (a
score above them is "not on track"); the lower edge mirrors the upper one only to draw a range around
the expectation, and is labelled as such.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db.models import Case, F, JSONField, Value, When
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from alliance.alerts import AlertSettings
from alliance.alerts.trajectory import TrajectoryModel
from alliance.care.alert_norms import cached_norms, clinic_alert_settings
from alliance.care.chart_svg import (
    ALERT,
    BAND,
    CLIENT,
    MUTED,
    SECOND,
    THERAPIST,
    cached,
    to_svg,
)
from alliance.care.models import Alert, AlertStatus, Appointment, Attendance, Respondent, Response
from alliance.measures import UnknownInstrument, get_instrument

Audience = Literal["staff", "client"]
OUTCOMES = ("phq9", "gad7")
DIMENSIONS = ("bond", "goals", "tasks", "overall")
CHECKIN = "checkin"
THERAPIST_CHECKIN = "checkin-therapist"
GBO = "gbo"
MISSED = (Attendance.NO_SHOW, Attendance.LATE_CANCEL)
# Legible at 360 px: a figure about as wide as a phone screen in CSS pixels, so its text is drawn near
# its nominal size there and scales up on a laptop.
WIDTH = 4.6
FONT = 9.5
ROW = 0.2  # inches per legend row

Points = tuple[tuple[int, float], ...]
DASH = "\N{EN DASH}"


@dataclass(frozen=True)
class EpisodeData:
    """What the charts of one episode show, as plain hashable values (the drawing cache key)."""

    last_session: int
    outcomes: Mapping[str, Points]
    checkin: Mapping[str, Points]  # dimension -> client ratings
    therapist: Mapping[str, Points]  # dimension -> therapist ratings
    goals: Mapping[int, Points]  # goal number -> GBO ratings
    missed: tuple[tuple[int, str], ...]  # (session, attendance)
    raised: tuple[tuple[int, str], ...]  # (session, alert kind)
    repaired: tuple[int, ...]  # sessions by which an alert was marked repaired

    def key(self) -> tuple[Any, ...]:
        return (
            self.last_session,
            tuple(sorted(self.outcomes.items())),
            tuple(sorted(self.checkin.items())),
            tuple(sorted(self.therapist.items())),
            tuple(sorted(self.goals.items())),
            self.missed,
            self.raised,
            self.repaired,
        )


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: SafeString
    summary: str
    # The numbers behind the chart: a header row, then one row per session.
    table: list[list[str]] = field(default_factory=list)

    @property
    def table_html(self) -> SafeString:
        """The table as HTML, built here: two years of rows through the template engine cost more
        than the rest of the client page."""
        if not self.table:
            return SafeString("")
        head = "".join(f'<th scope="col">{escape(cell)}</th>' for cell in self.table[0])
        body = "".join(
            f'<tr><th scope="row">{escape(row[0])}</th>'
            + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
            + "</tr>"
            for row in self.table[1:]
        )
        return mark_safe(  # noqa: S308 - every cell is escaped above
            f'<table class="chart-table"><caption class="visually-hidden">{escape(self.title)}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _empty() -> EpisodeData:
    return EpisodeData(0, {}, {}, {}, {}, (), (), ())


def load(episode_ids: Iterable[int]) -> dict[int, EpisodeData]:
    """Chart data for these episodes (the caller has checked access) in three queries."""
    ids = list(episode_ids)
    if not ids:
        return {}
    sessions: dict[int, list[tuple[int, str, datetime]]] = defaultdict(list)
    for episode_id, number, attendance, when in (
        Appointment.objects.filter(episode_id__in=ids)
        .order_by("session_number")
        .values_list("episode_id", "session_number", "attendance", "scheduled_at")
    ):
        sessions[episode_id].append((number, attendance, when))
    # Item answers only where the charts use them: parsing every PHQ-9's answers for two years of
    # sessions would cost more than the rest of the page.
    answers_of = Case(
        When(instrument__in=(CHECKIN, THERAPIST_CHECKIN, GBO), then=F("answers")),
        default=Value(None),
        output_field=JSONField(),
    )
    latest: dict[int, dict[tuple[str, str, int], tuple[float | None, dict[str, Any] | None]]] = (
        defaultdict(dict)
    )
    for episode_id, number, instrument, respondent, total, answers in (
        Response.objects.filter(episode_id__in=ids, appointment__isnull=False)
        .annotate(chart_answers=answers_of)
        .order_by("submitted_at", "pk")
        .values_list(
            "episode_id",
            "appointment__session_number",
            "instrument",
            "respondent",
            "total",
            "chart_answers",
        )
    ):
        latest[episode_id][(instrument, respondent, number)] = (total, answers)
    alerts: dict[int, list[tuple[str, int | None, str, datetime | None]]] = defaultdict(list)
    for episode_id, kind, raised_at, status, resolved_at in (
        Alert.objects.filter(episode_id__in=ids)
        .order_by("created_at")
        .values_list("episode_id", "kind", "session_number", "status", "resolved_at")
    ):
        alerts[episode_id].append((kind, raised_at, status, resolved_at))
    return {
        episode_id: _episode_data(sessions[episode_id], latest[episode_id], alerts[episode_id])
        for episode_id in ids
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _episode_data(
    sessions: Sequence[tuple[int, str, datetime]],
    responses: Mapping[tuple[str, str, int], tuple[float | None, dict[str, Any] | None]],
    alerts: Sequence[tuple[str, int | None, str, datetime | None]],
) -> EpisodeData:
    outcomes: dict[str, list[tuple[int, float]]] = defaultdict(list)
    checkin: dict[str, list[tuple[int, float]]] = defaultdict(list)
    therapist: dict[str, list[tuple[int, float]]] = defaultdict(list)
    goals: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (instrument, respondent, number), (total, answers) in sorted(
        responses.items(), key=lambda item: item[0][2]
    ):
        if instrument in OUTCOMES and respondent == Respondent.CLIENT and total is not None:
            outcomes[instrument].append((number, float(total)))
        elif instrument in (CHECKIN, THERAPIST_CHECKIN) and answers:
            target = therapist if respondent == Respondent.THERAPIST else checkin
            for dimension in DIMENSIONS:
                if (value := _number(answers.get(dimension))) is not None:
                    target[dimension].append((number, value))
        elif instrument == GBO and answers:
            for goal in (1, 2, 3):
                if (value := _number(answers.get(f"goal{goal}"))) is not None:
                    goals[goal].append((number, value))
    repaired: list[int] = []
    for _kind, _session, status, resolved_at in alerts:
        if status == AlertStatus.REPAIRED and resolved_at is not None:
            # The repair is shown at the last session held by the time it was recorded.
            before = [n for n, _a, when in sessions if when <= resolved_at]
            if before:
                repaired.append(before[-1])
    return EpisodeData(
        last_session=max((n for n, _a, _w in sessions), default=0),
        outcomes={k: tuple(v) for k, v in outcomes.items()},
        checkin={k: tuple(v) for k, v in checkin.items()},
        therapist={k: tuple(v) for k, v in therapist.items()},
        goals={k: tuple(v) for k, v in goals.items()},
        missed=tuple((n, a) for n, a, _w in sessions if a in MISSED),
        raised=tuple((n, kind) for kind, n, _s, _r in alerts if n is not None),
        repaired=tuple(sorted(set(repaired))),
    )


def trajectories(settings: AlertSettings, norms: Any) -> dict[str, TrajectoryModel]:
    """The not-on-track model per outcome instrument from the clinic's cached norms (ClinicNorms)."""
    models = {}
    for instrument in OUTCOMES:
        try:
            models[instrument] = norms.trajectory(instrument, settings)
        except ValueError:  # no default curve configured for it
            continue
    return models


# --- words ---------------------------------------------------------------------------------------

# Chart words in the active language: the staff member's on staff pages, the client's on theirs
# (outcome_chart and the others take `lang`). Staff and client read the same charts with a few
# words apart (the client's own line is "Your score"; the relationship chart is staff only).
WORDS: Mapping[str, Promise] = {
    "session": gettext_lazy("Session"),
    "score": gettext_lazy("Score"),
    "your_score": gettext_lazy("Your score"),
    "expected": gettext_lazy("Expected range"),
    "expected_default": gettext_lazy("Expected (default curve)"),
    "red": gettext_lazy("Not on track above"),
    # Translators: the caseness threshold of a measure, followed by its value.
    "cutoff": gettext_lazy("Cut-off"),
    "improved": gettext_lazy("Reliable improvement"),
    "worse": gettext_lazy("Reliable deterioration"),
    "no_show": pgettext_lazy("chart marker", "No-show"),
    "late_cancel": gettext_lazy("Late cancellation"),
    "alert": gettext_lazy("Alert raised"),
    "repaired": gettext_lazy("Repaired"),
    # Translators: the client's line on a staff chart, beside the therapist's.
    "client": pgettext_lazy("chart line", "Client"),
    "therapist": gettext_lazy("Therapist"),
    "goal": gettext_lazy("Goal"),
    "goals_title": gettext_lazy("Goal progress (0 to 10, higher is better)"),
    "relationship_title": gettext_lazy("The relationship by dimension (0 to 10, higher is better)"),
    "table_note": gettext_lazy("The table has every value."),
    "bond": gettext_lazy("Bond"),
    "goals": gettext_lazy("Goals"),
    "tasks": gettext_lazy("Tasks"),
    "overall": gettext_lazy("Overall"),
    "lower_better": gettext_lazy("lower is better"),
    "phq9": gettext_lazy("Mood"),
    "gad7": gettext_lazy("Worry"),
}


def words(lang: str | None = None) -> Mapping[str, str]:
    with translation.override(lang or _active()):
        return {key: str(text) for key, text in WORDS.items()}


def _active() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _fmt(value: float | None) -> str:
    """A score as the active language writes it (4,5 in Spanish); whole numbers bare."""
    if value is None:
        return ""
    return formats.number_format(value, 0 if value == int(value) else 1)


def _session_axis(axes: Axes, last: int, label: str) -> None:
    axes.set_xlim(0.5, max(last, 2) + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8, min_n_ticks=2))
    axes.set_xlabel(label, fontsize=FONT)
    axes.tick_params(labelsize=FONT - 0.5)


def _figure(height: float) -> Figure:
    # Not chart_svg.new_figure: its constrained layout draws every figure twice (half the drawing
    # time); these figures place their axes with fixed margins in `_legend`.
    return Figure(figsize=(WIDTH, height))


def _legend(
    figure: Any, axes: Axes | Sequence[Axes], columns: int = 2, *, left: float = 0.55
) -> None:
    """A legend under the axes, and fixed margins around them (in inches).

    The legend gets its own room under the axes, so the plot keeps its size whatever the legend."""
    handles: dict[str, Any] = {}
    for ax in axes if isinstance(axes, Sequence) else [axes]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    rows = -(-len(handles) // columns)
    width, height = figure.get_size_inches()
    height += ROW * rows + 0.12
    figure.set_size_inches(width, height)
    if handles:
        figure.legend(
            list(handles.values()),
            list(handles),
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=columns,
            fontsize=FONT - 1,
            handlelength=1.8,
            borderaxespad=0.2,
            columnspacing=1.0,
        )
    figure.subplots_adjust(
        left=left / width,
        right=1 - 0.12 / width,
        top=1 - 0.22 / height,
        bottom=(0.56 + ROW * rows) / height,
        hspace=0.45,
        wspace=0.12,
    )


# --- outcome ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    sessions: tuple[int, ...]
    expected: tuple[float, ...]
    yellow: tuple[float, ...]
    red: tuple[float, ...]
    default_curve: bool


def band_for(model: TrajectoryModel, points: Points, last_session: int) -> Band | None:
    """The expected score ± the yellow boundary for this client's intake (the first score)."""
    if not points:
        return None
    intake_session, intake = points[0]
    sessions = tuple(range(intake_session, max(last_session, intake_session) + 1))
    scored = model.score(sessions, [0.0] * len(sessions), intake)
    return Band(
        sessions=sessions,
        expected=tuple(round(float(v), 2) for v in scored.expected),
        yellow=tuple(round(float(v), 2) for v in scored.yellow),
        red=tuple(round(float(v), 2) for v in scored.red),
        default_curve=model.source == "default",
    )


def reliable_changes(points: Points, threshold: float | None) -> dict[int, int]:
    """Session -> -1 (reliably better: lower) or +1 (reliably worse) against the first score."""
    if not points or not threshold:
        return {}
    intake = points[0][1]
    return {n: (1 if v > intake else -1) for n, v in points[1:] if abs(v - intake) >= threshold}


def outcome_chart(
    data: EpisodeData,
    instrument: str,
    model: TrajectoryModel | None,
    *,
    audience: Audience = "staff",
    lang: str | None = None,
) -> Chart | None:
    """The outcome chart in `lang` (by default the active language: the staff member's)."""
    lang = lang or _active()
    with translation.override(lang):
        return _outcome_chart(data, instrument, model, audience, lang)


def _outcome_chart(
    data: EpisodeData,
    instrument: str,
    model: TrajectoryModel | None,
    audience: Audience,
    lang: str,
) -> Chart | None:
    points = data.outcomes.get(instrument, ())
    if not points:
        return None
    try:
        inst = get_instrument(instrument)
    except UnknownInstrument:
        return None
    rules = inst.rules
    if rules.total_range is None:  # open questions only: no score to chart
        return None
    staff = audience == "staff"
    band = band_for(model, points, data.last_session) if staff and model is not None else None
    threshold = rules.reliable_change.threshold if rules.reliable_change else None
    changes = reliable_changes(points, threshold) if staff else {}
    cutoff = rules.cutoff.value if rules.cutoff and staff else None
    w = words(lang)
    short = {"phq9": "PHQ-9", "gad7": "GAD-7"}.get(instrument, inst.title(lang))
    top = rules.total_range[1]
    title = (
        _("%(measure)s by session (%(direction)s)")
        % {"measure": short, "direction": w["lower_better"]}
        if staff
        else f"{w.get(instrument, short)} ({short}): {w['lower_better']}"
    )
    summary = _outcome_summary(short, points, band, cutoff, changes, data, staff, w)

    def draw() -> SafeString:
        figure = _figure(2.5)
        axes = figure.add_subplot()
        if band is not None:
            low = [max(e - y, 0.0) for e, y in zip(band.expected, band.yellow, strict=True)]
            high = [e + y for e, y in zip(band.expected, band.yellow, strict=True)]
            label = w["expected_default"] if band.default_curve else w["expected"]
            axes.fill_between(band.sessions, low, high, color=BAND, linewidth=0, label=label)
            axes.plot(band.sessions, band.expected, color=MUTED, linewidth=1, linestyle="--")
            axes.plot(
                band.sessions,
                [e + r for e, r in zip(band.expected, band.red, strict=True)],
                color=ALERT,
                linewidth=1,
                linestyle=":",
                label=w["red"],
            )
        if cutoff is not None:
            axes.axhline(
                cutoff,
                color=MUTED,
                linewidth=1,
                linestyle="-.",
                label=f"{w['cutoff']} {_fmt(cutoff)}",
            )
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        axes.plot(
            xs,
            ys,
            color=CLIENT,
            marker="o",
            markersize=4,
            linewidth=2,
            label=short if staff else w["your_score"],
        )
        for direction, colour, label in ((-1, CLIENT, w["improved"]), (1, ALERT, w["worse"])):
            marked = [(n, v) for n, v in points if changes.get(n) == direction]
            if marked:
                axes.plot(
                    [n for n, _ in marked],
                    [v for _, v in marked],
                    linestyle="none",
                    marker="o",
                    markersize=8,
                    markerfacecolor="none",
                    markeredgecolor=colour,
                    markeredgewidth=1.5,
                    label=label,
                )
        if staff:
            _missed_and_alerts(axes, data, top, w)
        axes.set_ylim(0, top)
        axes.set_ylabel(w["score"], fontsize=FONT)
        _session_axis(axes, data.last_session, w["session"])
        _legend(figure, axes)
        return to_svg(figure, label=summary)

    svg = cached(("outcome", instrument, audience, lang, data.key(), band), draw)
    header = [w["session"], short]
    if band is not None:
        header.append(w["expected"])
    if staff and threshold:
        header.append(w["improved"] + " / " + w["worse"].lower())
    expected = dict(zip(band.sessions, band.expected, strict=True)) if band else {}
    rows = [header]
    for n, v in points:
        row = [str(n), _fmt(v)]
        if band is not None:
            row.append(_fmt(expected.get(n)))
        if staff and threshold:
            row.append({-1: w["improved"], 1: w["worse"]}.get(changes.get(n, 0), ""))
        rows.append(row)
    return Chart(instrument, title, svg, summary, rows)


def _missed_and_alerts(axes: Axes, data: EpisodeData, top: float, w: Mapping[str, str]) -> None:
    for attendance, marker, label in (
        (Attendance.NO_SHOW, "x", w["no_show"]),
        (Attendance.LATE_CANCEL, "+", w["late_cancel"]),
    ):
        sessions = [n for n, a in data.missed if a == attendance]
        if sessions:
            axes.plot(
                sessions,
                [0.0] * len(sessions),
                linestyle="none",
                marker=marker,
                markersize=8,
                markeredgewidth=2,
                color=THERAPIST,
                clip_on=False,
                label=label,
            )
    raised = sorted({n for n, _kind in data.raised})
    if raised:
        axes.plot(
            raised,
            [top] * len(raised),
            linestyle="none",
            marker="v",
            markersize=7,
            color=ALERT,
            clip_on=False,
            label=w["alert"],
        )
    if data.repaired:
        axes.plot(
            list(data.repaired),
            [top * 0.94] * len(data.repaired),
            linestyle="none",
            marker="^",
            markersize=7,
            color=SECOND,
            clip_on=False,
            label=w["repaired"],
        )


def _outcome_summary(
    short: str,
    points: Points,
    band: Band | None,
    cutoff: float | None,
    changes: Mapping[int, int],
    data: EpisodeData,
    staff: bool,
    w: Mapping[str, str],
) -> str:
    (n0, v0), (n1, v1) = points[0], points[-1]
    parts = [
        _(
            "%(measure)s: %(first)s (session %(first_session)s) → %(last)s (session %(last_session)s)"
        )
        % {
            "measure": short,
            "first": _fmt(v0),
            "first_session": n0,
            "last": _fmt(v1),
            "last_session": n1,
        }
    ]
    if not staff:
        return parts[0] + ". " + w["table_note"]
    if cutoff is not None:
        parts.append(_("cut-off %(value)s") % {"value": _fmt(cutoff)})
    if band is not None and n1 in band.sessions:
        i = band.sessions.index(n1)
        source = _("default curve, unverified") if band.default_curve else _("clinic model")
        parts.append(
            _(
                "expected at session %(session)s: %(expected)s (%(source)s), "
                "not on track above %(red)s"
            )
            % {
                "session": n1,
                "expected": formats.number_format(round(band.expected[i]), 0),
                "source": source,
                "red": formats.number_format(round(band.expected[i] + band.red[i]), 0),
            }
        )
    better = [n for n, d in changes.items() if d < 0]
    worse = [n for n, d in changes.items() if d > 0]
    if better:
        parts.append(
            ngettext(
                "reliable improvement at %(count)d session, session %(first)s",
                "reliable improvement at %(count)d sessions, first at session %(first)s",
                len(better),
            )
            % {"count": len(better), "first": better[0]}
        )
    if worse:
        parts.append(
            ngettext(
                "reliable deterioration at %(count)d session, session %(first)s",
                "reliable deterioration at %(count)d sessions, first at session %(first)s",
                len(worse),
            )
            % {"count": len(worse), "first": worse[0]}
        )
    if data.missed:
        parts.append(
            ngettext("%(count)d missed session", "%(count)d missed sessions", len(data.missed))
            % {"count": len(data.missed)}
        )
    if data.raised:
        parts.append(
            ngettext(
                "%(count)d alert raised, %(repaired)d repaired",
                "%(count)d alerts raised, %(repaired)d repaired",
                len(data.raised),
            )
            % {"count": len(data.raised), "repaired": len(data.repaired)}
        )
    return "; ".join(parts) + ". " + w["table_note"]


# --- relationship ------------------------------------------------------------------------------------


def relationship_chart(data: EpisodeData, *, lang: str | None = None) -> Chart | None:
    """The client's check-in by dimension with the therapist's ratings beside it (staff only)."""
    lang = lang or _active()
    with translation.override(lang):
        return _relationship_chart(data, lang)


def _relationship_chart(data: EpisodeData, lang: str) -> Chart | None:
    if not data.checkin and not data.therapist:
        return None
    w = words(lang)
    parts = []
    for dimension in DIMENSIONS:
        client, ther = data.checkin.get(dimension, ()), data.therapist.get(dimension, ())
        if client:
            text = _("%(dimension)s: client %(first)s → %(last)s") % {
                "dimension": w[dimension],
                "first": _fmt(client[0][1]),
                "last": _fmt(client[-1][1]),
            }
            if ther:
                text += _(", therapist %(first)s → %(last)s") % {
                    "first": _fmt(ther[0][1]),
                    "last": _fmt(ther[-1][1]),
                }
            parts.append(text)
    summary = "; ".join(parts or [w["relationship_title"]]) + ". " + w["table_note"]

    def draw() -> SafeString:
        figure = _figure(3.6)
        grid = figure.subplots(2, 2, sharex=True, sharey=True)
        axes_list = [grid[0][0], grid[0][1], grid[1][0], grid[1][1]]
        for axes, dimension in zip(axes_list, DIMENSIONS, strict=True):
            client = data.checkin.get(dimension, ())
            ther = data.therapist.get(dimension, ())
            if client:
                axes.plot(
                    *zip(*client, strict=True),
                    color=CLIENT,
                    marker="o",
                    markersize=3,
                    linewidth=1.8,
                    label=w["client"],
                )
            if ther:
                axes.plot(
                    *zip(*ther, strict=True),
                    color=THERAPIST,
                    marker="s",
                    markersize=3,
                    linewidth=1.4,
                    linestyle="--",
                    label=w["therapist"],
                )
            axes.set_title(w[dimension], fontsize=FONT, loc="left")
            axes.set_ylim(0, 10.3)
            axes.set_yticks([0, 5, 10])
            _session_axis(axes, data.last_session, "")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4, min_n_ticks=2))
        for axes in axes_list[2:]:
            axes.set_xlabel(w["session"], fontsize=FONT)
        _legend(figure, axes_list, left=0.4)
        return to_svg(figure, label=summary)

    svg = cached(("relationship", lang, data.key()), draw)
    sessions = sorted(
        {n for series in (*data.checkin.values(), *data.therapist.values()) for n, _ in series}
    )
    client_at = {d: dict(data.checkin.get(d, ())) for d in DIMENSIONS}
    ther_at = {d: dict(data.therapist.get(d, ())) for d in DIMENSIONS}
    header = [w["session"]] + [
        f"{w[d]} ({w['client'].lower()} / {w['therapist'].lower()})" for d in DIMENSIONS
    ]
    rows = [header] + [
        [str(n)]
        + [
            f"{_fmt(client_at[d].get(n)) or DASH} / {_fmt(ther_at[d].get(n)) or DASH}"
            for d in DIMENSIONS
        ]
        for n in sessions
    ]
    return Chart("relationship", w["relationship_title"], svg, summary, rows)


# --- goals -----------------------------------------------------------------------------------------

GOAL_STYLE = {1: (CLIENT, "o", "-"), 2: (SECOND, "s", "--"), 3: (THERAPIST, "^", ":")}


def goals_chart(data: EpisodeData, *, lang: str | None = None) -> Chart | None:
    lang = lang or _active()
    with translation.override(lang):
        return _goals_chart(data, lang)


def _goals_chart(data: EpisodeData, lang: str) -> Chart | None:
    if not data.goals:
        return None
    w = words(lang)
    summary = (
        "; ".join(
            f"{w['goal']} {goal}: {_fmt(points[0][1])} → {_fmt(points[-1][1])}"
            for goal, points in sorted(data.goals.items())
        )
        + ". "
        + w["table_note"]
    )

    def draw() -> SafeString:
        figure = _figure(2.3)
        axes = figure.add_subplot()
        for goal, points in sorted(data.goals.items()):
            colour, marker, dash = GOAL_STYLE[goal]
            axes.plot(
                *zip(*points, strict=True),
                color=colour,
                marker=marker,
                markersize=4,
                linewidth=2,
                linestyle=dash,
                label=f"{w['goal']} {goal}",
            )
        axes.set_ylim(0, 10.3)
        axes.set_yticks([0, 2, 4, 6, 8, 10])
        _session_axis(axes, data.last_session, w["session"])
        _legend(figure, axes, columns=3)
        return to_svg(figure, label=summary)

    svg = cached(("goals", lang, data.key()), draw)
    goals = sorted(data.goals)
    at = {g: dict(data.goals[g]) for g in goals}
    sessions = sorted({n for g in goals for n in at[g]})
    rows = [[w["session"]] + [f"{w['goal']} {g}" for g in goals]] + [
        [str(n)] + [_fmt(at[g].get(n)) for g in goals] for n in sessions
    ]
    return Chart("goals", w["goals_title"], svg, summary, rows)


def episode_charts(
    data: EpisodeData,
    models: Mapping[str, TrajectoryModel],
    *,
    audience: Audience = "staff",
    lang: str | None = None,
) -> list[Chart]:
    """Every chart the episode has data for: outcomes, then (staff) the relationship, then goals."""
    lang = lang or _active()
    made = [
        outcome_chart(data, instrument, models.get(instrument), audience=audience, lang=lang)
        for instrument in OUTCOMES
    ]
    if audience == "staff":
        made.append(relationship_chart(data, lang=lang))
    made.append(goals_chart(data, lang=lang))
    return [chart for chart in made if chart is not None]


def empty() -> EpisodeData:
    return _empty()


def clinic_models() -> dict[str, TrajectoryModel]:
    """The not-on-track models from the last fitted norms (two queries; never fits)."""
    settings = clinic_alert_settings()
    return trajectories(settings, cached_norms(settings))
