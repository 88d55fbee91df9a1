"""Read and validate instrument files.

An instrument file is a FHIR R4 Questionnaire (JSON) with one extra
top-level key, ``"alliance"``, holding the scoring rules (see
docs/measures.md). Remove that key and what is left is a plain FHIR
Questionnaire.

Every problem is reported as :class:`InstrumentFileError` naming the file,
the item's linkId where there is one, and what is wrong.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from alliance.measures.errors import InstrumentFileError
from alliance.measures.model import (
    Band,
    Coding,
    Cutoff,
    EnableCondition,
    Instrument,
    Item,
    ItemKind,
    MissingRule,
    Option,
    ReliableChangeRule,
    RiskRule,
    ScoringRules,
    Subscale,
    template_keys,
)
from alliance.measures.schema import (
    ALLIANCE_KEY,
    AllianceBlock,
    AnswerOptionModel,
    ContainsModel,
    EnableWhenModel,
    ItemModel,
    QuestionnaireModel,
    ValueSetModel,
)
from alliance.measures.text import LocalizedText, localized

# Where FHIR puts an answer's score. R4 calls it ordinalValue; R5 renamed it
# itemWeight; STU3 files (and LHC-Forms writing STU3) used questionnaire-ordinalValue on
# the answer and valueset-ordinalValue on a ValueSet concept; some used the ISO 21090 "CO value".
SCORE_EXTENSIONS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value",
    "http://hl7.org/fhir/StructureDefinition/valueset-ordinalValue",
)
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
CALCULATED = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression",
    "http://hl7.org/fhir/StructureDefinition/cqf-expression",
)
INSTRUCTIONS_LINK_ID = "instructions"

_KIND: dict[str, ItemKind] = {
    "choice": "choice",
    "open-choice": "choice",
    "coding": "choice",  # R5
    "integer": "integer",
    "string": "text",
    "text": "text",
}


@dataclass(frozen=True)
class QuestionnaireParts:
    """What the loader took from the FHIR part, before the scoring rules apply."""

    model: QuestionnaireModel
    raw: Mapping[str, Any]
    primary_lang: str
    title: LocalizedText
    instructions: LocalizedText | None
    items: tuple[Item, ...]
    calculated_codes: tuple[Coding, ...]
    codes: tuple[Coding, ...]
    # Questions left out on import because Alliance cannot ask them (boolean, date...): "linkId (type)".
    skipped: tuple[str, ...] = ()


# --- reading files ------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    try:
        # utf-8-sig: real files (the HL7 SDC examples among them) start with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InstrumentFileError(path, f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentFileError(path, "file is not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstrumentFileError(
            path, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from exc


def load_instrument_file(path: str | Path, *, shipped: bool = False) -> Instrument:
    path = Path(path)
    data = read_json(path)
    return parse_instrument(data, source=str(path), shipped=shipped, expected_id=path.stem)


def parse_instrument(
    data: Any,
    source: str,
    *,
    shipped: bool = False,
    expected_id: str | None = None,
) -> Instrument:
    if not isinstance(data, Mapping):
        raise InstrumentFileError(source, "expected a JSON object (a FHIR Questionnaire)")
    if ALLIANCE_KEY not in data:
        raise InstrumentFileError(
            source,
            f"no {ALLIANCE_KEY!r} scoring block; a plain FHIR Questionnaire must be brought in "
            "with `alliance instruments import`, which adds one",
        )
    parts = read_questionnaire(data, source)
    block = parse_block(data[ALLIANCE_KEY], source)
    return build_instrument(parts, block, source, shipped=shipped, expected_id=expected_id)


def parse_block(raw: Any, source: str) -> AllianceBlock:
    try:
        return AllianceBlock.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in (ALLIANCE_KEY, *err["loc"]))
        raise InstrumentFileError(source, f"{where}: {err['msg']}") from exc


# --- the FHIR part ---------------------------------------------------------------------------


def _link_id_at(raw: Any, loc: Sequence[int | str]) -> str | None:
    """Follow a pydantic error location through the raw JSON, remembering the
    innermost item's linkId so errors can name it."""
    link_id = None
    node = raw
    for i, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        parent = loc[i - 1] if i else None
        if parent == "item" and isinstance(node, Mapping) and isinstance(node.get("linkId"), str):
            link_id = node["linkId"]
    return link_id


