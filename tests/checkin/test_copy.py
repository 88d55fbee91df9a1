"""The client's words (alliance.checkin.copy) come from the gettext catalog, in the client's language.

A key missing in Spanish would show a Spanish-speaking client English (or a blank); a placeholder lost
in translation would break the sentence; and the Spanish a clinician reviewed must not drift when the
catalog is edited: reviewed_es.json holds it as it was when the dictionary became a catalog."""

from __future__ import annotations

import json
import string
from pathlib import Path

from django.utils import translation

from alliance.checkin.copy import COPY, LANGUAGES, copy_for, default_crisis_resources

REVIEWED = json.loads((Path(__file__).parent / "reviewed_es.json").read_text(encoding="utf-8"))


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = copy_for("en")
    assert set(english) == set(COPY)
    for lang in LANGUAGES:
        words = copy_for(lang)
        assert set(words) == set(english), lang
        for key, text in words.items():
            assert text.strip(), (lang, key)
            assert _placeholders(text) == _placeholders(english[key]), (lang, key)


def test_spanish_is_the_reviewed_wording_word_for_word() -> None:
    assert copy_for("es") == REVIEWED["copy"]
    assert default_crisis_resources("es") == REVIEWED["crisis"]


def test_every_spanish_entry_is_translated_not_the_english_fallback() -> None:
    english, spanish = copy_for("en"), copy_for("es")
    # "optional" and the like would still differ; none of the client's words is the same in both.
    same = [key for key in COPY if english[key] == spanish[key]]
    assert same == []


def test_the_clients_language_wins_over_the_active_one() -> None:
    with translation.override("es"):
        assert copy_for("en")["submit"] == "Send my answers"
        assert "emergency number" in default_crisis_resources("en")
    with translation.override("en"):
        assert copy_for("es")["submit"] == "Enviar mis respuestas"


def test_an_unsupported_language_falls_back_to_english() -> None:
    assert copy_for("fr")["submit"] == "Send my answers"
