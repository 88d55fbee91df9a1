"""What counts as an English word left on a Spanish page (tests/browser/test_spanish_day.py and
tests/core/test_spanish_pages.py; docs/translating.md).

A whole word from ENGLISH_WORDS (common words of Alliance's own English interface that are not also
Spanish words: "no", "plan", "total", "supervisor", "agenda", "has", "note" are left out for that
reason) in the page's visible text, once what people entered and the instruments' names are taken
out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import models

from alliance.measures.registry import all_instruments

ENGLISH_WORDS = frozenset(
    """
    the and or of to in on at by for from with without into about than then this that these those
    there their they them your yours you we our is are was were be been being have had will would
    should could can cannot not yet only also more most less each every any all none nothing other
    here what when where which who why how its it
    session sessions client clients alert alerts therapist therapists reflection reflections episode
    episodes ending ended link links sign page pages settings email emails language before after since
    last first next previous week weeks today tomorrow yesterday day days hours ago until open opened
    closed close acknowledge acknowledged snooze snoozed write show print book booked move cancel
    cancelled save edit add back caseload journal insights outcome outcomes rupture ruptures repair
    repaired safety measure measures score scores rating ratings rated attended missed yes check answer
    answers answered chart charts goal goals new old change changed changes started start end finished
    clinic clinics shared private reactions reaction strong weekly fortnightly brief
    recovery improvement dropout reliable expected range band unverified worse better higher lower
    check-in check-ins sign-in
    """.split()  # noqa: SIM905  (a word list reads better as a block)
)

IDENTIFIER = re.compile(r"\{[a-z_]+\}|\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ][A-Za-zÁÉÍÓÚÜÑáéíóúüñ'\u2019-]*")


def entered_text() -> list[str]:
    """Every free-text value stored in Alliance's own tables, longest first: what people wrote (names,
    goals, answers, reflections, notes) rather than what Alliance says, and the instruments' names.
    Alerts are left out on purpose: their titles and explanations are Alliance's words."""
    found: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("alliance.") or model._meta.model_name == "alert":
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not f.choices
        ]
        if not fields:
            continue
        for row in model._default_manager.all():
            for field in fields:
                found.update(_strings(getattr(row, field.attname, None)))
    # Instrument names ("Goal-Based Outcomes"), in every language: names, not interface text.
    for instrument in all_instruments():
        found.update(title for _lang, title in instrument.titles.entries)
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value.strip()
        yield from (line.strip() for line in value.splitlines() if line.strip())
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def english_in(text: str, entered: list[str]) -> list[str]:
    """The English words in a page's visible text, each with a few words around it."""
    for typed in entered:
        text = text.replace(typed, " ")
    # Names a person types as they are, not words: settings (EMAIL_HOST_USER) and the placeholders
    # of the clinic's email wording ({clinic}, {link}).
    text = IDENTIFIER.sub(" ", text)
    words = WORD.findall(text)
    return [
        f"{word!r} in \u201c{' '.join(words[max(0, index - 4) : index + 5])}\u201d"
        for index, word in enumerate(words)
        if word.lower() in ENGLISH_WORDS
    ]