def read_questionnaire(
    data: Mapping[str, Any], source: str, *, skip_unsupported: bool = False
) -> QuestionnaireParts:
    """The FHIR part of a file. ``skip_unsupported`` (import only) leaves out questions of a type
    Alliance cannot ask (boolean, date...) instead of refusing the file; they are listed in
    ``skipped``. An instrument file proper must not contain them."""
    raw = {k: v for k, v in data.items() if k != ALLIANCE_KEY}
    if raw.get("resourceType") != "Questionnaire":
        raise InstrumentFileError(
            source, f"resourceType must be 'Questionnaire', not {raw.get('resourceType')!r}"
        )
    try:
        model = QuestionnaireModel.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        where = ".".join(str(p) for p in loc)
        raise InstrumentFileError(source, f"{where}: {err['msg']}", _link_id_at(raw, loc)) from exc

    lang = model.language or "en"
    value_sets = _contained_value_sets(model, source)
    title_text = model.title or model.name or model.id or Path(source).stem
    title = localized(lang, title_text, model.title_shadow) or LocalizedText.single(lang, "")

    items: list[Item] = []
    calculated: list[Coding] = []
    instructions: list[LocalizedText] = []
    seen: set[str] = set()
    skipped: list[str] = []

    def walk(nodes: Iterable[ItemModel]) -> None:
        for node in nodes:
            if node.linkId in seen:
                raise InstrumentFileError(source, "linkId is used twice", node.linkId)
            seen.add(node.linkId)
            if node.type == "group":
                # A group's text is usually the shared stem ("Over the last two
                # weeks..."): use it as the instructions if there are none yet.
                text = localized(lang, node.text, node.text_shadow)
                if text and not instructions and not items:
                    instructions.append(text)
                walk(node.item)
                continue
            if node.type == "display":
                text = localized(lang, node.text, node.text_shadow)
                if text and not items and (node.linkId == INSTRUCTIONS_LINK_ID or not instructions):
                    instructions[:] = [text]
                continue
            if _is_calculated(node):
                calculated.extend(Coding(c.system, c.code, c.display) for c in node.code if c.code)
                continue
            if skip_unsupported and node.type not in _KIND:
                skipped.append(f"{node.linkId} ({node.type})")
                walk(node.item)
                continue
            items.append(_read_item(node, lang, value_sets, source))

    walk(model.item)
    if not items:
        raise InstrumentFileError(source, "the Questionnaire has no questions")
    codes = tuple(Coding(c.system, c.code, c.display) for c in model.code if c.code)
    parts = QuestionnaireParts(
        model=model,
        raw=raw,
        primary_lang=lang,
        title=title,
        instructions=instructions[0] if instructions else None,
        items=tuple(items),
        calculated_codes=tuple(calculated),
        codes=codes,
        skipped=tuple(skipped),
    )
    return replace(parts, items=tuple(_resolve_enable_when(parts, source)))


def _is_calculated(node: ItemModel) -> bool:
    if any(ext.get("url") in CALCULATED for ext in node.extension):
        return True
    # A read-only, non-question item (e.g. a total shown by the form) carries no answer to score.
    return bool(node.readOnly) and node.type not in _KIND


def _contained_value_sets(model: QuestionnaireModel, source: str) -> dict[str, ValueSetModel]:
    found: dict[str, ValueSetModel] = {}
    for i, res in enumerate(model.contained):
        if res.get("resourceType") != "ValueSet":
            continue
        try:
            vs = ValueSetModel.model_validate(res)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in ("contained", i, *err["loc"]))
            raise InstrumentFileError(source, f"{where}: {err['msg']}") from exc
        if vs.id:
            found["#" + vs.id] = vs
        if vs.url:
            found[vs.url] = vs
    return found


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        as_float = float(value)
        return int(as_float) if as_float.is_integer() else as_float
    return None


