"""A client's own progress in plain words: what the therapist shows them in the room, what the client
sees after a check-in when the clinic allows it, and what their ending summary says.

Only what is the client's own: their scores, their goals (in their words) and how they rated them. No
alerts, no expected ranges or cut-offs, no therapist ratings, reflections or notes. In the client's
preferred language, as gettext messages with the context "client pages" like alliance.checkin.copy
(the wording is reviewed as a whole; the context keeps it apart from staff pages' translations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Final

from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from alliance.care import charts
from alliance.care.models import Episode, Goal
from alliance.checkin.copy import supported

COPY: Final[dict[str, Promise]] = {
    "page_title": pgettext_lazy("client pages", "How things are going"),
    "thanks_link": pgettext_lazy("client pages", "See how things are going"),
    "heading": pgettext_lazy("client pages", "How things are going"),
    "intro": pgettext_lazy(
        "client pages",
        "Therapy is something we do together. These are your own answers, session by session.",
    ),
    "scores_heading": pgettext_lazy("client pages", "Your answers over time"),
    "went": pgettext_lazy("client pages", "Your {name} score went from {first} to {last}."),
    "same": pgettext_lazy(
        "client pages", "Your {name} score is {last}, the same as when you started."
    ),
    "once": pgettext_lazy(
        "client pages",
        "Your {name} score was {last}. There will be more to compare after your next answers.",
    ),
    "lower_is_better": pgettext_lazy("client pages", "A lower score means fewer difficulties."),
    "goals_heading": pgettext_lazy("client pages", "Your goals"),
    "goal_went": pgettext_lazy(
        "client pages", "You rated it {first} at first and {last} most recently, out of 10."
    ),
    "goal_once": pgettext_lazy("client pages", "You rated it {last} out of 10."),
    "goal_not_rated": pgettext_lazy("client pages", "Not rated yet."),
    "nothing_yet": pgettext_lazy(
        "client pages", "There are no answers to show yet. After your next check-in there will be."
    ),
    "numbers": pgettext_lazy("client pages", "The numbers"),
    "phq9": pgettext_lazy("client pages", "mood"),
    "gad7": pgettext_lazy("client pages", "worry"),
}
# The measures' names a client knows from the forms they answered.
SHORT_NAMES: Final = {"phq9": "PHQ-9", "gad7": "GAD-7"}


def copy_for(lang: str) -> Mapping[str, str]:
    return _copy_in(supported(lang))


@cache
def _copy_in(lang: str) -> Mapping[str, str]:
    # Once per language and process (read-only), as alliance.checkin.copy does: the check-in's thanks
    # page asks for it on every submission.
    with translation.override(lang):
        return MappingProxyType({key: str(text) for key, text in COPY.items()})


@dataclass(frozen=True)
class GoalProgress:
    number: int
    description: str
    first: float | None
    last: float | None
    sentence: str


@dataclass(frozen=True)
class Progress:
    lang: str
    copy: Mapping[str, str]
    sentences: list[str]
    goals: list[GoalProgress]
    charts: list[charts.Chart]
    scores: Mapping[str, tuple[float, float]]  # instrument -> (first, last)


def _n(value: float) -> str:
    """A score or rating as the active language writes it (4,5 in Spanish): whole numbers bare."""
    return formats.number_format(value, 0 if value == int(value) else 1)


def score_sentences(data: charts.EpisodeData, copy: Mapping[str, str]) -> list[str]:
    sentences = []
    for instrument in charts.OUTCOMES:
        points = data.outcomes.get(instrument, ())
        if not points:
            continue
        name = f"{copy[instrument]} ({SHORT_NAMES[instrument]})"
        first, last = points[0][1], points[-1][1]
        if len(points) == 1:
            template = copy["once"]
        elif first == last:
            template = copy["same"]
        else:
            template = copy["went"]
        sentences.append(template.format(name=name, first=_n(first), last=_n(last)))
    if sentences:
        sentences.append(copy["lower_is_better"])
    return sentences


def goal_progress(
    goals: list[Goal], data: charts.EpisodeData, copy: Mapping[str, str]
) -> list[GoalProgress]:
    rows = []
    for goal in goals:
        points = data.goals.get(goal.number, ())
        first = points[0][1] if points else None
        last = points[-1][1] if points else None
        if first is None or last is None:
            sentence = copy["goal_not_rated"]
        elif len(points) == 1:
            sentence = copy["goal_once"].format(last=_n(last))
        else:
            sentence = copy["goal_went"].format(first=_n(first), last=_n(last))
        rows.append(GoalProgress(goal.number, goal.description, first, last, sentence))
    return rows


def for_client(episode: Episode, lang: str | None = None) -> Progress:
    """The client's view of their episode (the caller has checked access and audits the read)."""
    lang = supported(lang or episode.client.preferred_language)
    copy = copy_for(lang)
    data = charts.load([episode.pk])[episode.pk]
    goals = list(Goal.objects.filter(episode=episode).order_by("number"))
    with translation.override(lang):
        return _progress(lang, copy, data, goals)


def _progress(
    lang: str, copy: Mapping[str, str], data: charts.EpisodeData, goals: list[Goal]
) -> Progress:
    return Progress(
        lang=lang,
        copy=copy,
        sentences=score_sentences(data, copy),
        goals=goal_progress(goals, data, copy),
        charts=charts.episode_charts(data, {}, audience="client", lang=lang),
        scores={i: (points[0][1], points[-1][1]) for i, points in data.outcomes.items() if points},
    )
