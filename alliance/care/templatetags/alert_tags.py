"""What the alert box needs besides the alert: the snooze periods on offer."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from alliance.alerts.reactions import RecurringReaction
from alliance.care.alert_forms import snooze_choices
from alliance.care.alert_text import FIELDS, message_text, opening_source, shown
from alliance.care.models import Alert

register = template.Library()


@register.simple_tag
def snooze_periods() -> list[tuple[str, str]]:
    """The periods an alert can be snoozed for, in the reader's language (alert_forms)."""
    return snooze_choices()


@register.filter
def alert_text(alert: Alert, field: str) -> str:
    """``{{ alert|alert_text:"title" }}``: the alert's title, explanation or suggestion in the
    reader's language (alliance.care.alert_text)."""
    if field not in FIELDS:
        raise template.TemplateSyntaxError(f"alert_text: unknown field {field!r}")
    return shown(alert, field)  # type: ignore[arg-type]


@register.filter
def opening_text(text: str) -> str:
    """A here-and-now opening (alliance.alerts.openings) in the reader's language."""
    return gettext(text)


@register.filter
def opening_sources(source: str) -> str:
    """A here-and-now opening's sources in the reader's language."""
    return opening_source(source)


@register.filter
def prompt_text(found: RecurringReaction) -> str:
    """A supervision prompt of the journal (alliance.alerts.reactions) in the reader's language."""
    return message_text(found.message)
