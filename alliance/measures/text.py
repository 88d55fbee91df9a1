"""Localised strings and the FHIR translation extension.

Item, option and title texts live in the FHIR Questionnaire and carry their
other languages in the standard extension
http://hl7.org/fhir/StructureDefinition/translation on the primitive's
shadow element (``_text``, ``_title``, ``_display``). Labels inside the
Alliance block (bands, risk messages) are plain ``{"en": ..., "es": ...}``
objects, because that block is not FHIR anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TRANSLATION_URL = "http://hl7.org/fhir/StructureDefinition/translation"


def _base(lang: str) -> str:
    return lang.replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True)
class LocalizedText:
    """An immutable ``language -> text`` map with sensible fallback.

    ``get("es-MX")`` falls back to ``es``, then to the primary language (the
    first entry), so a missing translation never shows a blank screen.
    """

    entries: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, values: Mapping[str, str] | Iterable[tuple[str, str]]) -> LocalizedText:
        pairs = values.items() if isinstance(values, Mapping) else values
        return cls(tuple((str(k), str(v)) for k, v in pairs))

    @classmethod
    def single(cls, lang: str, text: str) -> LocalizedText:
        return cls(((lang, text),))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.entries)

    def has(self, lang: str) -> bool:
        return any(k == lang for k, _ in self.entries)

    def get(self, lang: str | None = None) -> str:
        if not self.entries:
            return ""
        if lang:
            for key, value in self.entries:
                if key == lang:
                    return value
            wanted = _base(lang)
            for key, value in self.entries:
                if _base(key) == wanted:
                    return value
        return self.entries[0][1]

    def as_dict(self) -> dict[str, str]:
        return dict(self.entries)


def _as_list(value: Any) -> list[Any]:
    # A hand-edited file may hold anything where FHIR wants a list; only a list is read.
    return value if isinstance(value, list) else []


def translations(shadow: Any) -> dict[str, str]:
    """Read translation extensions from a primitive's ``_x`` shadow element."""
    found: dict[str, str] = {}
    if not isinstance(shadow, Mapping):
        return found
    for ext in _as_list(shadow.get("extension")):
        if not isinstance(ext, Mapping) or ext.get("url") != TRANSLATION_URL:
            continue
        lang = content = None
        for part in _as_list(ext.get("extension")):
            if not isinstance(part, Mapping):
                continue
            if part.get("url") == "lang":
                lang = part.get("valueCode")
            elif part.get("url") == "content":
                content = part.get("valueString", part.get("valueMarkdown"))
        if isinstance(lang, str) and isinstance(content, str):
            found[lang] = content
    return found


def localized(primary_lang: str, text: str | None, shadow: Any) -> LocalizedText | None:
    """Combine a FHIR primitive and its translations into one LocalizedText."""
    if text is None:
        return None
    pairs = [(primary_lang, text)]
    pairs.extend((k, v) for k, v in translations(shadow).items() if k != primary_lang)
    return LocalizedText(tuple(pairs))


def translation_shadow(texts: Mapping[str, str], primary_lang: str) -> dict[str, Any]:
    """Build the ``_x`` shadow element for every language except the primary one."""
    return {
        "extension": [
            {
                "url": TRANSLATION_URL,
                "extension": [
                    {"url": "lang", "valueCode": lang},
                    {"url": "content", "valueString": text},
                ],
            }
            for lang, text in texts.items()
            if lang != primary_lang
        ]
    }
