"""The analytics' English sentences, written again in the reader's language at display time.

alliance.analytics writes its sentences in English from templates marked with gettext_noop
(alliance.analytics.phrases says why). Here a sentence is matched back to its template, the values
are taken out of it, and the template's translation is filled with them: a value that is a number
in English notation is written in the active language's (0.28 → 0,28), and a value that is itself a
sentence or a catalogued phrase ("not clearly different: ...", "PHQ-9") is translated in turn. A
sentence no template matches is returned as it is, in English, rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext

# The modules whose templates must be known before a cached sentence is read; importing them fills
# alliance.analytics.phrases.TEMPLATES.
from alliance.analytics import (  # noqa: F401
    alert_quality,
    model,
    outcomes,
    phrases,
    psychometrics,
    ruptures,
    therapist,
)

_PLACEHOLDER = re.compile(r"%\((?P<name>[^)]+)\)[sd]|%%")
# A value that is a number as the analytics write it: a sign, digits, a decimal point, a percent.
_NUMBER = re.compile(
    r"(?P<sign>[+\-\u2212]?)(?P<digits>\d+(?:\.(?P<decimals>\d+))?)(?P<percent>%?)"
)
# Where joined sentences may be cut: after a full stop, or at a "; " between clauses.
_BOUNDARY = re.compile(r"\. |; ")
# Keys of the figures' JSON whose strings are sentences for people to read.
SENTENCE_KEYS = frozenset(
    {
        "sentences",
        "warning",
        "reason",
        "interpretation",
        "note",
        "notes",
        "alert_notes",
        "caveats",
        "group",
        "versus",
        "validation_status",
        "limitations",
        "ids",
    }
)


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """One regular expression per template with placeholders, the most specific (longest literal
    text) first, so that a short template cannot swallow a sentence a longer one describes."""
    found = []
    for template in phrases.TEMPLATES:
        if "%(" not in template:
            continue
        pattern, seen, at = "", set(), 0
        for match in _PLACEHOLDER.finditer(template):
            pattern += re.escape(template[at : match.start()])
            at = match.end()
            name = match.group("name")
            if name is None:
                pattern += "%"
            elif name in seen:
                pattern += f"(?P={name})"
            else:
                seen.add(name)
                pattern += f"(?P<{name}>.+?)"
        pattern += re.escape(template[at:])
        literal = len(_PLACEHOLDER.sub("", template))
        found.append((literal, re.compile(pattern, re.DOTALL), template))
    found.sort(key=lambda entry: -entry[0])
    return tuple((compiled, template) for _literal, compiled, template in found)


def _value(text: str) -> str:
    number = _NUMBER.fullmatch(text)
    if number is not None:
        decimals = len(number.group("decimals") or "")
        digits = formats.number_format(float(number.group("digits")), decimals)
        return f"{number.group('sign')}{digits}{number.group('percent')}"
    return translate(text)


def _english() -> bool:
    return (translation.get_language() or "en").startswith("en")


def translate(sentence: str) -> str:
    """`sentence` in the active language when its template (or the sentence itself) is catalogued;
    otherwise unchanged."""
    if not sentence or _english():
        return sentence
    found = _translated(sentence)
    return sentence if found is None else found


def _translated(sentence: str) -> str | None:
    """The translation, or None when no catalogued template accounts for the whole sentence.

    A sentence may be several the analytics joined ("A. B.", "x; y"): when no template matches the
    whole, it is cut at each sentence or clause boundary and both sides are tried. A sentence whose
    first letter was capitalised (a reason turned into a sentence: "Every episode ...") or that ends
    in a full stop the template lacks is tried without them."""
    direct = gettext(sentence)
    if direct != sentence:
        return direct
    for pattern, template in _patterns():
        match = pattern.fullmatch(sentence)
        if match is not None:
            values = {name: _value(text) for name, text in match.groupdict().items()}
            return gettext(template) % values
    for boundary in _BOUNDARY.finditer(sentence):
        cut = boundary.start() + (1 if boundary.group() == ". " else 0)
        head, tail = sentence[:cut], sentence[boundary.end() :]
        first = _translated(head)
        if first is None:
            continue
        rest = _translated(tail)
        if rest is not None:
            joiner = " " if boundary.group() == ". " else boundary.group()
            return first + joiner + rest
    if sentence.endswith(".") and not sentence.endswith(".."):
        bare = _translated(sentence[:-1])
        if bare is not None:
            return bare + "."
    if sentence[:1].isupper() and sentence[1:2].islower():
        lowered = _translated(sentence[:1].lower() + sentence[1:])
        if lowered is not None:
            return lowered[:1].upper() + lowered[1:]
    return None


def translate_all(sentences: Iterable[str]) -> list[str]:
    return [translate(str(s)) for s in sentences]


def translate_figures(tree: Any, key: str = "") -> Any:
    """A copy of a figures JSON tree with every sentence (under SENTENCE_KEYS) translated; the tree
    itself in English, which the sentences are already written in."""
    if not key and _english():
        return tree
    if isinstance(tree, Mapping):
        return {k: translate_figures(v, str(k)) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [translate_figures(v, key) for v in tree]
    if isinstance(tree, str) and key in SENTENCE_KEYS:
        return translate(tree)
    return tree
