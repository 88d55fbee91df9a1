"""Alert text as data: a message id (the English sentence with ``{name}`` placeholders) and its
parameters, so the Django side can show an alert in the reader's language (docs/translating.md,
"Alert texts").

Pure (no Django): the rules build :class:`Msg` objects, :func:`render` with identity functions gives
the English text stored on the alert, and ``alliance.care.alert_text`` renders the same message with
Django's gettext when a page shows it. Every message id is marked with :func:`N_` (or :func:`NP_`
for a singular/plural pair), keywords that Alliance's ``makemessages`` gives xgettext, so the ids land
in the Python catalog. Write the real characters in a marked string, never ``\\u`` escapes: xgettext
copies an escape as it is, and the translation would never be found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeAlias, TypedDict, Union

from .findings import JSON

MINUS: Final = "\u2212"
PLACEHOLDER: Final = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def N_(message: str) -> str:
    """Mark ``message`` for extraction; returns it unchanged."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for extraction; returns it unchanged."""
    return singular, plural


@dataclass(frozen=True)
class Num:
    """A number shown with ``digits`` decimals, in the reader's way (8.5, or 8,5 in Spanish).

    Negative values get a true minus sign; ``sign`` also puts ``+`` before a positive value.
    """

    value: float
    digits: int = 1
    sign: bool = False


Item: TypeAlias = Union[str, int, Num, "Msg"]
"""One value in a sentence."""
Param: TypeAlias = Item | list[Item]
"""A value, or a list of values joined with a translatable "and"."""


@dataclass(frozen=True)
class Msg:
    """A sentence (or a phrase) to translate: ``id`` is its English text with ``{name}``
    placeholders; ``plural`` and ``n`` choose between singular and plural forms."""

    id: str
    params: Mapping[str, Param] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None

    def __post_init__(self) -> None:
        if (self.plural is None) != (self.n is None):
            raise ValueError("plural and n go together")


Text: TypeAlias = Msg | Sequence[Msg]
"""A field's text: one message, or sentences joined with a space."""


def msg(message: str, /, **params: Param) -> Msg:
    return Msg(message, params)


def plural(forms: tuple[str, str], count: int, /, **params: Param) -> Msg:
    """``plural(NP_("{n} session", "{n} sessions"), 3, n=3)``: the form for ``count``."""
    return Msg(forms[0], params, forms[1], count)


def number(value: float, digits: int = 1) -> Num:
    return Num(float(value), digits)


def signed(value: float, digits: int = 1) -> Num:
    return Num(float(value), digits, sign=True)


# --- phrases shared by the rules ----------------------------------------------------------------

_AND: Final = N_("{items} and {last}")
_ORDINALS: Final = {
    "st": N_("{n}st"),
    "nd": N_("{n}nd"),
    "rd": N_("{n}rd"),
    "th": N_("{n}th"),
}
_SESSIONS: Final = NP_("session {numbers}", "sessions {numbers}")


def sessions(numbers: Sequence[int]) -> Msg:
    """``session 4`` / ``sessions 3 and 4``."""
    return plural(_SESSIONS, len(numbers), numbers=list(numbers))


def ordinal(value: float) -> Msg:
    """``82`` → ``82nd``, ``97.5`` → ``97.5th`` (percentiles)."""
    digits = 0 if round(value, 1) == round(value) else 1
    text = f"{abs(value):.{digits}f}"
    if "." in text or text.endswith(("11", "12", "13")):
        suffix = "th"
    else:
        suffix = {"1": "st", "2": "nd", "3": "rd"}.get(text[-1], "th")
    return msg(_ORDINALS[suffix], n=number(value, digits))


# --- rendering -----------------------------------------------------------------------------------

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]
NumberFormat = Callable[[float, int], str]


def english_number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def render(
    text: Text,
    *,
    gettext: Gettext = lambda s: s,
    ngettext: Ngettext = lambda s, p, n: s if n == 1 else p,
    number: NumberFormat = english_number,
) -> str:
    """The message in words. With the default (identity) functions it is the English text."""
    if isinstance(text, Msg):
        return _render(text, gettext, ngettext, number)
    return " ".join(_render(m, gettext, ngettext, number) for m in text)


def _render(message: Msg, gettext: Gettext, ngettext: Ngettext, number: NumberFormat) -> str:
    if message.plural is not None and message.n is not None:
        template = ngettext(message.id, message.plural, message.n)
    else:
        template = gettext(message.id)
    values = {
        name: _param(value, gettext, ngettext, number) for name, value in message.params.items()
    }

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return PLACEHOLDER.sub(fill, template)


