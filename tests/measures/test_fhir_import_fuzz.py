"""Fuzzing the Questionnaire importer's new paths: a real plain Questionnaire (answers in a contained
ValueSet's expansion, coded as the PHQ-9) with anything changed anywhere, with Alliance's rule
extensions holding anything, and with any option strings: a clean import or `InstrumentFileError` /
`RuleError` with a message, never another exception."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.measures.errors import InstrumentFileError
from alliance.measures.fhir import import_questionnaire
from alliance.measures.import_rules import (
    RuleError,
    RuleSpecs,
    parse_band,
    parse_number,
    parse_risk,
)

from .conftest import fixture_json

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ARGONAUT = fixture_json("fhir/lforms-argonaut-phq9-ish.R4.json")
BASE = "https://clinic.example/fhir/StructureDefinition/alliance-"
values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(["g1.q9", "LA6571-9", "44260-8", ">", ">=", "mild", "valueDecimal"]),
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    *("url", "extension", "valueDecimal", "valueInteger", "valueCode"),
                    *("valueString", "key", "min", "max", "label", "item", "operator", "value"),
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


PATHS = _paths(ARGONAUT)[1:]


def _replace(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(ARGONAUT))
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return document


def _import(document: Any, rules: RuleSpecs | None = None) -> None:
    try:
        imported = import_questionnaire(document, rules=rules)
    except InstrumentFileError as error:
        assert str(error)
        return
    assert imported.instrument.rules.items


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_a_real_questionnaire_with_anything_changed(path: tuple[Any, ...], value: Any) -> None:
    _import(_replace(path, value))


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "url": st.sampled_from(
                    [BASE + k for k in ("band", "cutoff", "risk", "reliable-change", "x")]
                )
            }
        ).flatmap(
            lambda ext: st.dictionaries(
                st.sampled_from(["extension", "valueDecimal", "valueInteger"]), values, max_size=2
            ).map(lambda more: {**more, **ext})
        ),
        max_size=4,
    )
)
def test_rule_extensions_holding_anything(extensions: list[dict[str, Any]]) -> None:
    document = copy.deepcopy(ARGONAUT)
    document["extension"] = extensions
    _import(document)


@FUZZ
@given(
    st.lists(st.text(max_size=15), max_size=3),
    st.one_of(st.none(), st.text(max_size=6)),
    st.one_of(st.none(), st.text(max_size=6)),
    st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["g1.q9>0", "g1.q1>=2", "x>1"])), max_size=2
    ),
)
def test_any_option_strings(
    bands: list[str], cutoff: str | None, change: str | None, risks: list[str]
) -> None:
    try:
        rules = RuleSpecs(
            bands=tuple(parse_band(b) for b in bands),
            cutoff=parse_number(cutoff, "--cutoff") if cutoff is not None else None,
            reliable_change=(
                parse_number(change, "--reliable-change", positive=True)
                if change is not None
                else None
            ),
            risk=tuple(parse_risk(r) for r in risks),
        )
    except RuleError as error:
        assert str(error)
        return
    _import(ARGONAUT, rules)
