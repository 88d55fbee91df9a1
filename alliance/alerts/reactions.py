"""The therapist's own reactions to a client (countertransference), and when to suggest supervision.

Pure Python, no Django. A reflection records reactions as a mapping reaction code → intensity
(1 = a little, 2 = clearly, 3 = strongly); `care.Reflection.reactions` stores exactly that mapping.

Reactions to clients are normal and informative; what matters for outcome is how they are managed.
Managing countertransference is the relationship factor with the largest effect on outcome in the
APA task force's meta-analyses (r = .39; countertransference reactions themselves r = -.16, Hayes et
al. 2018; docs/clinical.md). So the rule below does not judge a reaction: when the same strong
reaction recurs with one client, it suggests taking it to supervision, where it can be understood.

The rule (defaults from `ClinicSettings.supervision_prompt_*`; a project default, UNVERIFIED — the
research gives no number): a reaction recurs when at least `count` of the therapist's last `window`
reflections on one client record it at `min_intensity` or more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from .message import N_, Msg, msg, render

SOURCE: Final = N_(
    "Managing countertransference is the relationship factor with the largest effect on outcome "
    "(r = .39, Hayes et al. 2018)"
)


@dataclass(frozen=True, slots=True)
class Reaction:
    code: str
    label: str
    description: str
    # The reaction as a noun, for sentences ("strong frustration").
    noun: str


REACTIONS: Final[tuple[Reaction, ...]] = (
    Reaction(
        "protective",
        "Protective",
        "Wanting to shield or rescue the client, to soften what needs saying.",
        N_("protectiveness"),
    ),
    Reaction(
        "frustrated",
        "Frustrated",
        "Impatience that the work is not moving, or with what the client does.",
        N_("frustration"),
    ),
    Reaction(
        "irritated",
        "Irritated or angry",
        "Annoyance at the client, a cancelled session, a remark.",
        N_("irritation"),
    ),
    Reaction(
        "bored",
        "Bored or disengaged",
        "Drifting, tired, watching the clock; less present than usual.",
        N_("boredom or disengagement"),
    ),
    Reaction(
        "anxious",
        "Anxious",
        "Worry about the client, about risk, or about getting it wrong.",
        N_("anxiety"),
    ),
    Reaction(
        "helpless",
        "Helpless",
        "A sense that nothing you do will help; doubting your competence.",
        N_("helplessness"),
    ),
    Reaction(
        "moved",
        "Moved",
        "Touched by what the client said or did.",
        N_("being moved"),
    ),
    Reaction(
        "hopeful",
        "Hopeful",
        "Optimism about the client and the work.",
        N_("hopefulness"),
    ),
    Reaction(
        "overinvolved",
        "Overinvolved",
        "Running over time, thinking about the client a lot, blurring boundaries.",
        N_("overinvolvement"),
    ),
)

# A noun at the start of a sentence, as its own message (a language capitalises its own words).
_CAPITALISED: Final[Mapping[str, str]] = {
    "protectiveness": N_("Protectiveness"),
    "frustration": N_("Frustration"),
    "irritation": N_("Irritation"),
    "boredom or disengagement": N_("Boredom or disengagement"),
    "anxiety": N_("Anxiety"),
    "helplessness": N_("Helplessness"),
    "being moved": N_("Being moved"),
    "hopefulness": N_("Hopefulness"),
    "overinvolvement": N_("Overinvolvement"),
}
# By the rule's minimum intensity (1 = a little, 2 = clearly, 3 = strongly).
_PROMPTS: Final[Mapping[int, str]] = {
    3: N_(
        "Strong {reaction} in {times} of your last {considered} reflections on this client. "
        "{source} — consider bringing it to supervision."
    ),
    1: N_(
        "{reaction} in {times} of your last {considered} reflections on this client. {source} — "
        "consider bringing it to supervision."
    ),
    2: N_(
        "{reaction} (at least clearly) in {times} of your last {considered} reflections on this "
        "client. {source} — consider bringing it to supervision."
    ),
}

BY_CODE: Final[Mapping[str, Reaction]] = {reaction.code: reaction for reaction in REACTIONS}

INTENSITIES: Final[Mapping[int, str]] = {1: "a little", 2: "clearly", 3: "strongly"}
MIN_INTENSITY: Final = 1
MAX_INTENSITY: Final = 3


class ReactionError(ValueError):
    pass


def clean(reactions: Mapping[str, object]) -> dict[str, int]:
    """A stored or submitted mapping, checked: known codes, whole intensities 1-3, in checklist order."""
    unknown = sorted(set(reactions) - set(BY_CODE))
    if unknown:
        raise ReactionError(f"Unknown reaction: {', '.join(unknown)}.")
    cleaned: dict[str, int] = {}
    for reaction in REACTIONS:
        if reaction.code not in reactions:
            continue
        value = reactions[reaction.code]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReactionError(f"Intensity of {reaction.code} must be a whole number.")
        if not MIN_INTENSITY <= value <= MAX_INTENSITY:
            raise ReactionError(f"Intensity of {reaction.code} must be 1 to 3.")
        cleaned[reaction.code] = value
    return cleaned


def describe(reactions: Mapping[str, int]) -> list[str]:
    """Plain words for a stored mapping ("Frustrated (strongly)"), in checklist order; unknown codes
    (from an older checklist) are shown by their code rather than dropped."""
    known = [
        f"{r.label} ({INTENSITIES.get(reactions[r.code], str(reactions[r.code]))})"
        for r in REACTIONS
        if r.code in reactions
    ]
    return known + sorted(code for code in reactions if code not in BY_CODE)


@dataclass(frozen=True, slots=True)
class PromptRule:
    min_intensity: int = 3
    count: int = 2
    window: int = 4

    def __post_init__(self) -> None:
        if not MIN_INTENSITY <= self.min_intensity <= MAX_INTENSITY:
            raise ReactionError("The intensity must be 1 to 3.")
        if self.count < 1 or self.window < 1:
            raise ReactionError("The count and the window must be at least 1.")
        if self.count > self.window:
            raise ReactionError("The count cannot be larger than the window.")


@dataclass(frozen=True, slots=True)
class RecurringReaction:
    """One reaction that recurs strongly with one client, with the numbers behind it."""

    reaction: Reaction
    times: int  # reflections in the window with this reaction at min_intensity or more
    considered: int  # reflections in the window (fewer than `window` early on)
    min_intensity: int
    strongest: int

    @property
    def explanation(self) -> str:
        return render(self.message)

    @property
    def message(self) -> Msg:
        """The explanation as a message, for the reader's language (alliance.care.alert_text)."""
        noun = self.reaction.noun
        if self.min_intensity == MAX_INTENSITY:
            reaction = Msg(noun)
        else:
            reaction = Msg(_CAPITALISED.get(noun, noun[0].upper() + noun[1:]))
        return msg(
            _PROMPTS[min(max(self.min_intensity, MIN_INTENSITY), MAX_INTENSITY)],
            reaction=reaction,
            times=self.times,
            considered=self.considered,
            source=Msg(SOURCE),
        )


def supervision_prompts(
    reflections: Sequence[Mapping[str, int]], rule: PromptRule = PromptRule()
) -> list[RecurringReaction]:
    """The reactions that recur strongly in one therapist's reflections on ONE client.

    `reflections` are in date order, oldest first; each maps a reaction code to its intensity.
    Returns the reactions recorded at `rule.min_intensity` or more in at least `rule.count` of the
    last `rule.window` reflections, most frequent first (then in checklist order).
    """
    recent = list(reflections[-rule.window :])
    found: list[RecurringReaction] = []
    for reaction in REACTIONS:
        strong = [r[reaction.code] for r in recent if r.get(reaction.code, 0) >= rule.min_intensity]
        if len(strong) >= rule.count:
            found.append(
                RecurringReaction(
                    reaction, len(strong), len(recent), rule.min_intensity, max(strong)
                )
            )
    return sorted(found, key=lambda f: -f.times)
