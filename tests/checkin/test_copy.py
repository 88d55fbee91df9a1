"""The client's words (alliance.checkin.copy): every language has every key, with the same placeholders.

A key missing in Spanish would show a Spanish-speaking client a blank where a sentence should be."""

from __future__ import annotations

import string

from alliance.checkin.copy import COPY, DEFAULT_CRISIS_RESOURCES, LANGUAGES


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = COPY["en"]
    for lang in LANGUAGES:
        assert set(COPY[lang]) == set(english), lang
        for key, text in COPY[lang].items():
            assert text.strip(), (lang, key)
            assert _placeholders(text) == _placeholders(english[key]), (lang, key)
    assert set(DEFAULT_CRISIS_RESOURCES) == set(LANGUAGES)