def _score_extension(extensions: Iterable[Mapping[str, Any]]) -> int | float | None:
    for ext in extensions:
        if ext.get("url") in SCORE_EXTENSIONS:
            for key in ("valueDecimal", "valueInteger"):
                if key in ext:
                    return _number(ext[key])
    return None


def _int_extension(extensions: Iterable[Mapping[str, Any]], url: str) -> int | None:
    for ext in extensions:
        if ext.get("url") == url and isinstance(ext.get("valueInteger"), int):
            return int(ext["valueInteger"])
    return None


def _item_control(node: ItemModel) -> str | None:
    for ext in node.extension:
        if ext.get("url") != ITEM_CONTROL:
            continue
        for coding in (ext.get("valueCodeableConcept") or {}).get("coding", []) or []:
            if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
                return str(coding["code"])
    return None


RawOption = tuple[int | float | None, str | None, str | None, LocalizedText, str]


def _options_from_answer_options(node: ItemModel, lang: str, source: str) -> list[RawOption]:
    found = []
    for opt in node.answerOption:
        found.append(_read_answer_option(opt, lang, node.linkId, source))
    return found


def _read_answer_option(opt: AnswerOptionModel, lang: str, link_id: str, source: str) -> RawOption:
    score = _score_extension(opt.extension)
    if opt.valueCoding is not None:
        coding = opt.valueCoding
        if score is None:
            score = _score_extension(
                coding.model_extra.get("extension", []) if coding.model_extra else []
            )
        label_text = coding.display or coding.code
        if label_text is None:
            raise InstrumentFileError(
                source, "an answer option has neither display nor code", link_id
            )
        labels = localized(lang, label_text, coding.display_shadow)
        assert labels is not None
        return score, coding.code, coding.system, labels, "coding"
    if opt.valueInteger is not None:
        text = str(opt.valueInteger)
        return score, text, None, LocalizedText.single(lang, text), "integer"
    assert opt.valueString is not None
    labels = localized(lang, opt.valueString, opt.valueString_shadow)
    assert labels is not None
    return score, opt.valueString, None, labels, "string"


def _options_from_value_set(
    node: ItemModel, lang: str, value_sets: Mapping[str, ValueSetModel], source: str
) -> list[RawOption]:
    ref = node.answerValueSet or ""
    vs = value_sets.get(ref) or value_sets.get(ref.split("|", 1)[0])
    if vs is None:
        raise InstrumentFileError(
            source,
            f"answerValueSet {ref!r} is not contained in the file, so its answers and scores "
            "cannot be read (Alliance never fetches terminology at run time)",
            node.linkId,
        )
    expanded = {(c.system, c.code): c for c in _expansion(vs)}
    found: list[RawOption] = []
    for include in vs.compose.include if vs.compose else []:
        for concept in include.concept:
            labels = localized(lang, concept.display or concept.code, concept.display_shadow)
            assert labels is not None
            score = _score_extension(concept.extension)
            if score is None and (include.system, concept.code) in expanded:
                score = _score_extension(expanded[include.system, concept.code].extension)
            found.append((score, concept.code, include.system, labels, "coding"))
    if not found:
        # No concepts listed in compose: the expansion is the list of answers.
        for entry in expanded.values():
            assert entry.code is not None
            labels = localized(lang, entry.display or entry.code, entry.display_shadow)
            assert labels is not None
            found.append(
                (_score_extension(entry.extension), entry.code, entry.system, labels, "coding")
            )
    if not found:
        raise InstrumentFileError(
            source,
            f"answerValueSet {ref!r} lists no concepts, in compose.include.concept or "
            "expansion.contains (filters are not supported)",
            node.linkId,
        )
    return found


def _expansion(vs: ValueSetModel) -> list[ContainsModel]:
    """The coded entries of an expansion, nested ones included, in order."""
    found: list[ContainsModel] = []

    def walk(entries: Iterable[ContainsModel]) -> None:
        for entry in entries:
            if entry.code:
                found.append(entry)
            walk(entry.contains)

    walk(vs.expansion.contains if vs.expansion else [])
    return found


