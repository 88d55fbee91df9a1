"""The writes of intake: a client with their first episode, goals that keep their history, a new
episode for a returning client, and a supervisor's transfer between supervisees.

Each function is one transaction. Views call these and never write clients, episodes or goals
themselves, so the rules (one active episode per client, at most three goals, a reworded goal keeps
its old wording) hold whichever page the change comes from.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care.models import Client, Episode, EpisodeStatus, Goal, GoalRevision
from alliance.core.codes import CODE_ALPHABET, CODE_LENGTH, CODE_PREFIX

MAX_GOALS = 3
# 24**5 (about 8 million) codes: a collision is rare, so a handful of tries is plenty; past that
# something is wrong (a full code space or a broken random source) and saying so beats looping.
CODE_ATTEMPTS = 20


class IntakeError(Exception):
    """A change that the rules refuse, with a message for the page."""


@dataclass(frozen=True)
class EpisodePlan:
    """What an episode starts with: the client's goals (in their words) and the measure plan."""

    therapist: User
    goals: Sequence[str] = ()
    outcome_instruments: Sequence[str] = ("phq9", "gad7")
    gbo_every: int = 4


def new_client_code() -> str:
    """A random client code (``C-7KQ3F``; alliance.core.codes): unambiguous characters, and not
    sequential, so a code reveals neither how many clients the clinic has nor who came before."""
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _goal_texts(goals: Sequence[str]) -> list[str]:
    texts = [g.strip() for g in goals if g and g.strip()]
    if len(texts) > MAX_GOALS:
        raise IntakeError(_("An episode has at most three goals."))
    return texts


def _open_episode(client: Client, plan: EpisodePlan) -> Episode:
    goals = _goal_texts(plan.goals)
    # Lock the client row so that two requests cannot both find "no active episode" (a no-op on
    # SQLite, which serialises writers anyway).
    Client.objects.select_for_update().filter(pk=client.pk).first()
    if Episode.objects.filter(client=client, status=EpisodeStatus.ACTIVE).exists():
        raise IntakeError(
            _(
                "%(code)s already has an active episode. End it before starting a new one, or "
                "ask a supervisor to transfer it."
            )
            % {"code": client.code}
        )
    episode = Episode.objects.create(
        client=client,
        therapist=plan.therapist,
        outcome_instruments=list(plan.outcome_instruments),
        gbo_every=plan.gbo_every,
    )
    for number, text in enumerate(goals, start=1):
        Goal.objects.create(episode=episode, number=number, description=text)
    return episode


@transaction.atomic
def create_client(details: Mapping[str, Any], plan: EpisodePlan) -> Episode:
    """A new client and their first episode together: under the access rules a client is seen
    through their episodes, so a client without one would be invisible to everyone."""
    for _attempt in range(CODE_ATTEMPTS):
        code = new_client_code()
        if Client.objects.filter(code=code).exists():
            continue
        try:
            with transaction.atomic():
                client = Client.objects.create(code=code, **details)
        except IntegrityError:
            continue  # another request took the same code a moment ago
        return _open_episode(client, plan)
    raise IntakeError(_("No free client code was found; please try again."))


@transaction.atomic
def start_episode(client: Client, plan: EpisodePlan) -> Episode:
    """A returning client's new course of care; earlier episodes stay as they were."""
    return _open_episode(client, plan)


@transaction.atomic
def update_client(client: Client, details: Mapping[str, Any]) -> Client:
    for name, value in details.items():
        setattr(client, name, value)
    client.save()
    return client


@transaction.atomic
def update_goals(episode: Episode, wordings: Sequence[str], by: User) -> list[int]:
    """Reword, or add, the episode's goals; returns the numbers of the goals that changed.

    `wordings` are in goal-number order; a blank entry leaves that goal as it is. A changed wording
    keeps the old one as a GoalRevision (from when it applied until now), so Goal-Based Outcomes
    ratings given earlier stay readable against the goal as it was then.
    """
    if sum(1 for w in wordings if w and w.strip()) > MAX_GOALS:
        raise IntakeError(_("An episode has at most three goals."))
    existing = {goal.number: goal for goal in episode.goals.select_for_update()}
    last_change = {
        goal_id: replaced_at
        for goal_id, replaced_at in GoalRevision.objects.filter(goal__episode=episode)
        .order_by("replaced_at")
        .values_list("goal_id", "replaced_at")
    }
    now = timezone.now()
    changed: list[int] = []
    new_texts = []
    for number, wording in enumerate(wordings, start=1):
        text = (wording or "").strip()
        goal = existing.get(number)
        if goal is None:
            if text:
                new_texts.append(text)
            continue
        if not text or text == goal.description:
            continue
        GoalRevision.objects.create(
            goal=goal,
            description=goal.description,
            valid_from=last_change.get(goal.pk, goal.created_at),
            replaced_at=now,
            replaced_by=by,
        )
        goal.description = text
        goal.save(update_fields=["description"])
        log_event("care.goal.reworded", obj=goal, data={"number": goal.number})
        changed.append(goal.number)
    free = [n for n in range(1, MAX_GOALS + 1) if n not in existing]
    if len(new_texts) > len(free):
        raise IntakeError(_("An episode has at most three goals."))
    for number, text in zip(free, new_texts, strict=False):
        Goal.objects.create(episode=episode, number=number, description=text)
        changed.append(number)
    return sorted(changed)


@transaction.atomic
def update_plan(episode: Episode, outcome_instruments: Sequence[str], gbo_every: int) -> bool:
    """Change which outcome measures come before each session and how often GBO is asked."""
    instruments = list(outcome_instruments)
    if instruments == list(episode.outcome_instruments) and gbo_every == episode.gbo_every:
        return False
    episode.outcome_instruments = instruments
    episode.gbo_every = gbo_every
    episode.save(update_fields=["outcome_instruments", "gbo_every", "updated_at"])
    return True


@transaction.atomic
def transfer_episode(episode: Episode, to: User, by: User) -> Episode:
    """Hand an active episode to another therapist. Appointments, responses and alerts go with it;
    reflections stay the previous therapist's own (they were written by them, for them)."""
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    if locked.status != EpisodeStatus.ACTIVE:
        raise IntakeError(_("Only an active episode can be transferred."))
    if locked.therapist_id == to.pk:
        raise IntakeError(_("The episode is already with that therapist."))
    previous = locked.therapist_id
    locked.therapist = to
    locked.save(update_fields=["therapist", "updated_at"])
    log_event(
        "care.episode.transferred",
        obj=locked,
        actor=by,
        data={"from": previous, "to": to.pk},
    )
    return locked
