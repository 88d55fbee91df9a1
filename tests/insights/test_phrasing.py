"""The analytics' English sentences in the reader's language (alliance.insights.phrasing).

Every template the analytics mark (alliance.analytics.phrases) must come back from a sentence built
with it: a template that another one swallows, or that has two placeholders side by side, would
leave its sentences in English on a Spanish page. And the Spanish keeps the numbers, written the
Spanish way."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from alliance.analytics import model, phrases, psychometrics, ruptures, therapist
from alliance.analytics.phrases import say
from alliance.insights import phrasing

_NAMES = re.compile(r"%\((\w+)\)[sd]")
# Common words of the analytics' English that a Spanish sentence never contains.
ENGLISH = re.compile(
    r"\b(the|and|with|which|points|interval|clients|sessions|between|check-ins?|therapists?)\b"
)


def _sample(template: str) -> dict[str, object]:
    """Values unlike any literal text of the templates: a distinct number per placeholder."""
    return {
        name: f"{index + 1}.25"
        for index, name in enumerate(dict.fromkeys(_NAMES.findall(template)))
    }


# Words spelled the same in both languages (the group "no" rupture).
SAME_IN_SPANISH = frozenset({"no"})
TEMPLATES = sorted(t for t in phrases.TEMPLATES if "%(" in t)


def test_the_analytics_modules_mark_their_sentences() -> None:
    # A sample from each module: if one stops marking, its sentences stay English everywhere.
    for template in (model.WITHIN, therapist.SHARE, psychometrics.STABILITY, ruptures.CHANGE):
        assert template in phrases.TEMPLATES
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_is_recognised_and_translated(template: str) -> None:
    values = _sample(template)
    english = say(template, **values)
    with translation.override("es"):
        spanish = phrasing.translate(english)
        expected = gettext(template) % {k: str(v).replace(".", ",") for k, v in values.items()}
    assert spanish == expected
    assert spanish != english


@pytest.mark.parametrize("template", sorted(t for t in phrases.TEMPLATES if "%(" not in t))
def test_every_fixed_sentence_has_a_spanish_translation(template: str) -> None:
    with translation.override("es"):
        assert gettext(template) != template or template in SAME_IN_SPANISH


def test_a_nested_sentence_is_translated_whole_with_spanish_numbers() -> None:
    sentence = say(model.WITHIN, outcome="PHQ-9", shift=model.describe_shift(-0.8, -1.2, -0.4))
    with translation.override("es"):
        spanish = phrasing.translate(sentence)
    assert spanish.startswith("Cuando un cliente valora la relación")
    assert "0,80 puntos menos (intervalo del 95% de 0,40 a 1,20 menos)" in spanish
    assert not ENGLISH.search(spanish), spanish


def test_joined_sentences_and_a_capitalised_reason_are_translated() -> None:
    joined = model.ONE_THERAPIST + "; " + say(model.ON_BOUNDARY, terms="therapist")
    two = say(psychometrics.NO_CEILING, threshold="15") + " " + psychometrics.INCLUDES_ZERO
    with translation.override("es"):
        assert phrasing.translate(joined).startswith("un solo terapeuta: ")
        assert phrasing.translate(two) == (
            "Ninguna medida está en el máximo en más del 15%. "
            "El intervalo incluye el cero: estos datos no muestran una predicción."
        )
        assert phrasing.translate("Every episode had the same early check-in.") == (
            "Todos los episodios tuvieron la misma valoración temprana."
        )


def test_english_readers_and_unknown_sentences_get_the_sentence_as_it_is() -> None:
    sentence = say(therapist.SHARE, share="3.1", outcome="PHQ-9", sd="1.2")
    with translation.override("en"):
        assert phrasing.translate(sentence) == sentence
    with translation.override("es"):
        assert (
            phrasing.translate("A sentence no template wrote.") == "A sentence no template wrote."
        )


def test_figures_are_translated_under_sentence_keys_only() -> None:
    figures = {
        "model": {
            "sentences": [say(therapist.UNSTABLE, reason=therapist.NEAR_ZERO)],
            "warning": model.NOT_CONVERGED,
            "outcome_label": "PHQ-9",
            "predictor": "no",  # a code, not a sentence: left alone even if it is a catalogued word
        }
    }
    with translation.override("es"):
        shown = phrasing.translate_figures(figures)
    assert shown["model"]["sentences"] == [
        "Las estimaciones son inestables: las diferencias entre terapeutas son casi nulas, "
        "indistinguibles del ruido."
    ]
    assert shown["model"]["warning"].startswith("el ajuste no convergió")
    assert shown["model"]["predictor"] == "no" and shown["model"]["outcome_label"] == "PHQ-9"
    assert figures["model"]["warning"] == model.NOT_CONVERGED  # the cached figures are untouched