def _read_item(
    node: ItemModel, lang: str, value_sets: Mapping[str, ValueSetModel], source: str
) -> Item:
    kind = _KIND.get(node.type)
    if kind is None:
        raise InstrumentFileError(
            source,
            f"item type {node.type!r} is not supported (supported: {', '.join(sorted(_KIND))})",
            node.linkId,
        )
    texts = localized(lang, node.text, node.text_shadow)
    if texts is None:
        raise InstrumentFileError(source, "the item has no text", node.linkId)
    try:
        keys = template_keys(texts.get())
    except ValueError as exc:
        # A real file's text may hold a lone brace ("{" in a scale's legend): say so, by item.
        raise InstrumentFileError(
            source, f"text has a broken {{placeholder}}: {exc}", node.linkId
        ) from exc
    for other_lang, other in texts.entries:
        try:
            other_keys = template_keys(other)
        except ValueError as exc:
            raise InstrumentFileError(
                source, f"text ({other_lang}) has a broken {{placeholder}}: {exc}", node.linkId
            ) from exc
        if set(other_keys) != set(keys):
            raise InstrumentFileError(
                source,
                f"text ({other_lang}) uses placeholders {sorted(other_keys)}, "
                f"but the {lang} text uses {sorted(keys)}",
                node.linkId,
            )
    if node.repeats:
        raise InstrumentFileError(source, "repeating items are not supported", node.linkId)

    options: tuple[Option, ...] = ()
    if kind == "choice":
        if node.answerOption:
            raw_options = _options_from_answer_options(node, lang, source)
        elif node.answerValueSet:
            raw_options = _options_from_value_set(node, lang, value_sets, source)
        else:
            raise InstrumentFileError(
                source, "a choice item needs answerOption or answerValueSet", node.linkId
            )
        built = []
        for index, (score, code, system, labels, answer_type) in enumerate(raw_options):
            built.append(
                Option(
                    value=score if score is not None else index,
                    code=code,
                    system=system,
                    labels=labels,
                    scored=score is not None,
                    answer_type="integer"
                    if answer_type == "integer"
                    else "string"
                    if answer_type == "string"
                    else "coding",
                )
            )
        scored_flags = {o.scored for o in built}
        if scored_flags == {True, False}:
            # Mixing scored and unscored options would make positions and scores collide.
            missing = [o.label() for o in built if not o.scored]
            raise InstrumentFileError(
                source, f"some answer options have a score and some do not ({missing})", node.linkId
            )
        values = [o.value for o in built]
        if len(set(values)) != len(values):
            raise InstrumentFileError(
                source,
                f"two answer options have the same score {values}; answers would be ambiguous",
                node.linkId,
            )
        options = tuple(built)

    min_value = max_value = None
    low = high = None
    if kind == "integer":
        min_value = _int_extension(node.extension, MIN_VALUE)
        max_value = _int_extension(node.extension, MAX_VALUE)
        if min_value is not None and max_value is not None and min_value > max_value:
            raise InstrumentFileError(
                source, f"minValue {min_value} is above maxValue {max_value}", node.linkId
            )
        for child in node.item:
            control = _item_control(child)
            text = localized(lang, child.text, child.text_shadow)
            if child.type == "display" and control == "lower":
                low = text
            elif child.type == "display" and control == "upper":
                high = text
    elif node.item and any(child.type != "display" for child in node.item):
        raise InstrumentFileError(
            source, "questions nested under a question are not supported", node.linkId
        )

    return Item(
        link_id=node.linkId,
        kind=kind,
        texts=texts,
        required=bool(node.required),
        scored=False,
        options=options,
        min_value=min_value,
        max_value=max_value,
        anchors_low=low,
        anchors_high=high,
        codes=tuple(Coding(c.system, c.code, c.display) for c in node.code if c.code),
        enable_when=(),
        enable_behavior=node.enableBehavior or "all",
        prefix=node.prefix,
    )


def _lineage(nodes: Iterable[ItemModel], link_id: str) -> list[ItemModel] | None:
    """The item and the groups it sits in, outermost first."""
    for node in nodes:
        if node.linkId == link_id:
            return [node]
        found = _lineage(node.item, link_id)
        if found is not None:
            return [node, *found]
    return None


