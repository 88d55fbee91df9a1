"""What to try next, by alert kind: data, not strings scattered through the rules.

Drawn from the rupture-and-repair literature (Safran & Muran 2000, *Negotiating the
Therapeutic Alliance*; Eubanks, Muran & Safran 2018, repair r = .29) and from
feedback-informed care (Lambert & Shimokawa 2011: feedback plus clinical support tools for
not-on-track clients; de Jong et al. 2021). Keys are ``kind`` or ``kind.variant``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .message import N_, Msg


@dataclass(frozen=True)
class Suggestion:
    text: str
    sources: tuple[str, ...]

    @property
    def message(self) -> Msg:
        """The text as a message, for the reader's language (``alliance.care.alert_text``)."""
        return Msg(self.text)


_RUPTURE_SOURCES: Final = (
    "Safran & Muran 2000",
    "Eubanks, Muran & Safran 2018",
)
_FEEDBACK_SOURCES: Final = (
    "Lambert & Shimokawa 2011",
    "de Jong et al. 2021",
)

SUGGESTIONS: Final[Mapping[str, Suggestion]] = MappingProxyType(
    {
        "risk": Suggestion(
            N_(
                "Review risk with the client today, following the clinic's protocol: ask directly "
                "about thoughts of death or self-harm, intent and plans; review or make a safety "
                "plan together; make sure the client has the crisis resources. Record what you did. "
                "If you cannot reach the client, follow the escalation procedure and involve your "
                "supervisor."
            ),
            ("docs/clinical.md (PHQ-9 item 9)",),
        ),
        "rupture": Suggestion(
            N_(
                "Invite the client to talk about the last session itself, in the here-and-now: what "
                "felt less helpful or less right? Metacommunicate about what is happening between "
                "you, and acknowledge your own part without defending it. If you are pulling in "
                "different directions, revisit and re-agree the goals and tasks together. Consider "
                "bringing the session to supervision or consultation."
            ),
            _RUPTURE_SOURCES,
        ),
        "rupture.concern": Suggestion(
            N_(
                "The client named something that could have been better. Bring it up early in the "
                "next session, thank them for saying it, and explore it together in the "
                "here-and-now rather than explaining or defending. Ask whether the goals and the "
                "way you are working together still fit."
            ),
            _RUPTURE_SOURCES,
        ),
        "rupture.no_show": Suggestion(
            N_(
                "Treat the missed session as possible relationship material, not only as an "
                "administrative matter: reach out warmly, and when you next meet, explore what made "
                "it hard to come and whether something in the work or between you contributed. "
                "Revisit the agreed goals and tasks."
            ),
            _RUPTURE_SOURCES,
        ),
        "early_weak_alliance": Suggestion(
            N_(
                "The early alliance predicts both outcome and dropout. Ask the client how the work "
                "is going for them; check that the goals are shared and the tasks make sense to "
                "them; adapt to their preferences; consider discussing the case in supervision."
            ),
            ("Flückiger et al. 2018", "Sharf et al. 2010", *_RUPTURE_SOURCES),
        ),
        "perspective_gap": Suggestion(
            N_(
                "You rated the session more positively than the client did. Clients often do not "
                "voice negative feelings about a session unasked: ask about the session openly, be "
                "curious about the difference in views (start with the dimensions with the largest "
                "gap), and metacommunicate about it."
            ),
            _RUPTURE_SOURCES,
        ),
        "not_on_track": Suggestion(
            N_(
                "Use clinical support tools: review the alliance (ask the client about it directly), "
                "the client's motivation and readiness for change, social support and recent life "
                "events, and whether the formulation still fits. Share the progress chart with the "
                "client and decide together what to change; consider a change of approach, "
                "intensity or frequency, and discuss the case in supervision or consultation."
            ),
            ("Lambert & Shimokawa 2011", "Hannan et al. 2005", "Lutz", "de Jong et al. 2021"),
        ),
        "deterioration": Suggestion(
            N_(
                "Scores have reliably worsened since intake. Review risk and the safety plan; talk "
                "openly with the client about the worsening and what may contribute to it, inside "
                "and outside therapy; review the treatment plan and consider a change of approach, "
                "a medication review or a more intensive level of care; discuss in supervision."
            ),
            ("NHS Talking Therapies", *_FEEDBACK_SOURCES),
        ),
        "disengagement.no_show": Suggestion(
            N_(
                "Reach out warmly after the missed session. When you next meet, explore what made "
                "it hard to come; a missed session is relationship material, not only an "
                "administrative event."
            ),
            _RUPTURE_SOURCES,
        ),
        "disengagement.late_cancel": Suggestion(
            N_(
                "Repeated late cancellations can signal ambivalence or a withdrawal from the work. "
                "Explore them with curiosity rather than as a rule problem: how does therapy fit "
                "into the client's life, and does it still feel worthwhile? Revisit goals, session "
                "frequency and practical barriers together."
            ),
            _RUPTURE_SOURCES,
        ),
        "disengagement.checkins_stopped": Suggestion(
            N_(
                "The client has stopped completing the check-in. Ask about it: feedback helps only "
                "when the client believes it is welcome and used. Show how you use their answers "
                "and agree together whether and how to continue."
            ),
            _FEEDBACK_SOURCES,
        ),
    }
)


def suggestion_for(kind: str, variant: str | None = None) -> Suggestion:
    """The suggestion for ``kind.variant`` if there is one, else for ``kind``."""
    if variant is not None and f"{kind}.{variant}" in SUGGESTIONS:
        return SUGGESTIONS[f"{kind}.{variant}"]
    return SUGGESTIONS[kind]
