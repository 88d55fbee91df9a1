"""Pydantic models for what Alliance reads from an instrument file.

Two layers:

* ``QuestionnaireModel``: the parts of a FHIR R4 Questionnaire that Alliance
  uses (items, answer options, enableWhen, contained ValueSets). Unknown FHIR
  elements are allowed and ignored, so real-world files that are slightly
  off-spec elsewhere (LHC-Forms names FHIRPath variables ``q1_value``, which
  strict R4 rejects) still import. Full FHIR conformance is checked
  separately by :func:`alliance.measures.fhir.conformance_problems`.
* ``AllianceBlock``: the scoring rules, kept under the top-level key
  ``"alliance"`` next to the Questionnaire's own elements. Extra keys are
  forbidden there, so a typo such as ``"max_mising"`` is an error, not a
  silently ignored setting.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ALLIANCE_KEY = "alliance"
FORMAT_VERSION = 1


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class CodingModel(_Lenient):
    system: str | None = None
    code: str | None = None
    display: str | None = None
    display_shadow: dict[str, Any] | None = Field(default=None, alias="_display")


class AnswerOptionModel(_Lenient):
    extension: list[dict[str, Any]] = Field(default_factory=list)
    valueCoding: CodingModel | None = None
    valueInteger: int | None = None
    valueString: str | None = None
    valueString_shadow: dict[str, Any] | None = Field(default=None, alias="_valueString")

    @model_validator(mode="after")
    def _one_value(self) -> AnswerOptionModel:
        given = [
            v for v in (self.valueCoding, self.valueInteger, self.valueString) if v is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "an answerOption needs exactly one of valueCoding, valueInteger, valueString"
            )
        return self


class EnableWhenModel(_Lenient):
    question: str
    operator: Literal["exists", "=", "!=", ">", "<", ">=", "<="]
    answerBoolean: bool | None = None
    answerDecimal: Decimal | None = None
    answerInteger: int | None = None
    answerString: str | None = None
    answerCoding: CodingModel | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> EnableWhenModel:
        given = [
            v
            for v in (
                self.answerBoolean,
                self.answerDecimal,
                self.answerInteger,
                self.answerString,
                self.answerCoding,
            )
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "an enableWhen needs exactly one answer[x] (date/time forms unsupported)"
            )
        return self


ItemType = Literal[
    "group",
    "display",
    "boolean",
    "decimal",
    "integer",
    "date",
    "dateTime",
    "time",
    "string",
    "text",
    "url",
    "choice",
    "open-choice",
    "attachment",
    "reference",
    "quantity",
    "question",
    # R5 renamed "choice" to "coding" (with answerConstraint for open choices).
    "coding",
]


class ItemModel(_Lenient):
    linkId: str = Field(min_length=1)
    type: ItemType
    text: str | None = None
    text_shadow: dict[str, Any] | None = Field(default=None, alias="_text")
    prefix: str | None = None
    required: bool | None = None
    repeats: bool | None = None
    readOnly: bool | None = None
    code: list[CodingModel] = Field(default_factory=list)
    extension: list[dict[str, Any]] = Field(default_factory=list)
    answerOption: list[AnswerOptionModel] = Field(default_factory=list)
    answerValueSet: str | None = None
    enableWhen: list[EnableWhenModel] = Field(default_factory=list)
    enableBehavior: Literal["all", "any"] | None = None
    item: list[ItemModel] = Field(default_factory=list)


class ConceptModel(_Lenient):
    code: str
    display: str | None = None
    display_shadow: dict[str, Any] | None = Field(default=None, alias="_display")
    extension: list[dict[str, Any]] = Field(default_factory=list)


class IncludeModel(_Lenient):
    system: str | None = None
    concept: list[ConceptModel] = Field(default_factory=list)


class ComposeModel(_Lenient):
    include: list[IncludeModel] = Field(default_factory=list)


class ContainsModel(_Lenient):
    """One entry of ``ValueSet.expansion.contains``; abstract entries have no code and may nest."""

    system: str | None = None
    code: str | None = None
    display: str | None = None
    display_shadow: dict[str, Any] | None = Field(default=None, alias="_display")
    extension: list[dict[str, Any]] = Field(default_factory=list)
    contains: list[ContainsModel] = Field(default_factory=list)


class ExpansionModel(_Lenient):
    contains: list[ContainsModel] = Field(default_factory=list)


class ValueSetModel(_Lenient):
    resourceType: Literal["ValueSet"]
    id: str | None = None
    url: str | None = None
    compose: ComposeModel | None = None
    # LHC-Forms and the Argonaut questionnaires list a contained ValueSet's answers, with their
    # scores, in a pre-computed expansion instead of compose.include.concept.
    expansion: ExpansionModel | None = None


class QuestionnaireModel(_Lenient):
    resourceType: Literal["Questionnaire"]
    id: str | None = None
    url: str | None = None
    version: str | None = None
    name: str | None = None
    title: str | None = None
    title_shadow: dict[str, Any] | None = Field(default=None, alias="_title")
    status: str | None = None
    language: str | None = None
    copyright: str | None = None
    description: str | None = None
    code: list[CodingModel] = Field(default_factory=list)
    extension: list[dict[str, Any]] = Field(default_factory=list)
    contained: list[dict[str, Any]] = Field(default_factory=list)
    item: list[ItemModel] = Field(default_factory=list)


# --- the Alliance block -----------------------------------------------------------------

LocalizedMap = dict[str, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MissingModel(_Strict):
    max_missing: int = Field(default=0, ge=0)
    # "half_up" rounds a prorated sum to a whole number the way people do by hand
    # (12.5 -> 13); Python's round() would give 12 (banker's rounding).
    rounding: Literal["half_up", "none"] = "half_up"
    source: str = ""
    unverified: bool = False


class SubscaleModel(_Strict):
    id: str = Field(min_length=1)
    label: LocalizedMap
    items: list[str] = Field(min_length=1)
    method: Literal["sum", "mean"] = "mean"
    max_missing: int = Field(default=0, ge=0)


class BandModel(_Strict):
    key: str = Field(min_length=1)
    min: float
    max: float
    label: LocalizedMap

    @model_validator(mode="after")
    def _ordered(self) -> BandModel:
        if self.min > self.max:
            raise ValueError(f"band {self.key!r}: min {self.min} is above max {self.max}")
        return self


class CutoffModel(_Strict):
    value: float
    clinical: Literal["at_or_above", "at_or_below"] = "at_or_above"
    label: LocalizedMap = Field(default_factory=dict)
    source: str = ""


class ReliableChangeModel(_Strict):
    threshold: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, gt=0)
    reliability: float | None = Field(default=None, gt=0, lt=1)
    source: str = ""
    unverified: bool = False

    @model_validator(mode="after")
    def _something(self) -> ReliableChangeModel:
        if self.threshold is None and (self.sd is None or self.reliability is None):
            raise ValueError("reliable_change needs a threshold, or both sd and reliability")
        if (self.sd is None) != (self.reliability is None):
            raise ValueError("reliable_change: give sd and reliability together")
        return self


class TotalCodeModel(_Strict):
    system: str
    code: str
    display: str = ""


class ScoringModel(_Strict):
    # "none": an instrument of open questions only (the ending question). It has no total, so
    # everything that describes a total (items, direction, bands, cut-off...) must be absent.
    method: Literal["sum", "mean", "none"]
    items: list[str] = Field(default_factory=list)
    reversed: list[str] = Field(default_factory=list)
    missing: MissingModel = Field(default_factory=MissingModel)
    subscales: list[SubscaleModel] = Field(default_factory=list)
    bands: list[BandModel] = Field(default_factory=list)
    cutoff: CutoffModel | None = None
    direction: Literal["higher_is_worse", "higher_is_better"] | None = None
    reliable_change: ReliableChangeModel | None = None
    total_code: TotalCodeModel | None = None

    @model_validator(mode="after")
    def _total_or_none(self) -> ScoringModel:
        if self.method != "none":
            if not self.items:
                raise ValueError(
                    f'method {self.method!r} needs at least one item (use "none" for an '
                    "instrument without a score)"
                )
            if self.direction is None:
                raise ValueError(f"method {self.method!r} needs a direction")
            return self
        described = [
            name
            for name in (
                "items",
                "reversed",
                "subscales",
                "bands",
                "cutoff",
                "direction",
                "reliable_change",
                "total_code",
            )
            if getattr(self, name)
        ] + (["missing"] if "missing" in self.model_fields_set else [])
        if described:
            raise ValueError('method "none" has no total, so it takes no ' + ", ".join(described))
        return self


class RiskRuleModel(_Strict):
    item: str
    operator: Literal[">", ">=", "=", "!="] = ">"
    value: float
    level: Literal["urgent", "review"] = "urgent"
    message: LocalizedMap
    caveat: LocalizedMap = Field(default_factory=dict)


class AllianceBlock(_Strict):
    format: Literal[1] = 1
    respondent: Literal["client", "therapist"]
    languages: list[str] = Field(min_length=1)
    validated: bool
    validation_note: LocalizedMap = Field(default_factory=dict)
    licence: str = Field(min_length=1)
    citation: str = ""
    notes: list[str] = Field(default_factory=list)
    scoring: ScoringModel
    risk: list[RiskRuleModel] = Field(default_factory=list)

    @field_validator("languages")
    @classmethod
    def _unique(cls, langs: list[str]) -> list[str]:
        if len(set(langs)) != len(langs):
            raise ValueError("languages must not repeat")
        return langs
