"""FHIR in and out.

* :func:`import_questionnaire` turns any FHIR R4 Questionnaire whose answers
  carry scores (``ordinalValue``/``itemWeight`` on answerOption, or on the
  concepts of a *contained* ValueSet) into an Alliance instrument file, adding
  a conservative default scoring block for a person to review.
* :func:`export_bundle` (defined in :mod:`alliance.measures.fhir_export`,
  re-exported here) writes stored responses as a FHIR R4 Bundle.

fhir.resources 8.x ships R5 (its default), R4B and STU3 models but no R4
package. For Questionnaire, QuestionnaireResponse, Observation and Bundle,
R4B is the R4 structure, so R4B models are used for validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from alliance.measures.errors import InstrumentFileError
from alliance.measures.import_rules import (
    RuleError,
    RuleSpecs,
    apply_rules,
    rules_from_extensions,
)
from alliance.measures.loader import (
    QuestionnaireParts,
    build_instrument,
    parse_block,
    parse_instrument,
    read_questionnaire,
)
from alliance.measures.model import Instrument, Item
from alliance.measures.registry import registry
from alliance.measures.schema import ALLIANCE_KEY
from alliance.measures.shipped_match import ShippedMatch, match_shipped, shipped_block

# Alliance has no public domain. The reserved .invalid TLD (RFC 6761) makes
# sure these canonicals never resolve to, or collide with, someone else's.
CANONICAL_BASE = "https://alliance.invalid/fhir"
SCORE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/instrument-score"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def conformance_problems(questionnaire: Mapping[str, Any]) -> list[str]:
    """Where the file departs from the FHIR R4(B) Questionnaire model.

    Alliance reads only what it needs and tolerates the rest; this reports
    everything else for a person to judge. Empty means fully conformant.
    """
    from fhir.resources.R4B.questionnaire import Questionnaire

    data = {k: v for k, v in questionnaire.items() if k != ALLIANCE_KEY}
    try:
        Questionnaire.model_validate(data)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {str(e.get('input'))[:60]!r})"
            for e in exc.errors()
        ]
    return []


def slug(text: str) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:63].rstrip("-")


@dataclass(frozen=True)
class ImportedInstrument:
    instrument: Instrument
    document: dict[str, Any]  # the file to write: the Questionnaire plus the Alliance block
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # The shipped instrument the file is coded as (LOINC panel), matched or not, and what differs.
    match: ShippedMatch | None = None
    # What the import did, in words, for the person running it (rules taken, items left out).
    messages: tuple[str, ...] = field(default_factory=tuple)


def _languages(parts: QuestionnaireParts) -> list[str]:
    """The file's own language first, then every other language it is complete in."""
    primary = parts.primary_lang
    candidates: set[str] = set(parts.title.languages)
    for item in parts.items:
        candidates &= set(item.texts.languages)
        for option in item.options:
            candidates &= set(option.labels.languages)
    return [primary, *sorted(candidates - {primary})]


def _default_block(
    parts: QuestionnaireParts, *, higher_is_better: bool, respondent: str, max_missing: int
) -> dict[str, Any]:
    scored: list[Item] = [
        item
        for item in parts.items
        if item.kind == "choice" and item.options and all(o.scored for o in item.options)
    ]
    if not scored:
        raise InstrumentFileError(
            parts.model.id or "<questionnaire>",
            "no item carries answer scores (ordinalValue or itemWeight), "
            "so there is nothing to score",
        )
    languages = _languages(parts)
    total_code = None
    if parts.calculated_codes:
        first = parts.calculated_codes[0]
        if first.system and first.code:
            total_code = {
                "system": first.system,
                "code": first.code,
                "display": first.display or "",
            }
    note = {
        lang: "Imported from a FHIR Questionnaire: check its scoring rules, bands and licence "
        "before clinical use."
        for lang in languages
    }
    block: dict[str, Any] = {
        "format": 1,
        "respondent": respondent,
        "languages": languages,
        "validated": False,
        "validation_note": note,
        "licence": parts.model.copyright or "Unknown: check the licence before use.",
        "citation": parts.model.title or parts.model.name or "",
        "notes": [
            "Scoring block generated by `alliance instruments import`: the total is the sum "
            "of every item whose answers carry scores; no proration, bands, cut-off or risk "
            "rules unless given at import. Review it.",
        ],
        "scoring": {
            "method": "sum",
            "items": [item.link_id for item in scored],
            "missing": {
                "max_missing": min(max_missing, len(scored) - 1),
                "rounding": "half_up",
                "source": "set at import",
            },
            "direction": "higher_is_better" if higher_is_better else "higher_is_worse",
        },
    }
    if total_code:
        block["scoring"]["total_code"] = total_code
    return block