def _conditions_of(
    lineage: Sequence[ItemModel], source: str, link_id: str
) -> tuple[list[EnableWhenModel], Literal["all", "any"]]:
    """The enableWhen conditions that govern a question: its own and its groups' (a question in a
    hidden group is hidden). Alliance's items are flat, so conditions from several levels are
    combined only when each level requires all of its own ("all", or a single condition)."""
    levels = [node for node in lineage if node.enableWhen]
    if len(levels) == 1:
        return list(levels[0].enableWhen), levels[0].enableBehavior or "all"
    for node in levels:
        if (node.enableBehavior or "all") == "any" and len(node.enableWhen) > 1:
            raise InstrumentFileError(
                source,
                f"enableWhen with enableBehavior 'any' on {node.linkId!r} cannot be combined with "
                "the enableWhen of the group or question around it",
                link_id,
            )
    return [cond for node in levels for cond in node.enableWhen], "all"


def _resolve_enable_when(parts: QuestionnaireParts, source: str) -> list[Item]:
    resolved: list[Item] = []
    by_id = {item.link_id: item for item in parts.items}
    order = [item.link_id for item in parts.items]
    for item in parts.items:
        lineage = _lineage(parts.model.item, item.link_id)
        assert lineage is not None
        given, behavior = _conditions_of(lineage, source, item.link_id)
        conditions: list[EnableCondition] = []
        for cond in given:
            target = by_id.get(cond.question)
            if target is None:
                left_out = [s for s in parts.skipped if s.startswith(f"{cond.question} (")]
                why = (
                    f"which Alliance cannot ask (type {left_out[0].rsplit('(', 1)[1]}"
                    if left_out
                    else "which is not a question here"
                )
                raise InstrumentFileError(
                    source, f"enableWhen refers to {cond.question!r}, {why}", item.link_id
                )
            if order.index(cond.question) >= order.index(item.link_id):
                raise InstrumentFileError(
                    source,
                    f"enableWhen refers to {cond.question!r}, which comes later",
                    item.link_id,
                )
            answer: int | float | str | bool
            if cond.operator == "exists":
                if cond.answerBoolean is None:
                    raise InstrumentFileError(
                        source, "enableWhen 'exists' needs answerBoolean", item.link_id
                    )
                answer = cond.answerBoolean
            elif cond.answerCoding is not None:
                wanted = cond.answerCoding
                match = [
                    o
                    for o in target.options
                    if o.code == wanted.code
                    and (wanted.system is None or o.system in (None, wanted.system))
                ]
                if not match:
                    raise InstrumentFileError(
                        source,
                        f"enableWhen answerCoding {wanted.code!r} is not an option of "
                        f"{cond.question!r}",
                        item.link_id,
                    )
                answer = match[0].value
            elif cond.answerInteger is not None:
                answer = cond.answerInteger
            elif cond.answerDecimal is not None:
                answer = float(cond.answerDecimal)
            elif cond.answerString is not None:
                answer = cond.answerString
            else:
                assert cond.answerBoolean is not None
                answer = cond.answerBoolean
            conditions.append(EnableCondition(cond.question, cond.operator, answer))
        resolved.append(replace(item, enable_when=tuple(conditions), enable_behavior=behavior))
    return resolved


# --- applying the Alliance block -----------------------------------------------------------


def _texts(values: Mapping[str, str], primary: str) -> LocalizedText:
    ordered = [(primary, values[primary])] if primary in values else []
    ordered.extend((k, v) for k, v in values.items() if k != primary)
    return LocalizedText(tuple(ordered))


def _require_languages(
    texts: LocalizedText | None,
    languages: Sequence[str],
    source: str,
    what: str,
    link_id: str | None = None,
) -> None:
    if texts is None:
        return
    for lang in languages:
        if not texts.has(lang):
            raise InstrumentFileError(source, f"{what} has no {lang!r} text", link_id)


