"""Fuzzing the QuestionnaireResponse importer: whatever JSON it is given, `import_responses` answers
with a report (a clean import, or problems that each say where and what), and never raises."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.care.fhir_responses import import_responses
from alliance.care.models import Response
from tests import factories
from tests.care.test_fhir_responses import bundle, qr
from tests.faults.test_fuzz_cli import json_values
from tests.faults.test_fuzz_importers import mutations

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KEYS = [
    "resourceType",
    "id",
    "status",
    "authored",
    "questionnaire",
    "subject",
    "identifier",
    "system",
    "value",
    "reference",
    "item",
    "linkId",
    "answer",
    "valueCoding",
    "valueInteger",
    "valueDecimal",
    "valueString",
    "code",
    "entry",
    "resource",
    "fullUrl",
]
fhir_like = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(
            ["QuestionnaireResponse", "Bundle", "Patient", "completed", "9", "/44260-8", "LA6571-9"]
        ),
        st.text(max_size=8),
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=25,
)
# What a mutation puts in place of one value of a valid response.
_VALUES = st.one_of(fhir_like, json_values)


@pytest.fixture
def clinic_day(db: None) -> Any:
    client = factories.ClientFactory.create(code="C-T0001")
    episode = factories.EpisodeFactory.create(client=client)
    return factories.AppointmentFactory.create(
        episode=episode, session_number=1, scheduled_at=timezone.now() - timedelta(days=2)
    )


VALID = qr("fuzz-1", [1, 0, 2, 3, 1, 0, 0, 1, 0], when=timezone.now() - timedelta(days=2))


def _check(payload: Any, client_code: str | None) -> None:
    before = Response.objects.count()
    report = import_responses(
        payload, source="fuzz.json", client_code=client_code, actor=None, dry_run=False
    )
    if report.ok:
        assert report.outcomes
    else:
        # Rejected whole: nothing stored, and every problem says where and what.
        assert Response.objects.count() == before
        for problem in report.problems:
            assert problem.message and isinstance(problem.index, int)
    Response.objects.all().delete()


@FUZZ
@given(payload=st.one_of(fhir_like, json_values), client=st.sampled_from([None, "C-T0001", "nope"]))
def test_any_json_gives_a_report(clinic_day: Any, payload: Any, client: str | None) -> None:
    _check(payload, client)


@FUZZ
@given(
    payload=st.one_of(mutations(VALID, _VALUES), mutations(bundle(VALID), _VALUES).map(lambda b: b))
)
def test_a_valid_response_with_anything_changed_gives_a_report(
    clinic_day: Any, payload: Any
) -> None:
    _check(payload, None)


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_any_file_gives_a_clear_error_or_a_payload(body: bytes) -> None:
    import tempfile
    from pathlib import Path

    from django.core.management import CommandError

    from alliance.care.management.commands.responses import read_payload

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.json"
        path.write_bytes(body)
        try:
            payload = read_payload(path)
        except CommandError as error:
            assert error.returncode == 2 and str(path) in str(error)
            return
        assert isinstance(payload, dict | list)
