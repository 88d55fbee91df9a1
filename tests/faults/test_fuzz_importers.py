"""Property-based fuzzing of the importers (issue 10, point 7): every function that reads a file or a
document from outside raises only its documented error, whatever it is given.

- FHIR Questionnaires and instrument files: `import_questionnaire`, `parse_instrument`, `read_json`
  -> `InstrumentFileError`;
- the outcomes CSV: `read_rows` -> `CsvInputError`;
- the administrator's alert settings (JSON per setting): `AlertSettings.from_dict` -> its documented
  `ValueError` with per-field messages.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.alerts.settings import AlertSettings
from alliance.measures.errors import InstrumentFileError, MeasuresError
from alliance.measures.fhir import import_questionnaire
from alliance.measures.loader import parse_instrument, read_json
from alliance.measures.outcomes import CsvInputError, read_rows
from tests.faults.test_fuzz_cli import csv_text, json_values

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHIPPED = Path(__file__).resolve().parents[2] / "alliance" / "measures" / "instruments"
PHQ9 = json.loads((SHIPPED / "phq9.json").read_text())


def mutations(
    document: dict[str, Any], values: st.SearchStrategy[Any] = json_values
) -> st.SearchStrategy[dict[str, Any]]:
    """A real document (an instrument file, a FHIR resource) with one of its values replaced by one
    of `values` anywhere in the tree: deep inputs that random JSON would rarely reach (a scoring
    block with a wrong type, an item without a linkId). Also used by tests/care's FHIR fuzzing."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(document, ())

    def replace(choice: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
        path, value = choice
        copy = json.loads(json.dumps(document))
        if not path:
            return copy
        node = copy
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        return copy

    return st.tuples(st.sampled_from(paths[1:]), values).map(replace)


@FUZZ
@given(st.one_of(json_values, mutations(PHQ9)), st.booleans())
def test_fhir_import_raises_only_instrument_file_errors(document: Any, better: bool) -> None:
    try:
        imported = import_questionnaire(document, higher_is_better=better)
    except InstrumentFileError as error:
        assert str(error)
        return
    assert imported.instrument.id


@FUZZ
@given(st.one_of(json_values, mutations(PHQ9)))
def test_instrument_files_raise_only_instrument_file_errors(document: Any) -> None:
    try:
        parse_instrument(document, source="fuzz.json")
    except InstrumentFileError as error:
        assert "fuzz.json" in str(error)


@FUZZ
@given(st.binary(max_size=300))
def test_reading_any_bytes_as_json_raises_only_instrument_file_errors(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "q.json"
        path.write_bytes(body)
        try:
            read_json(path)
        except InstrumentFileError as error:
            assert str(path) in str(error)


@FUZZ
@given(csv_text, st.booleans())
def test_outcome_csv_raises_only_csv_input_errors(text: str, ignore_others: bool) -> None:
    try:
        read_rows(io.StringIO(text), "fuzz.csv", ignore_other_instruments=ignore_others)
    except CsvInputError as error:
        assert isinstance(error, MeasuresError)
        assert "fuzz.csv" in str(error)


SETTING_NAMES = [field.name for field in dataclasses.fields(AlertSettings)]


@FUZZ
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(SETTING_NAMES), st.text(max_size=8)), json_values, max_size=4
    )
)
def test_alert_settings_from_any_json_raise_only_value_errors(overrides: dict[str, Any]) -> None:
    try:
        AlertSettings.from_dict(overrides)
    except ValueError as error:
        assert str(error)