def build_instrument(
    parts: QuestionnaireParts,
    block: AllianceBlock,
    source: str,
    *,
    shipped: bool = False,
    expected_id: str | None = None,
) -> Instrument:
    model = parts.model
    instrument_id = model.id
    if not instrument_id:
        raise InstrumentFileError(
            source, "the Questionnaire has no 'id' (it becomes the instrument id)"
        )
    if expected_id is not None and instrument_id != expected_id:
        raise InstrumentFileError(
            source, f"id {instrument_id!r} does not match the file name (expected {expected_id!r})"
        )
    primary = parts.primary_lang
    if block.languages[0] != primary:
        raise InstrumentFileError(
            source,
            f"alliance.languages must start with the Questionnaire's language {primary!r}",
        )
    by_id = {item.link_id: item for item in parts.items}
    scoring = block.scoring

    def scorable_item(link_id: str, where: str) -> Item:
        item = by_id.get(link_id)
        if item is None:
            raise InstrumentFileError(source, f"{where} names an item that does not exist", link_id)
        if item.kind == "text":
            raise InstrumentFileError(
                source, f"{where} names a free-text item, which cannot be scored", link_id
            )
        if item.kind == "choice" and not all(o.scored for o in item.options):
            raise InstrumentFileError(
                source,
                f"{where} names it, but its answer options carry no scores (ordinalValue)",
                link_id,
            )
        if item.score_range is None:
            raise InstrumentFileError(
                source, f"{where} names it, but it has no minValue/maxValue", link_id
            )
        return item

    if len(set(scoring.items)) != len(scoring.items):
        raise InstrumentFileError(source, "alliance.scoring.items lists an item twice")
    scored_ids = set(scoring.items)
    for link_id in scoring.items:
        scorable_item(link_id, "alliance.scoring.items")
    subscales = []
    sub_ids: set[str] = set()
    for sub in scoring.subscales:
        if sub.id in sub_ids:
            raise InstrumentFileError(
                source, f"alliance.scoring.subscales: id {sub.id!r} is used twice"
            )
        sub_ids.add(sub.id)
        for link_id in sub.items:
            scorable_item(link_id, f"subscale {sub.id!r}")
        if sub.max_missing >= len(sub.items):
            raise InstrumentFileError(
                source, f"subscale {sub.id!r}: max_missing must be below its item count"
            )
        labels = _texts(sub.label, primary)
        _require_languages(labels, block.languages, source, f"subscale {sub.id!r} label")
        scored_ids.update(sub.items)
        subscales.append(Subscale(sub.id, labels, tuple(sub.items), sub.method, sub.max_missing))
    for link_id in scoring.reversed:
        if link_id not in scored_ids:
            raise InstrumentFileError(
                source, "alliance.scoring.reversed names an item that is not scored", link_id
            )
    if scoring.items and scoring.missing.max_missing >= len(scoring.items):
        raise InstrumentFileError(
            source, "alliance.scoring.missing.max_missing must be below the item count"
        )

    items = tuple(replace(item, scored=item.link_id in scored_ids) for item in parts.items)
    ranges = [by_id[k].score_range for k in scoring.items]
    lows = [r[0] for r in ranges if r]
    highs = [r[1] for r in ranges if r]
    total_range: tuple[float, float] | None = None
    if scoring.method == "sum":
        total_range = (float(sum(lows)), float(sum(highs)))
    elif scoring.method == "mean":
        total_range = (sum(lows) / len(lows), sum(highs) / len(highs))
    integer_totals = (
        scoring.method == "sum"
        and all(float(x).is_integer() for r in ranges if r for x in r)
        and all(float(o.value).is_integer() for k in scoring.items for o in by_id[k].options)
        and (scoring.missing.max_missing == 0 or scoring.missing.rounding == "half_up")
    )

    bands = [Band(b.key, b.min, b.max, _texts(b.label, primary)) for b in scoring.bands]
    if bands:
        assert total_range is not None  # the schema allows bands only with a total
        keys = [b.key for b in bands]
        if len(set(keys)) != len(keys):
            raise InstrumentFileError(source, "alliance.scoring.bands: a band key is used twice")
        if bands[0].min != total_range[0] or bands[-1].max != total_range[1]:
            raise InstrumentFileError(
                source,
                "alliance.scoring.bands must cover the whole range "
                f"{total_range[0]:g} to {total_range[1]:g} "
                f"(they cover {bands[0].min:g} to {bands[-1].max:g})",
            )
        for prev, nxt in itertools.pairwise(bands):
            ok = (
                nxt.min == prev.max + 1
                if integer_totals
                else prev.min < nxt.min and prev.max <= nxt.min
            )
            if not ok:
                raise InstrumentFileError(
                    source,
                    f"alliance.scoring.bands {prev.key!r} ({prev.min:g} to {prev.max:g}) and "
                    f"{nxt.key!r} ({nxt.min:g} to {nxt.max:g}) leave a gap or overlap",
                )
        for band in bands:
            _require_languages(band.labels, block.languages, source, f"band {band.key!r} label")

    cutoff = None
    if scoring.cutoff is not None:
        c = scoring.cutoff
        assert total_range is not None  # the schema allows a cut-off only with a total
        if not total_range[0] <= c.value <= total_range[1]:
            raise InstrumentFileError(
                source, f"alliance.scoring.cutoff {c.value:g} is outside the score range"
            )
        cut_labels = _texts(c.label, primary) if c.label else None
        _require_languages(cut_labels, block.languages, source, "cut-off label")
        cutoff = Cutoff(c.value, c.clinical, cut_labels, c.source)

    rc = scoring.reliable_change
    reliable = (
        ReliableChangeRule(rc.threshold, rc.sd, rc.reliability, rc.source, rc.unverified)
        if rc
        else None
    )
    total_code = (
        Coding(
            scoring.total_code.system, scoring.total_code.code, scoring.total_code.display or None
        )
        if scoring.total_code
        else None
    )

    risk_rules = []
    for rule in block.risk:
        scorable_item(rule.item, "alliance.risk")
        messages = _texts(rule.message, primary)
        _require_languages(messages, block.languages, source, "risk message", rule.item)
        caveat = _texts(rule.caveat, primary) if rule.caveat else None
        _require_languages(caveat, block.languages, source, "risk caveat", rule.item)
        risk_rules.append(
            RiskRule(rule.item, rule.operator, rule.value, rule.level, messages, caveat)
        )

    note = _texts(block.validation_note, primary) if block.validation_note else None
    if not block.validated and note is None:
        raise InstrumentFileError(
            source,
            "alliance.validation_note is required when validated is false (it is shown to users)",
        )
    _require_languages(note, block.languages, source, "validation note")
    _require_languages(parts.title, block.languages, source, "title")
    _require_languages(parts.instructions, block.languages, source, "instructions")
    for item in items:
        _require_languages(item.texts, block.languages, source, "text", item.link_id)
        _require_languages(item.anchors_low, block.languages, source, "lower anchor", item.link_id)
        _require_languages(item.anchors_high, block.languages, source, "upper anchor", item.link_id)
        for option in item.options:
            _require_languages(
                option.labels, block.languages, source, f"option {option.label()!r}", item.link_id
            )

    return Instrument(
        id=instrument_id,
        version=model.version or "0",
        url=model.url,
        respondent=block.respondent,
        languages=tuple(block.languages),
        validated=block.validated,
        validation_note=note,
        licence=block.licence,
        citation=block.citation,
        notes=tuple(block.notes),
        titles=parts.title,
        instructions_text=parts.instructions,
        items=items,
        rules=ScoringRules(
            method=scoring.method,
            items=tuple(scoring.items),
            reversed=frozenset(scoring.reversed),
            missing=MissingRule(
                scoring.missing.max_missing,
                scoring.missing.rounding,
                scoring.missing.source,
                scoring.missing.unverified,
            ),
            subscales=tuple(subscales),
            bands=tuple(bands),
            cutoff=cutoff,
            direction=scoring.direction,
            reliable_change=reliable,
            total_code=total_code,
            total_range=total_range,
        ),
        risk_rules=tuple(risk_rules),
        codes=parts.codes,
        source=source,
        shipped=shipped,
        fhir=dict(parts.raw),
    )