def _without_items(items: Any, link_ids: set[str]) -> Any:
    """The raw item tree without the questions Alliance left out, so the saved file loads."""
    if not isinstance(items, list):
        return items
    kept = []
    for node in items:
        if isinstance(node, Mapping) and node.get("linkId") in link_ids:
            continue
        if isinstance(node, Mapping) and "item" in node:
            node = {**node, "item": _without_items(node["item"], link_ids)}
        kept.append(node)
    return kept


def _shipped() -> list[Instrument]:
    reg = registry()
    return [reg.instruments[i] for i in sorted(reg.shipped_ids)]


def import_questionnaire(
    data: Mapping[str, Any],
    *,
    instrument_id: str | None = None,
    source: str = "<questionnaire>",
    higher_is_better: bool = False,
    respondent: str = "client",
    max_missing: int = 0,
    rules: RuleSpecs | None = None,
    use_shipped_rules: bool = True,
    shipped: Sequence[Instrument] | None = None,
) -> ImportedInstrument:
    """Validate a FHIR Questionnaire (or a full Alliance instrument file) and
    return the instrument plus the document to save.

    The scoring rules of a plain Questionnaire come, in this order of precedence, from ``rules``
    (the command line), from Alliance's rule extensions in the file
    (:mod:`alliance.measures.import_rules`), from the shipped instrument it is coded as when its
    items and scores match (:mod:`alliance.measures.shipped_match`; ``use_shipped_rules=False``
    turns that off), and otherwise a conservative default: the sum of the scored items, no bands,
    cut-off or risk rules."""
    if not isinstance(data, Mapping):
        raise InstrumentFileError(source, "expected a JSON object (a FHIR Questionnaire)")
    document = dict(data)
    # A derived id is slugged (FHIR ids allow capitals and dots; Alliance ids
    # double as file names); an id given explicitly must already be valid.
    candidate = instrument_id or slug(
        str(document.get("id") or document.get("name") or document.get("title") or "")
    )
    if not isinstance(candidate, str) or not _ID_PATTERN.match(candidate):
        raise InstrumentFileError(
            source,
            f"instrument id {candidate!r} must be lower-case letters, digits and '-' "
            "(give one with --id)",
        )
    document["id"] = candidate
    if ALLIANCE_KEY in document:
        if rules is not None and not rules.is_empty:
            raise InstrumentFileError(
                source,
                "the file already has an 'alliance' block with its scoring rules: change them "
                "there instead of giving " + ", ".join(rules.kinds()),
            )
        instrument = parse_instrument(document, source)
        return ImportedInstrument(instrument, document, tuple(conformance_problems(document)))

    parts = read_questionnaire(document, source, skip_unsupported=True)
    messages: list[str] = []
    if parts.skipped:
        left_out = {s.rsplit(" (", 1)[0] for s in parts.skipped}
        document["item"] = _without_items(document.get("item"), left_out)
        messages.append(
            "Left out questions Alliance cannot ask (kept out of the saved file): "
            + ", ".join(parts.skipped)
        )
    try:
        from_file = rules_from_extensions(parts.model.extension)
    except RuleError as exc:
        raise InstrumentFileError(source, str(exc)) from None
    given = (rules or RuleSpecs()).over(from_file)
    if not from_file.is_empty:
        messages.append(
            "Rules read from the file's Alliance extensions: " + ", ".join(from_file.kinds())
        )

    match = None
    if use_shipped_rules:
        match = match_shipped(parts, _shipped() if shipped is None else shipped)
    if match is not None and match.matched:
        reference = next(i for i in (shipped or _shipped()) if i.id == match.shipped_id)
        block_data = shipped_block(
            match, reference, languages=_languages(parts), respondent=reference.respondent
        )
        messages.append(match.message())
        messages.extend(match.notes)
    else:
        if match is not None:
            messages.append(match.message())
        block_data = _default_block(
            parts, higher_is_better=higher_is_better, respondent=respondent, max_missing=max_missing
        )
    if not given.is_empty:
        block_data = apply_rules(block_data, given, source=source)
        if match is not None and match.matched:
            messages.append("Given rules replace the shipped ones for: " + ", ".join(given.kinds()))
    block = parse_block(block_data, source)
    instrument = build_instrument(parts, block, source)
    document[ALLIANCE_KEY] = block_data
    return ImportedInstrument(
        instrument, document, tuple(conformance_problems(document)), match, tuple(messages)
    )


# --- export ------------------------------------------------------------------------------------
# The export mapping lives in alliance.measures.fhir_export (shared by the episode export, the
# Insights export and the FHIR API); these names stay importable from here.
from alliance.measures.fhir_export import (  # noqa: E402
    StoredResponse,
    export_bundle,
    validate_bundle,
)

__all__ = [
    "CANONICAL_BASE",
    "ImportedInstrument",
    "StoredResponse",
    "conformance_problems",
    "export_bundle",
    "import_questionnaire",
    "slug",
    "validate_bundle",
]
