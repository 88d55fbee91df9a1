"""The in-memory instrument: frozen dataclasses built by the loader.

Everything here is immutable so an instrument can be cached and shared
between requests and threads without copying.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from alliance.measures.errors import MissingContext
from alliance.measures.scoring import ScoreResult, check_answers, is_enabled, score_answers
from alliance.measures.text import LocalizedText

AnswerValue = int | float | str | None
Answers = Mapping[str, AnswerValue]
ItemKind = Literal["choice", "integer", "text"]
Direction = Literal["higher_is_worse", "higher_is_better"]

LOINC = "http://loinc.org"


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True)
class Option:
    """One answer option of a choice item.

    ``value`` is what an answer stores: the option's score (FHIR
    ``ordinalValue``/``itemWeight``) when it has one, otherwise its 0-based
    position. ``scored`` tells the two apart.
    """

    value: int | float
    code: str | None
    system: str | None
    labels: LocalizedText
    scored: bool
    # How the Questionnaire spelled the option, so an exported
    # QuestionnaireResponse answers with the same FHIR type.
    answer_type: Literal["coding", "integer", "string"] = "coding"

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang)


@dataclass(frozen=True)
class EnableCondition:
    question: str
    operator: str
    # For answerCoding the expected option value is resolved at load time, so
    # evaluation compares plain values.
    answer: int | float | str | bool


@dataclass(frozen=True)
class Item:
    link_id: str
    kind: ItemKind
    texts: LocalizedText
    required: bool
    scored: bool
    options: tuple[Option, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    anchors_low: LocalizedText | None = None
    anchors_high: LocalizedText | None = None
    codes: tuple[Coding, ...] = ()
    enable_when: tuple[EnableCondition, ...] = ()
    enable_behavior: Literal["all", "any"] = "all"
    prefix: str | None = None

    @property
    def context_keys(self) -> tuple[str, ...]:
        return template_keys(self.texts.get())

    @property
    def loinc(self) -> str | None:
        for coding in self.codes:
            if coding.system == LOINC and coding.code:
                return coding.code
        return None

    def text(self, lang: str = "en", **context: str) -> str:
        template = self.texts.get(lang)
        keys = template_keys(template)
        if not keys:
            return template
        for key in keys:
            if key not in context:
                raise MissingContext(self.link_id, key)
        return template.format_map({k: context[k] for k in keys})

    def anchor_low(self, lang: str = "en") -> str | None:
        return self.anchors_low.get(lang) if self.anchors_low else None

    def anchor_high(self, lang: str = "en") -> str | None:
        return self.anchors_high.get(lang) if self.anchors_high else None

    def option_for(self, value: Any) -> Option | None:
        """Find the option an answer refers to: by its value, or by its code."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            for option in self.options:
                if option.code == value:
                    return option
            try:
                value = float(value)
            except ValueError:
                return None
        if isinstance(value, int | float):
            for option in self.options:
                if option.value == value:
                    return option
        return None

    @property
    def score_range(self) -> tuple[float, float] | None:
        """Lowest and highest score this item can contribute (before reversal)."""
        if self.kind == "choice":
            values = [o.value for o in self.options if o.scored]
            return (min(values), max(values)) if values else None
        if self.kind == "integer" and self.min_value is not None and self.max_value is not None:
            return (self.min_value, self.max_value)
        return None


def template_keys(text: str) -> tuple[str, ...]:
    """Names of ``{placeholders}`` in an item text, in order, without repeats."""
    keys: list[str] = []
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in keys:
            keys.append(name)
    return tuple(keys)


@dataclass(frozen=True)
class Subscale:
    id: str
    labels: LocalizedText
    items: tuple[str, ...]
    method: Literal["sum", "mean"]
    max_missing: int

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang)


@dataclass(frozen=True)
class Band:
    key: str
    min: float
    max: float
    labels: LocalizedText

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang)


@dataclass(frozen=True)
class Cutoff:
    value: float
    clinical: Literal["at_or_above", "at_or_below"]
    labels: LocalizedText | None
    source: str

    def is_clinical(self, total: float) -> bool:
        return total >= self.value if self.clinical == "at_or_above" else total <= self.value


@dataclass(frozen=True)
class ReliableChangeRule:
    threshold: float | None
    sd: float | None
    reliability: float | None
    source: str
    unverified: bool


@dataclass(frozen=True)
class MissingRule:
    max_missing: int
    rounding: Literal["half_up", "none"]
    source: str
    unverified: bool


@dataclass(frozen=True)
class ScoringRules:
    method: Literal["sum", "mean", "none"]
    items: tuple[str, ...]
    reversed: frozenset[str]
    missing: MissingRule
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    cutoff: Cutoff | None
    # None for method "none" (open questions only): there is no total to have a direction or range.
    direction: Direction | None
    reliable_change: ReliableChangeRule | None
    total_code: Coding | None
    total_range: tuple[float, float] | None


@dataclass(frozen=True)
class RiskRule:
    item: str
    operator: Literal[">", ">=", "=", "!="]
    value: float
    level: Literal["urgent", "review"]
    messages: LocalizedText
    caveat: LocalizedText | None

    def triggered_by(self, score: float) -> bool:
        if self.operator == ">":
            return score > self.value
        if self.operator == ">=":
            return score >= self.value
        if self.operator == "=":
            return score == self.value
        return score != self.value


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    url: str | None
    respondent: Literal["client", "therapist"]
    languages: tuple[str, ...]
    validated: bool
    validation_note: LocalizedText | None
    licence: str
    citation: str
    notes: tuple[str, ...]
    titles: LocalizedText
    instructions_text: LocalizedText | None
    items: tuple[Item, ...]
    rules: ScoringRules
    risk_rules: tuple[RiskRule, ...]
    codes: tuple[Coding, ...]
    source: str
    shipped: bool = False
    # The Questionnaire exactly as read (without the Alliance block); kept for
    # FHIR export and `alliance instruments show --fhir`. Not part of equality.
    fhir: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def title(self, lang: str = "en") -> str:
        return self.titles.get(lang)

    def instructions(self, lang: str = "en") -> str | None:
        return self.instructions_text.get(lang) if self.instructions_text else None

    @property
    def direction(self) -> Direction | None:
        return self.rules.direction

    @property
    def has_score(self) -> bool:
        """False for an instrument of open questions only: no total, nothing to chart or alert on."""
        return self.rules.method != "none"

    @property
    def loinc_panel(self) -> str | None:
        for coding in self.codes:
            if coding.system == LOINC and coding.code:
                return coding.code
        return None

    def item(self, link_id: str) -> Item:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise KeyError(link_id)

    def has_item(self, link_id: str) -> bool:
        return any(item.link_id == link_id for item in self.items)

    def visible_items(
        self, answers: Answers | None = None, context: Mapping[str, str] | None = None
    ) -> tuple[Item, ...]:
        """Items to show given the answers so far (FHIR enableWhen) and, when
        ``context`` is given, only items whose template context is filled in
        (so Goal-Based Outcomes asks only about goals that exist)."""
        answers = answers or {}
        shown: list[Item] = []
        for item in self.items:
            if not is_enabled(self, item, answers):
                continue
            if context is not None and any(
                not str(context.get(key) or "").strip() for key in item.context_keys
            ):
                continue
            shown.append(item)
        return tuple(shown)

    def validate_answers(
        self, answers: Answers, context: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Problems a form should show next to items; ``{}`` when all is well."""
        return check_answers(self, answers, context)

    def score(self, answers: Answers, lang: str = "en") -> ScoreResult:
        return score_answers(self, answers, lang)
