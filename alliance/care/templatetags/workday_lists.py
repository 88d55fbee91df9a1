"""The long lists of the agenda, the reflection journal and a supervisor's page, built with
format_html_join (as care_tables does for the caseload).

Each item is escaped exactly as the template engine would escape it, but without its per-variable
overhead: with 200 clients the template loops were half of these pages' time. Links are reversed
once per kind and filled in per row (ids and codes are URL-safe)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from alliance.care.agenda import AgendaRow
from alliance.care.journal import ClientCounts, ClientRisk
from alliance.care.models import Reflection

register = template.Library()

_DASH = "\u2013"  # an en dash, as in the templates


def _link(name: str, placeholder: int | str) -> Callable[[int | str], str]:
    """reverse() once; the returned function fills in one row's id or code."""
    pattern = reverse(name, args=[placeholder])
    marker = f"/{placeholder}/"
    return lambda value: pattern.replace(marker, f"/{value}/")


def _day(value: datetime) -> str:
    """As the template filter date:"j M Y", without its per-call formatter (hundreds of rows)."""
    local = timezone.localtime(value)
    return f"{local.day} {_month(local.month)} {local.year}"


@functools.cache
def _month_names(language: str) -> tuple[str, ...]:
    return tuple(str(MONTHS_3[m]).title() for m in range(1, 13))


def _month(month: int) -> str:
    return _month_names(get_language() or "")[month - 1]


def _text(text: str) -> SafeString:
    """As the template filter linebreaksbr: escaped, with <br> for each line break."""
    return mark_safe(escape(normalize_newlines(text)).replace("\n", "<br>"))  # noqa: S308 - escaped


# ---------------------------------------------------------------- the agenda


def _measures(row: AgendaRow) -> SafeString:
    if row.measures == "all":
        return format_html(
            '<p class="measures measures-in"><span aria-hidden="true">✓</span> {} {}</p>',
            _("Before-session measures in:"),
            ", ".join(row.measures_in),
        )
    if row.measures == "some":
        return format_html(
            '<p class="measures measures-some">{} {} · {} {}</p>',
            _("In:"),
            ", ".join(row.measures_in),
            _("not yet:"),
            ", ".join(row.measures_missing),
        )
    if row.measures == "none":
        return format_html(
            '<p class="measures measures-none">{} {}</p>',
            _("Before-session measures not in yet:"),
            ", ".join(row.measures_missing),
        )
    return SafeString("")


@register.simple_tag
def agenda_items(rows: Sequence[AgendaRow]) -> SafeString:
    brief, move, cancel = (
        _link("appointment_brief", 0),
        _link("appointment_move", 0),
        _link("appointment_cancel", 0),
    )
    words = {
        "session": _("Session %(n)s"),
        "brief": _("Brief"),
        "brief_for": _("for session %(n)s of %(code)s"),
        "of": _("session %(n)s of %(code)s"),
        "moved": _("moved from %(when)s"),
        "move": _("Move"),
        "cancel": _("Cancel"),
    }

    def item(row: AgendaRow) -> tuple[Any, ...]:
        which = {"n": row.session_number, "code": row.code}
        cancelled = row.attendance in ("cancelled", "late_cancel")
        meta = format_html('<a href="{}">{}</a>', row.session_url, words["session"] % which)
        if row.attendance == "scheduled":
            meta += format_html(
                ' · <a href="{}">{}<span class="visually-hidden"> {}</span></a>',
                brief(row.pk),
                words["brief"],
                words["brief_for"] % which,
            )
        meta += format_html(
            ' · <span class="att att-{}">{}</span>', row.attendance, row.attendance_label
        )
        if row.moved_from:
            when = dateformat.format(row.moved_from, "D j M, H:i")
            meta += format_html(' · <span class="muted">{}</span>', words["moved"] % {"when": when})
        actions = (
            format_html(
                '<p class="agenda-actions"><a href="{}">{}<span class="visually-hidden"> {}</span>'
                '</a> <a href="{}">{}<span class="visually-hidden"> {}</span></a></p>',
                move(row.pk),
                words["move"],
                words["of"] % which,
                cancel(row.pk),
                words["cancel"],
                words["of"] % which,
            )
            if row.changeable
            else ""
        )
        return (
            " agenda-cancelled" if cancelled else "",
            f"{row.start:%H:%M}",
            _DASH,
            f"{row.end:%H:%M}",
            row.client_url,
            row.code,
            row.name,
            meta,
            _measures(row),
            actions,
        )

    return format_html_join(
        "\n",
        '<li class="agenda-item{}"><p class="agenda-time"><strong>{}</strong>'
        '<span class="muted">{}{}</span></p><div class="agenda-main">'
        '<p class="agenda-who"><a href="{}"><span class="code">{}</span> {}</a></p>'
        '<p class="agenda-meta">{}</p>{}</div>{}</li>',
        (item(row) for row in rows),
    )


