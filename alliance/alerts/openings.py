"""Here-and-now openings for the next session: a few plain sentences a therapist might begin with.

Pure (no Django). Given what the client's last check-in and the episode's alerts show, it returns one to
three short openings, each with its source. They follow the rupture-and-repair literature: name what
happened between you, invite the client's view, and take your own part without defending it
(metacommunication, Safran & Muran 2000, *Negotiating the Therapeutic Alliance*); repaired ruptures go
with better outcomes (Eubanks, Muran & Safran 2018, r = .29; docs/clinical.md, "Alliance ruptures and
repair"). A missed session without notice is relationship material too (docs/clinical.md). They are
suggestions in the therapist's own voice, never a script: the brief says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .message import N_

DIMENSIONS = ("bond", "goals", "tasks", "overall")
MAX_OPENINGS = 3

_METACOMMUNICATION = N_("Safran & Muran 2000 (metacommunication)")
# Sources as a therapist reads them on the brief; docs/clinical.md has each one in full.
_RUPTURES = N_("Eubanks, Muran & Safran 2018 (rupture repair)")
_MISSED = N_("Alliance's rule: a missed session without notice is a rupture marker")
_RISK = N_("Alliance's safety rule: any answer above 0 on PHQ-9 item 9 is followed up")
_FEEDBACK = N_("Lambert & Shimokawa 2011 (feedback when a client is not on track)")


@dataclass(frozen=True)
class Signals:
    """What the last sessions showed. `fallen` holds the check-in dimensions that dropped."""

    fallen: frozenset[str] = frozenset()
    concern: bool = False
    missed: bool = False
    risk: bool = False
    not_on_track: bool = False


@dataclass(frozen=True)
class Opening:
    """``text`` is one message id and ``source`` message ids joined with "; " (marked with ``N_``):
    the brief shows both in the reader's language (alliance.care.alert_text)."""

    text: str
    source: str
    reason: str  # which signal it answers: "risk", "concern", "goals", ... or "general"


_BY_DIMENSION = {
    "goals": (
        N_(
            "Last time you rated how far we agree on what we're working on lower than before — can we "
            "look at that together?"
        ),
        f"{_METACOMMUNICATION}; {_RUPTURES}",
    ),
    "tasks": (
        N_(
            "Last time the way we worked seemed to suit you less than before. What would make our "
            "sessions more useful for you?"
        ),
        f"{_METACOMMUNICATION}; {_RUPTURES}",
    ),
    "bond": (
        N_(
            "I noticed you felt a bit less comfortable with me last time. I'd really like to hear "
            "about that, even if it's hard to say — was there something I did or missed?"
        ),
        f"{_METACOMMUNICATION}; {_RUPTURES}",
    ),
    "overall": (
        N_(
            "Last time the session seemed less useful to you than before. What was missing for you?"
        ),
        f"{_METACOMMUNICATION}; {_RUPTURES}",
    ),
}

_RISK_OPENING = (
    N_(
        "Before anything else today, I'd like to come back to what you told me about having thoughts "
        "of being better off dead or of hurting yourself. How has that been since?"
    ),
    _RISK,
)
_CONCERN_OPENING = (
    N_(
        "Thank you for writing what could have been better last time. I'd like to start there, if "
        "that's all right — can you tell me more about it?"
    ),
    f"{_METACOMMUNICATION}; {_RUPTURES}",
)
_MISSED_OPENING = (
    N_(
        "We didn't meet last time. I wonder what made it hard to come — and whether anything in our "
        "work or between us played a part?"
    ),
    f"{_MISSED}; {_METACOMMUNICATION}",
)
_NOT_ON_TRACK_OPENING = (
    N_(
        "From what you've been telling me, things haven't been getting easier. Can we look together "
        "at whether what we're doing is the right thing for you?"
    ),
    f"{_FEEDBACK}; {_RUPTURES}",
)
_GENERAL_OPENING = (
    N_(
        "Looking back at last time, was there anything that didn't feel quite right, or that you "
        "wished we had talked about?"
    ),
    _METACOMMUNICATION,
)


def openings(signals: Signals) -> tuple[Opening, ...]:
    """One to three openings, most pressing first (risk, then what the client wrote, then the
    dimensions that fell, then a missed session, then not-on-track); a general invitation when nothing
    stands out. Deterministic: the same signals always give the same openings."""
    chosen: list[Opening] = []
    if signals.risk:
        chosen.append(Opening(*_RISK_OPENING, reason="risk"))
    if signals.concern:
        chosen.append(Opening(*_CONCERN_OPENING, reason="concern"))
    # "overall" only speaks when no specific dimension does: the specific ones say more.
    specific = [d for d in ("goals", "tasks", "bond") if d in signals.fallen]
    for dimension in specific or [d for d in ("overall",) if d in signals.fallen]:
        chosen.append(Opening(*_BY_DIMENSION[dimension], reason=dimension))
    if signals.missed:
        chosen.append(Opening(*_MISSED_OPENING, reason="missed"))
    if signals.not_on_track:
        chosen.append(Opening(*_NOT_ON_TRACK_OPENING, reason="not_on_track"))
    if not chosen:
        chosen.append(Opening(*_GENERAL_OPENING, reason="general"))
    return tuple(chosen[:MAX_OPENINGS])
