"""Reading the answers of an imported QuestionnaireResponse against an instrument.

An answer is stored the way a check-in stores it: a choice as its option's value (its score), an
integer as itself, text as text. A choice may be given as the instrument's own code or a LOINC
answer code (``valueCoding``), as its score (``valueInteger``/``valueDecimal``: an ordinal), or as
its code or label in ``valueString``; a linkId may be the instrument's own or an item's LOINC code
(LHC-Forms writes ``/44250-9``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from alliance.care.fhir_payload import Checker, text_or_none
from alliance.measures import Instrument, Item

_LOINC_CODE = re.compile(r"^/?(\d{1,7}-\d)$")


def walk_items(
    resource: Mapping[str, Any], base: str = "item"
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every item of a response, groups and answers' nested items included, with its path."""
    items = resource.get("item")
    if not isinstance(items, list):
        return
    for i, node in enumerate(items):
        path = f"{base}[{i}]"
        if not isinstance(node, Mapping) or not isinstance(node.get("linkId"), str):
            continue
        yield path, node
        yield from walk_items(node, f"{path}.item")
        answers = node.get("answer")
        for j, answer in enumerate(answers if isinstance(answers, list) else []):
            if isinstance(answer, Mapping):
                yield from walk_items(answer, f"{path}.answer[{j}].item")


def item_problems(resource: Mapping[str, Any], check: Checker) -> list[str]:
    """The answered linkIds, after checking that every item has one."""
    linked: list[str] = []
    items = resource.get("item")
    if items is not None and not isinstance(items, list):
        check.add("item", "must be a list")
        return linked

    def visit(nodes: Any, base: str) -> None:
        for i, node in enumerate(nodes if isinstance(nodes, list) else []):
            path = f"{base}[{i}]"
            if not isinstance(node, Mapping):
                check.add(path, "must be an object")
                continue
            if not isinstance(node.get("linkId"), str) or not node["linkId"]:
                check.add(f"{path}.linkId", "is missing")
                continue
            if node.get("answer"):
                linked.append(node["linkId"])
            visit(node.get("item"), f"{path}.item")
            answers = node.get("answer")
            for j, answer in enumerate(answers if isinstance(answers, list) else []):
                if isinstance(answer, Mapping):
                    visit(answer.get("item"), f"{path}.answer[{j}].item")

    visit(items, "item")
    return linked


def find_item(instrument: Instrument, link_id: Any) -> Item | None:
    if not isinstance(link_id, str):
        return None
    if instrument.has_item(link_id):
        return instrument.item(link_id)
    code = _LOINC_CODE.match(link_id)
    if code:
        for item in instrument.items:
            if item.loinc == code[1]:
                return item
    return None


def is_total(instrument: Instrument, link_id: Any) -> bool:
    code = instrument.rules.total_code
    return bool(
        code and code.code and isinstance(link_id, str) and link_id.lstrip("/") == code.code
    )


def structure_link_ids(instrument: Instrument) -> set[str]:
    """linkIds of the instrument's Questionnaire that hold no stored answer: groups, display
    items, calculated totals."""
    found: set[str] = set()

    def visit(nodes: Any) -> None:
        for node in nodes if isinstance(nodes, list) else []:
            if isinstance(node, Mapping) and isinstance(node.get("linkId"), str):
                found.add(node["linkId"])
                visit(node.get("item"))

    visit(instrument.fhir.get("item"))
    return found - {i.link_id for i in instrument.items}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def answer_value(item: Item, answer: Any, path: str, check: Checker) -> Any:
    """The stored form of one FHIR answer to ``item``, or None after adding a problem."""
    if not isinstance(answer, Mapping):
        check.add(path, "must be an object")
        return None
    kinds = [k for k in answer if k.startswith("value")]
    if len(kinds) != 1:
        check.add(path, "needs exactly one value[x]")
        return None
    kind = kinds[0]
    value = answer[kind]
    if item.kind == "choice":
        if kind == "valueCoding":
            if not isinstance(value, Mapping) or not text_or_none(value.get("code")):
                check.add(f"{path}.valueCoding", "needs a code")
                return None
            system = value.get("system")
            for option in item.options:
                if option.code == value["code"] and (
                    system is None or option.system is None or option.system == system
                ):
                    return option.value
            codes = ", ".join(str(o.code) for o in item.options)
            check.add(
                f"{path}.valueCoding",
                f"{value['code']!r} is not one of item {item.link_id}'s answers ({codes})",
            )
            return None
        if kind in ("valueInteger", "valueDecimal"):
            number = _number(value)
            if number is None:
                check.add(f"{path}.{kind}", "is not a number")
                return None
            for option in item.options:
                if option.answer_type == "integer" and option.code == f"{number:g}":
                    return option.value
            if all(o.scored for o in item.options):
                for option in item.options:
                    if float(option.value) == number:
                        return option.value
                scores = ", ".join(f"{float(o.value):g}" for o in item.options)
                check.add(
                    f"{path}.{kind}",
                    f"{number:g} is not one of item {item.link_id}'s answer scores ({scores})",
                )
                return None
            check.add(
                f"{path}.{kind}",
                f"item {item.link_id}'s answers carry no scores: answer with valueCoding",
            )
            return None
        if kind == "valueString" and isinstance(value, str):
            for option in item.options:
                if option.code == value or option.label() == value:
                    return option.value
            check.add(
                f"{path}.valueString", f"{value!r} is not one of item {item.link_id}'s answers"
            )
            return None
        check.add(path, f"{kind} cannot answer choice item {item.link_id}")
        return None
    if item.kind == "integer":
        number = _number(value) if kind in ("valueInteger", "valueDecimal") else None
        if number is None or not number.is_integer():
            check.add(path, f"item {item.link_id} takes a whole number (valueInteger)")
            return None
        low, high = item.min_value, item.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            check.add(f"{path}.{kind}", f"{number:g} is outside {low} to {high}")
            return None
        return int(number)
    if kind == "valueString" and isinstance(value, str):
        return value
    check.add(path, f"item {item.link_id} takes text (valueString)")
    return None