# ---------------------------------------------------------------- reflections


@register.simple_tag
def reflection_items(items: Sequence[tuple[Reflection, list[str]]], own: bool) -> SafeString:
    """Reflections as the journal (own=True: edit link, shared or private) or a supervisor reads
    them."""
    client = _link("client_detail", "C-CODE")
    edit = _link("reflection_edit", 0)
    session, shared, private = _("session"), _("shared with your supervisor"), _("private")

    def item(reflection: Reflection, described: list[str]) -> tuple[Any, ...]:
        code = reflection.episode.client.code
        head = format_html(
            '<a href="{}"><span class="code">{}</span></a> · {}',
            client(code),
            code,
            _day(reflection.when),  # type: ignore[attr-defined]
        )
        if reflection.appointment:
            head += format_html(" · {} {}", session, reflection.appointment.session_number)
            if own:
                head += format_html(
                    ' · <a href="{}">{}</a>', edit(reflection.appointment_id or 0), _("Edit")
                )
        if own:
            head += format_html(" · {}", shared if reflection.shared_with_supervisor else private)
        return (
            head,
            format_html('<p class="reaction-list">{}</p>', ", ".join(described))
            if described
            else "",
            format_html("<p>{}</p>", _text(reflection.text)) if reflection.text else "",
        )

    return format_html_join(
        "\n",
        '<li><p class="muted">{}</p>{}{}</li>',
        (item(reflection, described) for reflection, described in items),
    )


@register.simple_tag
def reaction_count_rows(rows: Sequence[ClientCounts]) -> SafeString:
    client = _link("client_reactions", "C-CODE")

    def counts(row: ClientCounts) -> SafeString:
        if not row.counts:
            return format_html('<span class="muted">{}</span>', _DASH)
        return format_html_join(
            " · ",
            "{} {}{}",
            ((label, n, f" ({strong})" if strong else "") for label, n, strong in row.counts),
        )

    return format_html_join(
        "\n",
        '<tr><th scope="row"><a href="{}"><span class="code">{}</span></a></th>'
        '<td class="num">{}</td><td>{}</td></tr>',
        ((client(row.code), row.code, row.reflections, counts(row)) for row in rows),
    )


# ---------------------------------------------------------------- a supervisor's page


@register.simple_tag
def open_alert_rows(rows: Sequence[dict[str, Any]]) -> SafeString:
    client = _link("client_detail", "C-CODE")
    urgent, red, open_ = _("urgent"), _("red"), _("open")

    def pills(row: dict[str, Any]) -> SafeString:
        html = SafeString("")
        if row["urgent"]:
            html += format_html(
                '<span class="pill pill-urgent">{} {}</span> ', row["urgent"], urgent
            )
        if row["red"]:
            html += format_html('<span class="pill pill-alert">{} {}</span> ', row["red"], red)
        return html

    return format_html_join(
        "\n",
        '<tr><th scope="row"><a href="{}"><span class="code">{}</span></a></th>'
        "<td>{}{} {}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                client(row["code"]),
                row["code"],
                pills(row),
                row["open"],
                open_,
                ", ".join(row["kinds"]),
                _day(row["oldest"]),
            )
            for row in rows
        ),
    )


@register.simple_tag
def risk_items(rows: Sequence[ClientRisk], now: datetime) -> SafeString:
    client = _link("client_detail", "C-CODE")

    def waiting(row: ClientRisk) -> str:
        ago = timesince(row.oldest, now, depth=1)
        if row.count == 1:
            return _("waiting %(ago)s") % {"ago": ago}
        return _("%(n)s unacknowledged, the oldest waiting %(ago)s") % {"n": row.count, "ago": ago}

    return format_html_join(
        "\n",
        '<li class="attention-item alert-{}"><a href="{}#alert-{}"><span class="code">{}</span></a>'
        ' <strong>{}</strong> <span class="muted">{}</span></li>',
        (
            (
                row.severity,
                client(row.code),
                row.alert_pk,
                row.code,
                # A risk alert's title is one fixed sentence: its message id (alliance.alerts.risk).
                " · ".join(_(title) for title in row.titles),
                waiting(row),
            )
            for row in rows
        ),
    )
