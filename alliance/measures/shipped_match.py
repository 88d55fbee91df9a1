"""Recognising a shipped instrument in an imported Questionnaire (PHQ-9, GAD-7 by LOINC panel).

A Questionnaire coded with a shipped instrument's LOINC panel (PHQ-9 44249-1, GAD-7 69737-5) whose
scored items and answer scores are the shipped one's takes the shipped instrument's scoring rules:
which items make the total, missing-item handling, bands, cut-off, reliable change, total code and
risk rules (PHQ-9 item 9 above 0 raises the urgent risk flag). Items are paired by their LOINC
item codes; a file whose items carry no LOINC codes at all is paired in order, and the match says
so. Anything that differs is listed, in words, and then nothing is taken. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alliance.measures.loader import QuestionnaireParts, read_json
from alliance.measures.model import LOINC, Instrument, Item
from alliance.measures.schema import ALLIANCE_KEY


@dataclass(frozen=True)
class ShippedMatch:
    shipped_id: str
    panel: str
    matched: bool
    how: str  # "LOINC item codes" or "order (the file's items carry no LOINC codes)"
    item_map: Mapping[str, str] = field(default_factory=dict)  # shipped linkId -> file linkId
    differences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def message(self) -> str:
        if self.matched:
            return (
                f"Coded LOINC {self.panel} and its items and answer scores match the shipped "
                f"{self.shipped_id!r} (paired by {self.how}): it takes {self.shipped_id}'s "
                "scoring, bands, cut-off, reliable change and risk rules."
            )
        return (
            f"Coded LOINC {self.panel} like the shipped {self.shipped_id!r}, but it does not match, "
            f"so none of {self.shipped_id}'s rules were taken: " + "; ".join(self.differences)
        )


def _scored(item: Item) -> bool:
    return item.kind == "choice" and bool(item.options) and all(o.scored for o in item.options)


def _scores(item: Item) -> list[float]:
    return sorted(float(o.value) for o in item.options)


def _fmt(values: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in values) or "none"


def _loinc_items(parts: QuestionnaireParts) -> dict[str, list[Item]]:
    found: dict[str, list[Item]] = {}
    for item in parts.items:
        for coding in item.codes:
            if coding.system == LOINC and coding.code:
                found.setdefault(coding.code, []).append(item)
    return found


def match_shipped(parts: QuestionnaireParts, shipped: Sequence[Instrument]) -> ShippedMatch | None:
    """The shipped instrument this Questionnaire is coded as, compared; None if it names none."""
    panels = {c.code for c in parts.codes if c.system == LOINC and c.code}
    target = next((i for i in shipped if i.loinc_panel and i.loinc_panel in panels), None)
    if target is None:
        return None
    panel = target.loinc_panel
    assert panel is not None
    by_code = _loinc_items(parts)
    # The total's items, and any risk item outside the total: both must be found in the file.
    wanted = [*target.rules.items, *(r.item for r in target.risk_rules)]
    shipped_scored = [target.item(link_id) for link_id in dict.fromkeys(wanted)]
    differences: list[str] = []
    notes: list[str] = []
    item_map: dict[str, str] = {}
    if by_code:
        how = "LOINC item codes"
        for ref in shipped_scored:
            label = f"{target.id} item {ref.link_id}"
            if ref.loinc is None:
                differences.append(f"{label} has no LOINC code to pair it by")
                continue
            candidates = by_code.get(ref.loinc, [])
            if not candidates:
                differences.append(f"no item is coded {ref.loinc} ({label})")
                continue
            if len(candidates) > 1:
                ids = ", ".join(i.link_id for i in candidates)
                differences.append(f"items {ids} are all coded {ref.loinc} ({label})")
                continue
            item_map[ref.link_id] = candidates[0].link_id
    else:
        how = "order (the file's items carry no LOINC codes)"
        scored = [i for i in parts.items if _scored(i)]
        if len(scored) != len(shipped_scored):
            differences.append(
                f"{len(scored)} items carry answer scores where {target.id} scores "
                f"{len(shipped_scored)}"
            )
        for ref, item in zip(shipped_scored, scored, strict=False):
            item_map[ref.link_id] = item.link_id
    by_id = {i.link_id: i for i in parts.items}
    for ref in shipped_scored:
        link_id = item_map.get(ref.link_id)
        if link_id is None:
            continue
        item = by_id[link_id]
        where = f"item {link_id!r} ({target.id} item {ref.link_id})"
        if not _scored(item):
            differences.append(f"{where} has answers without scores")
            continue
        if _scores(item) != _scores(ref):
            differences.append(
                f"{where}: answer scores {_fmt(_scores(item))} where {target.id} has "
                f"{_fmt(_scores(ref))}"
            )
            continue
        theirs = {float(o.value): o.code for o in item.options}
        ours = {float(o.value): o.code for o in ref.options}
        differing = [v for v in ours if theirs.get(v) != ours[v]]
        if differing:
            notes.append(
                f"{where}: the answer scored {_fmt(differing)} has another code "
                f"({', '.join(str(theirs[v]) for v in differing)} instead of "
                f"{', '.join(str(ours[v]) for v in differing)}); scores are what count"
            )
    mapped = set(item_map.values())
    for item in parts.items:
        if _scored(item) and item.link_id not in mapped:
            notes.append(
                f"item {item.link_id!r} carries answer scores but is not part of the "
                f"{target.id} total; it is kept and not scored"
            )
    return ShippedMatch(
        shipped_id=target.id,
        panel=panel,
        matched=not differences,
        how=how,
        item_map=item_map if not differences else {},
        differences=tuple(differences),
        notes=tuple(notes),
    )


def _texts(values: Any, languages: Sequence[str]) -> dict[str, str]:
    """A label in every language of the imported file; a language the shipped file lacks gets its
    first language's text (English), rather than a load error for a missing translation."""
    given = dict(values) if isinstance(values, Mapping) else {}
    fallback = next(iter(given.values()), "")
    return {lang: given.get(lang, fallback) for lang in languages}


