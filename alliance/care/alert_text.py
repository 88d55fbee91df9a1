"""An alert's title, explanation and next steps in the reader's language.

The rules (`alliance.alerts`, pure) store each text twice: in English on the alert's columns, and as a
message (an English message id with its parameters, `alliance.alerts.message`) under
``evidence["text"]``. Pages and emails show the message rendered with Django's gettext in the active
language, numbers written the reader's way (8,5 in Spanish); an alert stored before messages existed
(or one whose message cannot be read) shows its stored English text. docs/translating.md, "Alert texts".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.utils import formats
from django.utils.translation import gettext, ngettext

from alliance.alerts.message import Text, english_number, from_json, render
from alliance.alerts.settings import UNVERIFIED
from alliance.care.models import Alert

Field = Literal["title", "explanation", "suggestion"]
FIELDS: tuple[Field, ...] = ("title", "explanation", "suggestion")


def local_number(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals the reader's way; rounded as the English text is (Django's
    number_format cuts a float's extra digits off rather than rounding them)."""
    return str(formats.number_format(Decimal(english_number(value, digits)), decimal_pos=digits))


def translated(data: object) -> str:
    """A stored message (the JSON of `alliance.alerts.message.to_json`) in the active language;
    raises ValueError when `data` is not a message."""
    return message_text(from_json(data))


def message_text(text: Text) -> str:
    """A message of the rules (alliance.alerts.message) in the active language."""
    return render(text, gettext=gettext, ngettext=ngettext, number=local_number)


def shown(alert: Alert, field: Field) -> str:
    """The alert's `field` as the reader should see it (see the module docstring)."""
    if field not in FIELDS:
        raise ValueError(f"not an alert text: {field!r}")
    stored = str(getattr(alert, field))
    evidence = alert.evidence if isinstance(alert.evidence, dict) else {}
    texts = evidence.get("text")
    if not isinstance(texts, dict) or field not in texts:
        return stored
    try:
        return translated(texts[field])
    except (ValueError, TypeError):
        return stored


def opening_source(source: str) -> str:
    """A here-and-now opening's sources (``alliance.alerts.openings``: message ids joined with
    ``"; "``) in the active language; the opening's text is one message id (``gettext``)."""
    return "; ".join(gettext(part) for part in source.split("; "))


def setting_source(source: str) -> str:
    """Where an alert setting's default comes from (``AlertSettings.field_info``), in the active
    language: the "UNVERIFIED" mark and the rest are separate message ids."""
    if source.startswith(UNVERIFIED):
        rest = source[len(UNVERIFIED) :].strip()
        return gettext(UNVERIFIED) + (" " + gettext(rest) if rest else "")
    return gettext(source)
