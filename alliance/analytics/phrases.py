"""The analytics' sentences, written from templates that translators can reach.

The analytics are pure Python (no Django), and their results are plain JSON that the command line
prints and the Insights pages cache. So they keep writing their sentences in English, but each
sentence comes from a template marked with `gettext_noop` (the name Django's makemessages extracts:
the template lands in alliance/locale with its %(name)s placeholders), filled with `say`. The Django
layer (alliance.insights.phrasing) recognises a stored sentence by its template and writes it again
in the reader's language, numbers included, at display time; a cached English figure thus serves
every reader. Why not store message ids and parameters: the JSON is also the `alliance report`
output, and its sentences are meant to be read as they are.

Rules for a template: named placeholders only (%(name)s), and literal words between two
placeholders, so that a sentence maps back to one template and one set of values.
"""

from __future__ import annotations

from typing import Final

# Every template marked so far, in the order the modules defined them (a dict keeps the order and
# drops repeats). alliance.insights.phrasing reads it after importing the analytics modules.
TEMPLATES: Final[dict[str, None]] = {}


def gettext_noop(template: str) -> str:
    """Mark `template` for extraction and remember it; returns it unchanged (English)."""
    TEMPLATES[template] = None
    return template


def say(template: str, **values: object) -> str:
    """The English sentence: `template` with its placeholders filled."""
    return template % values