def shipped_block(
    match: ShippedMatch, shipped: Instrument, *, languages: Sequence[str], respondent: str
) -> dict[str, Any]:
    """The shipped instrument's ``alliance`` block, with its linkIds replaced by the file's."""
    original = read_json(Path(shipped.source))[ALLIANCE_KEY]
    link = dict(match.item_map)

    def mapped(ids: Sequence[str]) -> list[str]:
        return [link[i] for i in ids]

    scoring = dict(original["scoring"])
    scoring["items"] = mapped(scoring["items"])
    scoring["reversed"] = mapped(scoring.get("reversed", []))
    scoring["subscales"] = [
        {**s, "items": mapped(s["items"]), "label": _texts(s["label"], languages)}
        for s in scoring.get("subscales", [])
    ]
    scoring["bands"] = [
        {**b, "label": _texts(b["label"], languages)} for b in scoring.get("bands", [])
    ]
    if scoring.get("cutoff"):
        cutoff = dict(scoring["cutoff"])
        if cutoff.get("label"):
            cutoff["label"] = _texts(cutoff["label"], languages)
        scoring["cutoff"] = cutoff
    risk = [
        {
            **rule,
            "item": link[rule["item"]],
            "message": _texts(rule["message"], languages),
            **({"caveat": _texts(rule["caveat"], languages)} if rule.get("caveat") else {}),
        }
        for rule in original.get("risk", [])
    ]
    block: dict[str, Any] = {
        "format": 1,
        "respondent": respondent,
        "languages": list(languages),
        "validated": original["validated"],
        "licence": original["licence"],
        "citation": original.get("citation", ""),
        "notes": [
            f"Scoring rules (total, missing items, bands, cut-off, reliable change, risk) are "
            f"those of the shipped {shipped.id!r}, taken at import because this Questionnaire is "
            f"coded LOINC {match.panel} and its items and answer scores match (paired by "
            f"{match.how}). Their sources are in {shipped.id}'s notes.",
            *match.notes,
        ],
        "scoring": scoring,
        "risk": risk,
    }
    if original.get("validation_note"):
        block["validation_note"] = _texts(original["validation_note"], languages)
    return block
