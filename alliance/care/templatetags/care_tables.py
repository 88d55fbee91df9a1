"""Table bodies for the long lists (caseload, sessions), built with format_html_join.

Each row is escaped exactly as the template engine would escape it, but without its per-variable
overhead: at 200 caseload rows the template loop alone was a quarter of the page's time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from html import escape as html_escape

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from alliance.care.models import AlertSeverity
from alliance.care.presenters import AttentionRow, CaseloadRow, SessionRow
from alliance.measures import UnknownInstrument, get_instrument

register = template.Library()

_DASH = "\u2013"  # an en dash for "no score yet"


_SEVERITY_LABELS = dict(AlertSeverity.choices)


def severity_badge(severity: str) -> SafeString:
    """The severity as a word, and for urgent an icon and a heavier badge too, so that urgent
    differs from red without relying on colour."""
    label = _SEVERITY_LABELS.get(severity, severity)
    if severity == "urgent":
        return format_html(
            '<span class="sev sev-urgent"><span aria-hidden="true">⚠ </span>{}</span>', label
        )
    return format_html('<span class="sev sev-{}">{}</span>', severity, label)


@register.simple_tag(name="severity_badge")
def severity_badge_tag(severity: str) -> SafeString:
    return severity_badge(severity)


@register.simple_tag
def once_field() -> SafeString:
    """A fresh submission id for a hand-written form (see alliance.core.once)."""
    return format_html('<input type="hidden" name="submission_id" value="{}">', uuid.uuid4())


@register.simple_tag
def filter_checkbox(field: forms.BoundField) -> SafeString:
    """A boolean filter's checkbox exactly as Django's CheckboxInput renders it (tests compare the
    two), without the widget's three nested templates: the caseload's three filters cost 0.3 ms that
    way in one process (0.04 ms here), up to a millisecond on the benchmark VM's slow minutes
    (issue 10, point 6)."""
    widget = field.field.widget
    if not isinstance(widget, forms.CheckboxInput) or widget.attrs:
        return SafeString(str(field))  # anything else, or a widget with attributes of its own
    described = (
        format_html(' aria-describedby="{}_helptext"', field.auto_id) if field.help_text else ""
    )
    checked = " checked" if widget.check_test(field.value()) else ""
    return format_html(
        '<input type="checkbox" name="{}"{} id="{}"{}>',
        field.html_name,
        described,
        field.auto_id,
        SafeString(checked),
    )


def _badges() -> dict[str, str]:
    # The severity badges in the active language, made once per table rather than once per row (each
    # label is a lazy translation; resolving one costs more than the rest of the row's formatting).
    return {severity: str(severity_badge(severity)) for severity in _SEVERITY_LABELS}


@register.simple_tag
def caseload_rows(rows: Sequence[CaseloadRow]) -> SafeString:
    # Every value is text the app made (codes, names, dates, numbers); each is escaped once here, with
    # html.escape on its str(), not format_html's per-argument checks (a page shows 50 rows).
    def e(value: object) -> str:
        return html_escape(str(value))

    badges = _badges()
    since, none_booked, no_alerts = gettext("since"), gettext("none booked"), gettext("none")

    counts: dict[int, str] = {}  # "3 open" in the active language, once per count

    def alerts(row: CaseloadRow) -> str:
        n = row.open_alerts
        if not n:
            return no_alerts
        if n not in counts:
            counts[n] = e(ngettext("%(n)d open", "%(n)d open", n) % {"n": n})
        return f"{badges.get(row.top_severity, '')} {counts[n]}"

    return mark_safe(  # noqa: S308 (every value above is escaped; badges are built by format_html)
        "\n".join(
            f'<tr><th scope="row"><a href="{e(row.url)}"><span class="code">{e(row.code)}</span> '
            f"{e(row.name)}</a></th>"
            f'<td><span class="pill{" pill-active" if row.active else ""}">{e(row.status_label)}'
            f"</span><br><small>{e(since)} {e(row.since)}</small></td>"
            f"<td>{e(row.next_appointment or none_booked)}</td>"
            f'<td class="num">{row.sessions:d}</td><td class="num">{e(row.phq9 or _DASH)}</td>'
            f'<td class="num">{e(row.gad7 or _DASH)}</td><td class="num">{e(row.checkin or _DASH)}</td>'
            f"<td>{alerts(row)}</td></tr>"
            for row in rows
        )
    )


def _open_alerts(count: int) -> str:
    # Outside the f-string above: makemessages does not read inside f-strings.
    return ngettext("%(n)d open alert", "%(n)d open alerts", count) % {"n": count}


@register.simple_tag
def attention_items(people: Sequence[AttentionRow]) -> SafeString:
    """The "needs attention" list's items (up to 30 on every caseload view; as a template loop they
    were two fifths of the page's rendering)."""

    def e(value: object) -> str:
        return html_escape(str(value))

    badges = _badges()
    return mark_safe(  # noqa: S308 (every value is escaped; badges are built by format_html)
        "\n".join(
            f'<li class="attention-item alert-{e(person.severity)}">{badges.get(person.severity, "")} '
            f'<a href="{e(person.url)}"><span class="code">{e(person.code)}</span> {e(person.name)}</a> '
            f'<span class="attention-kinds">{e(" · ".join(person.kinds))}</span> '
            f'<span class="muted small">'
            f"{e(_open_alerts(person.count))}"
            f"</span></li>"
            for person in people
        )
    )


@register.simple_tag
def session_rows(rows: Sequence[SessionRow]) -> SafeString:
    # The words once per table: the link's accessible name and the item 9 mark.
    session, item9 = gettext("Session %(n)s"), gettext("item 9")
    return format_html_join(
        "\n",
        '<tr><th scope="row"><a href="{}" aria-label="{}">{}</a></th><td class="when">{}</td>'
        '<td><span class="att att-{}">{}</span></td>'
        '<td class="num">{}{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
        (
            (
                row.url,
                session % {"n": row.number},
                row.number,
                row.when,
                row.attendance,
                row.attendance_label,
                row.phq9,
                format_html(' <span class="pill pill-urgent">{}</span>', item9)
                if row.phq9_risk
                else "",
                row.gad7,
                row.checkin,
                row.therapist,
            )
            for row in rows
        ),
    )


@register.filter
def instrument_titles(instrument_ids: Sequence[str]) -> str:
    """ "Patient Health Questionnaire (PHQ-9), …" for an episode's measure plan, not its ids, in the
    reader's language where the instrument has it; an id no longer installed is shown as it is."""
    language = (get_language() or "en").split("-")[0]
    titles = []
    for instrument_id in instrument_ids:
        try:
            titles.append(get_instrument(instrument_id).title(language))
        except UnknownInstrument:
            titles.append(instrument_id)
    return ", ".join(titles)
