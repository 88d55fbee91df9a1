"""Is an answer to "What could have been better today?" something for the therapist to act on?

The rupture rule counts a written concern as a rupture marker, but many clients answer "Nothing,
thanks". Counting those made the concern marker fire on neutral comments (benchmarks/alerts_evaluation.py:
about 6 in 10 concern-only alerts came from them). This recognises the short "nothing to add" answers in
English and Spanish and nothing else: anything it does not recognise, or that contains a contrast or a
negation ("but", "pero", "didn't", "no me") is treated as a concern, so a criticism is never dropped.
The therapist still sees every comment on the client's page; only the alert depends on this.
"""

from __future__ import annotations

import re
import unicodedata

_NOTHING = r"(nothing|nada|none|ninguna|no|n ?a|nope|all good|todo bien|todo genial)"
_POLITE = r"(thanks?|thank you|gracias|muchas gracias|really|en realidad|at all|today|hoy|for now|por ahora)"
_PRAISE = (
    r"((it )?(was|is)? ?(fine|good|great|helpful|perfect|very helpful|really helpful|ok|okay)( today)?"
    r"|(estuvo|fue|ha sido) (bien|genial|muy bien|perfecto|util|muy util)( hoy)?"
    r"|me ayudo( mucho)?|it helped( a lot)?|good session|great session|buena sesion|muy buena sesion"
    r"|i feel (lighter|better)|me siento (mejor|mas tranquil[oa])|salgo (mejor|con la cabeza mas tranquila))"
)
# "Nothing, it was helpful" is neutral but "Nothing was helpful" is not: after a "nothing" word,
# praise only counts when a comma, full stop or dash separates them. Separators are kept as " , ".
_ITEM = rf"(?:{_POLITE}|{_PRAISE})"
_NEUTRAL = re.compile(
    rf"^(?:{_NOTHING}(?: {_POLITE})*(?: , {_ITEM}(?:(?: ,)? {_ITEM})*)?"
    rf"|{_PRAISE}(?:(?: ,)? {_ITEM})*)$"
)
_CONTRAST = re.compile(
    r"\b(but|pero|although|aunque|though|sin embargo|however|except|excepto|didn t|did not|wasn t|"
    r"not|no me|ni|never|nunca|felt|senti)\b"
)


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.replace("'", " ").replace("\u2019", " ")
    plain = re.sub(r"[,.;:!?\u2013\u2014]+| - ", " , ", plain)
    words = re.sub(r"[^a-z0-9, ]+", " ", plain).split()
    while words and words[-1] == ",":
        words.pop()
    while words and words[0] == ",":
        words.pop(0)
    return " ".join(words)


def is_nothing_to_add(text: str) -> bool:
    """True only for short neutral or appreciative answers such as "Nothing, it was helpful"."""
    words = _normalise(text)
    if not words:
        return True
    if len(words.split()) > 12 or _CONTRAST.search(words):
        return False
    return bool(_NEUTRAL.match(words))


def has_something_to_say(texts: list[str]) -> bool:
    return any(not is_nothing_to_add(text) for text in texts)