def _param(value: Param, gettext: Gettext, ngettext: Ngettext, number: NumberFormat) -> str:
    if isinstance(value, list):
        words = [_param(v, gettext, ngettext, number) for v in value]
        if len(words) <= 1:
            return "".join(words)
        return PLACEHOLDER.sub(
            lambda m: {"items": ", ".join(words[:-1]), "last": words[-1]}.get(
                m.group(1), m.group(0)
            ),
            gettext(_AND),
        )
    if isinstance(value, Msg):
        return _render(value, gettext, ngettext, number)
    if isinstance(value, Num):
        return _number(value, number)
    if isinstance(value, bool):
        raise TypeError("a message parameter is not a boolean")
    return str(value)


def _number(value: Num, number: NumberFormat) -> str:
    english = english_number(abs(value.value), value.digits)
    text = number(abs(value.value), value.digits)
    negative = value.value < 0 and float(english) != 0
    if negative:
        return MINUS + text
    if value.sign and float(english) != 0:
        return "+" + text
    return text


# --- JSON form (stored in the alert's evidence) --------------------------------------------------


def to_json(text: Text) -> JSON:
    """JSON-able form: a message is ``{"id": ..., "params": {...}}`` (plus ``plural`` and ``n``),
    a number ``{"num": value, "digits": d}`` (plus ``"sign": true``), sentences a list."""
    if isinstance(text, Msg):
        return _msg_json(text)
    return [_msg_json(m) for m in text]


def _msg_json(message: Msg) -> JSON:
    out: dict[str, JSON] = {
        "id": message.id,
        "params": {k: _param_json(v) for k, v in message.params.items()},
    }
    if message.plural is not None:
        out["plural"] = message.plural
        out["n"] = message.n
    return out


def _param_json(value: Param) -> JSON:
    if isinstance(value, list):
        return [_param_json(v) for v in value]
    if isinstance(value, Msg):
        return _msg_json(value)
    if isinstance(value, Num):
        out: dict[str, JSON] = {"num": value.value, "digits": value.digits}
        if value.sign:
            out["sign"] = True
        return out
    return value


def from_json(data: object) -> Text:
    """The inverse of :func:`to_json`; raises ValueError on anything else."""
    if isinstance(data, list):
        return tuple(_msg_from(item) for item in data)
    return _msg_from(data)


def _msg_from(data: object) -> Msg:
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
        raise ValueError("not a message")
    params = data.get("params") or {}
    if not isinstance(params, Mapping):
        raise ValueError("message params must be an object")
    plural_id = data.get("plural")
    n = data.get("n")
    if plural_id is not None and (not isinstance(plural_id, str) or not isinstance(n, int)):
        raise ValueError("malformed plural")
    return Msg(
        data["id"],
        {str(k): _param_from(v) for k, v in params.items()},
        plural_id,
        n if plural_id is not None else None,
    )


def _param_from(value: object) -> Param:
    if isinstance(value, list):
        items: list[Item] = []
        for v in value:
            item = _param_from(v)
            if isinstance(item, list):
                raise ValueError("nested lists are not message parameters")
            items.append(item)
        return items
    if isinstance(value, Mapping):
        if "num" in value:
            raw, digits = value["num"], value.get("digits", 1)
            if not isinstance(raw, int | float) or not isinstance(digits, int):
                raise ValueError("malformed number")
            return Num(float(raw), digits, bool(value.get("sign", False)))
        return _msg_from(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"not a message parameter: {value!r}")
    return value


# --- an alert's three texts ----------------------------------------------------------------------


class AlertText(TypedDict):
    title: str
    explanation: str
    suggestion: str
    evidence: dict[str, JSON]


def alert_text(
    *, title: Msg, explanation: Text, suggestion: Msg, evidence: Mapping[str, JSON]
) -> AlertText:
    """A finding's English ``title``, ``explanation`` and ``suggestion`` and its ``evidence`` with the
    messages under ``evidence["text"]``, as keyword arguments for :class:`~.findings.Finding`."""
    return {
        "title": render(title),
        "explanation": render(explanation),
        "suggestion": render(suggestion),
        "evidence": {
            **evidence,
            "text": {
                "title": to_json(title),
                "explanation": to_json(explanation),
                "suggestion": to_json(suggestion),
            },
        },
    }
