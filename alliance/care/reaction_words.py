"""The reactions checklist (alliance.alerts.reactions) in the reader's language.

alliance.alerts is pure Python without Django, so its English labels cannot go through gettext there;
the checklist's codes are its stable part. This module gives each code its words as gettext messages,
and the pages use these instead of the pure module's English. A code this module does not know (a
reaction added to the checklist later) falls back to the pure module's English label, then to the
code, so nothing is ever dropped from a page; tests/care/test_reaction_words.py fails when the two
lists part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from alliance.alerts import reactions

# code -> (label, description)
WORDS: Final[Mapping[str, tuple[Promise, Promise]]] = {
    "protective": (
        _("Protective"),
        _("Wanting to shield or rescue the client, to soften what needs saying."),
    ),
    "frustrated": (
        _("Frustrated"),
        _("Impatience that the work is not moving, or with what the client does."),
    ),
    "irritated": (
        _("Irritated or angry"),
        _("Annoyance at the client, a cancelled session, a remark."),
    ),
    "bored": (
        _("Bored or disengaged"),
        _("Drifting, tired, watching the clock; less present than usual."),
    ),
    "anxious": (_("Anxious"), _("Worry about the client, about risk, or about getting it wrong.")),
    "helpless": (
        _("Helpless"),
        _("A sense that nothing you do will help; doubting your competence."),
    ),
    "moved": (_("Moved"), _("Touched by what the client said or did.")),
    "hopeful": (_("Hopeful"), _("Optimism about the client and the work.")),
    "overinvolved": (
        _("Overinvolved"),
        _("Running over time, thinking about the client a lot, blurring boundaries."),
    ),
}

INTENSITIES: Final[Mapping[int, Promise]] = {
    1: pgettext_lazy("reaction intensity", "a little"),
    2: pgettext_lazy("reaction intensity", "clearly"),
    3: pgettext_lazy("reaction intensity", "strongly"),
}


def label(code: str) -> str:
    if code in WORDS:
        return str(WORDS[code][0])
    known = reactions.BY_CODE.get(code)
    return known.label if known else code


def description(code: str) -> str:
    if code in WORDS:
        return str(WORDS[code][1])
    known = reactions.BY_CODE.get(code)
    return known.description if known else ""


def intensity(value: int) -> str:
    return str(INTENSITIES.get(value, value))


def describe(recorded: Mapping[str, int]) -> list[str]:
    """Plain words for a stored mapping ("Frustrated (strongly)"), in checklist order, as
    alliance.alerts.reactions.describe does in English; unknown codes are shown by their code."""
    known = [
        f"{label(r.code)} ({intensity(recorded[r.code])})"
        for r in reactions.REACTIONS
        if r.code in recorded
    ]
    return known + sorted(code for code in recorded if code not in reactions.BY_CODE)


def intensity_lazy(value: int) -> Promise | str:
    """The intensity's words, still lazy: for choices built when a module is imported."""
    return INTENSITIES.get(value, str(value))
