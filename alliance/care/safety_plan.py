"""The safety plan of an episode: its six sections in Alliance's own words, saving, and its history.

The idea of a written, step-by-step plan that the client and therapist make together comes from
Stanley & Brown's Safety Planning Intervention (2012); the section prompts here are Alliance's own
(docs/safety-plan.md says why these six and who sees what).

The section wording lives here as gettext messages in the client's language, like the client copy in
alliance.checkin.copy: the same words are on the therapist's screen while the plan is written together in session and on the client's
phone afterwards, so the client recognises their plan.

History: the plan keeps its current text only; the audit trail records every change (who, when, which
sections changed, never the text) and the page shows "last changed on ... by ..." from it. Older
wordings are not kept: the plan is meant to be rewritten together as the client's situation changes,
and an outdated plan is not one anyone should act on; keeping every version would multiply stored
crisis text without a clinical use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from alliance.accounts.audit import log_event
from alliance.accounts.models import AuditEvent, User
from alliance.care.models import ClinicSettings, Episode, SafetyPlan
from alliance.checkin.copy import default_crisis_resources, supported


@dataclass(frozen=True)
class Section:
    field: str
    title: str
    prompt: str


# (field, title, prompt), in the order the plan is worked through: from noticing that a hard time is
# starting, through what the client can do alone and with others, to professional help, a safer home,
# and what they live for. The client reads them (on screen in session and on paper): "client pages"
# wording, in the client's language (`sections`).
_SECTIONS: Final[tuple[tuple[str, Promise, Promise], ...]] = (
    (
        "warning_signs",
        pgettext_lazy("client pages", "When things start to get hard, I notice…"),
        pgettext_lazy(
            "client pages",
            "Thoughts, feelings, things you do or situations that tell you a difficult time is beginning. The earlier you notice, the more of this plan you can use.",
        ),
    ),
    (
        "what_helps",
        pgettext_lazy("client pages", "Things I can do on my own that help"),
        pgettext_lazy(
            "client pages",
            "What has helped you through a hard moment before, even a little? Small things count: a walk, music, a shower, breathing slowly, something to hold.",
        ),
    ),
    (
        "people_and_places",
        pgettext_lazy("client pages", "People and places that help me feel less alone"),
        pgettext_lazy(
            "client pages",
            "Who could you call, text or spend time with? Where could you go to be around others or to feel calmer? Name someone you could tell that you are struggling.",
        ),
    ),
    (
        "professionals",
        pgettext_lazy("client pages", "Professionals and crisis lines I can contact"),
        pgettext_lazy(
            "client pages",
            "Your therapist, your doctor, the clinic, a crisis line: who, their number, and when they can be reached. Write numbers in full; on a phone they become buttons to call.",
        ),
    ),
    (
        "safer_surroundings",
        pgettext_lazy("client pages", "Making my surroundings safer"),
        pgettext_lazy(
            "client pages",
            "What could you put away, lock up or give to someone you trust while things are hard? Who could help you do that?",
        ),
    ),
    (
        "reasons_for_living",
        pgettext_lazy("client pages", "What matters to me and keeps me going"),
        pgettext_lazy(
            "client pages",
            "People, animals, plans, beliefs, things you love or still want to do. What would you want to remind yourself of on a hard day?",
        ),
    ),
)

FIELDS: Final = tuple(field for field, _, _ in _SECTIONS)
# The words around the sections on the plan the client reads (on screen in session and on paper).
WORDS: Final[dict[str, Promise]] = {
    "title": pgettext_lazy("client pages", "My safety plan"),
    "updated": pgettext_lazy("client pages", "Last updated"),
    "crisis": pgettext_lazy("client pages", "If you are in danger now"),
    # Translators: a Django date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date).
    "date_format": pgettext_lazy("client pages", "j F Y"),
}
# The sections whose phone numbers become tap-to-call links: the people and the professionals to call.
CONTACT_FIELDS: Final = ("people_and_places", "professionals")


def words(lang: str) -> dict[str, str]:
    with translation.override(supported(lang)):
        return {key: str(text) for key, text in WORDS.items()}


def sections(lang: str) -> list[Section]:
    with translation.override(supported(lang)):
        return [Section(field, str(title), str(prompt)) for field, title, prompt in _SECTIONS]


@dataclass(frozen=True)
class FilledSection:
    section: Section
    text: str
    contact: bool  # phone numbers in it become tap-to-call links


def filled(plan: SafetyPlan | None, lang: str) -> list[FilledSection]:
    """The plan's written sections, in order, with their titles in the client's language."""
    if plan is None:
        return []
    return [
        FilledSection(s, text, s.field in CONTACT_FIELDS)
        for s in sections(lang)
        if (text := str(getattr(plan, s.field)).strip())
    ]


def for_episode(episode: Episode) -> SafetyPlan | None:
    plan = SafetyPlan.objects.filter(episode=episode).first()
    if plan is not None:
        plan.episode = episode  # the audit reads the client through it
    return plan


def for_client(episode_id: int) -> SafetyPlan | None:
    """The plan to show the client on their crisis page: one they may see and that says something."""
    plan = SafetyPlan.objects.filter(episode_id=episode_id, show_to_client=True).first()
    if plan is None or not any(str(getattr(plan, f)).strip() for f in FIELDS):
        return None
    return plan


CHANGE_ACTIONS: Final = ("care.safety_plan.created", "care.safety_plan.changed")


def save(plan: SafetyPlan, changed: list[str], user: User) -> str:
    """Store the plan and audit what happened (section names only); returns the audit action.

    `changed` is the form's changed_data (names of fields, some of them not stored, such as the
    form's submission id).

    Saving without a change is recorded too: going through the plan together and agreeing it still
    holds is a review, and the brief shows when the plan was last reviewed."""
    created = plan.pk is None
    if created:
        plan.created_by = user
        action = "care.safety_plan.created"
    else:
        stored = [f for f in changed if f in (*FIELDS, "show_to_client")]
        action = "care.safety_plan.changed" if stored else "care.safety_plan.reviewed"
    plan.save()
    sections_changed = [f for f in changed if f in FIELDS]
    log_event(
        action,
        obj=plan,
        actor=user,
        data={"sections": sections_changed, "show_to_client": plan.show_to_client},
    )
    return action


@dataclass(frozen=True)
class LastChange:
    at: datetime
    by: str


def last_change(plan: SafetyPlan) -> LastChange:
    """When the plan was last saved and by whom, from the audit trail (the model keeps no editor)."""
    event = (
        AuditEvent.objects.filter(
            client_id=plan.episode.client_id,
            object_type="safetyplan",
            object_id=str(plan.pk),
            action__in=(*CHANGE_ACTIONS, "care.safety_plan.reviewed"),
        )
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if event is None:
        return LastChange(plan.updated_at, plan.created_by.display_name if plan.created_by else "")
    by = event.actor.display_name if event.actor else event.actor_label
    return LastChange(plan.updated_at, by)


def saved_at(episode: Episode) -> datetime | None:
    """When the episode's plan was last saved (None: no plan), without reading any plan text."""
    return SafetyPlan.objects.filter(episode=episode).values_list("updated_at", flat=True).first()


def clinic_crisis_text(lang: str) -> str:
    """The clinic's crisis resources in the language, printed with the plan for the client to keep."""
    clinic = ClinicSettings.load()
    configured = clinic.crisis_resources_es if lang == "es" else clinic.crisis_resources_en
    return configured.strip() or default_crisis_resources(lang)
