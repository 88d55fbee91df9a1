"""A client's own progress in plain words: what the therapist shows them in the room, what the client
sees after a check-in when the clinic allows it, and what their ending summary says.

Only what is the client's own: their scores, their goals (in their words) and how they rated them. No
alerts, no expected ranges or cut-offs, no therapist ratings, reflections or notes. In the client's
preferred language; the Spanish wording is Alliance's own, kept here as a dictionary like
alliance.checkin.copy (the client pages are the only translated part of Alliance).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from alliance.care import charts
from alliance.care.models import Episode, Goal

COPY: Final[dict[str, dict[str, str]]] = {
    "en": {
        "page_title": "How things are going",
        "thanks_link": "See how things are going",
        "heading": "How things are going",
        "intro": "Therapy is something we do together. These are your own answers, session by session.",
        "scores_heading": "Your answers over time",
        "went": "Your {name} score went from {first} to {last}.",
        "same": "Your {name} score is {last}, the same as when you started.",
        "once": "Your {name} score was {last}. There will be more to compare after your next answers.",
        "lower_is_better": "A lower score means fewer difficulties.",
        "goals_heading": "Your goals",
        "goal_went": "You rated it {first} at first and {last} most recently, out of 10.",
        "goal_once": "You rated it {last} out of 10.",
        "goal_not_rated": "Not rated yet.",
        "nothing_yet": "There are no answers to show yet. After your next check-in there will be.",
        "numbers": "The numbers",
        "phq9": "mood",
        "gad7": "worry",
    },
    "es": {
        "page_title": "Cómo van las cosas",
        "thanks_link": "Ver cómo van las cosas",
        "heading": "Cómo van las cosas",
        "intro": "La terapia es algo que hacemos juntos. Estas son sus propias respuestas, sesión a sesión.",
        "scores_heading": "Sus respuestas a lo largo del tiempo",
        "went": "Su puntuación de {name} pasó de {first} a {last}.",
        "same": "Su puntuación de {name} es {last}, la misma que al empezar.",
        "once": "Su puntuación de {name} fue {last}. Habrá más para comparar después de sus próximas respuestas.",
        "lower_is_better": "Una puntuación más baja significa menos dificultades.",
        "goals_heading": "Sus objetivos",
        "goal_went": "Lo valoró con {first} al principio y con {last} la última vez, de 10.",
        "goal_once": "Lo valoró con {last} de 10.",
        "goal_not_rated": "Todavía sin valorar.",
        "nothing_yet": "Todavía no hay respuestas que mostrar. Las habrá después de su próximo cuestionario.",
        "numbers": "Los números",
        "phq9": "ánimo",
        "gad7": "preocupación",
    },
}
# The measures' names a client knows from the forms they answered.
SHORT_NAMES: Final = {"phq9": "PHQ-9", "gad7": "GAD-7"}


def copy_for(lang: str) -> Mapping[str, str]:
    return COPY.get(lang, COPY["en"])


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
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


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
    lang = lang or episode.client.preferred_language
    copy = copy_for(lang)
    data = charts.load([episode.pk])[episode.pk]
    goals = list(Goal.objects.filter(episode=episode).order_by("number"))
    return Progress(
        lang=lang,
        copy=copy,
        sentences=score_sentences(data, copy),
        goals=goal_progress(goals, data, copy),
        charts=charts.episode_charts(data, {}, audience="client", lang=lang),
        scores={i: (points[0][1], points[-1][1]) for i, points in data.outcomes.items() if points},
    )
