"""Properties of the pure mapping (alliance.measures.fhir_export) over every PHQ-9 answer pattern,
with worked examples: what a receiving EHR is told must follow the instrument's own rules."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.measures import get_instrument
from alliance.measures.fhir_export import (
    Addressing,
    Entry,
    StoredResponse,
    export_bundle,
    patient_resource,
    unresolved_references,
    validate_resource,
)

PHQ9 = get_instrument("phq9")
BASE = "https://clinic.example/fhir"
WHERE = Addressing(base=BASE)
PATIENT = Entry(
    f"{BASE}/Patient/C-7KQ3F", patient_resource("C-7KQ3F", "C-7KQ3F", f"{BASE}/sid/client-code")
)


def _stored(answers: dict[str, int], rid: str = "7") -> StoredResponse:
    return StoredResponse(
        "phq9",
        PHQ9.version,
        answers,
        PHQ9.score(answers).as_dict(),
        datetime(2025, 5, 6, 10, 0, tzinfo=UTC),
        "Patient/C-7KQ3F",
        resource_id=rid,
    )


def _bundle(answers: dict[str, int]) -> dict:
    return export_bundle(
        [_stored(answers)], addressing=WHERE, parties=[PATIENT], questionnaires=True
    )


def _of(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


answers_strategy = st.lists(st.integers(0, 3), min_size=9, max_size=9).map(
    lambda values: {str(n): v for n, v in enumerate(values, 1)}
)


@settings(max_examples=40, deadline=None)
@given(answers_strategy)
def test_every_answer_pattern_maps_to_a_standalone_valid_bundle(answers: dict[str, int]) -> None:
    bundle = _bundle(answers)  # export_bundle validates the whole Bundle itself
    for entry in bundle["entry"]:
        validate_resource(entry["resource"])
    assert unresolved_references(bundle) == []
    total = sum(answers.values())
    (observation,) = [o for o in _of(bundle, "Observation") if o["id"] == "7-total"]
    assert observation["valueQuantity"]["value"] == total
    band, cutoff = observation["interpretation"]
    expected_band = next(b for b in PHQ9.rules.bands if b.min <= total <= b.max)
    assert band["coding"][0]["code"] == f"phq9-{expected_band.key}"
    assert cutoff["coding"][0]["code"] == ("H" if total >= 10 else "N")
    # The risk answer reaches the EHR exactly when item 9 is above 0 (the instrument's risk rule).
    flags = _of(bundle, "Flag")
    assert (len(flags) == 1) == (answers["9"] > 0)
    risk = [o for o in _of(bundle, "Observation") if o["id"] == "7-risk-9"]
    assert len(risk) == len(flags)


def test_worked_example_item_9_answered_several_days() -> None:
    answers = {str(n): 0 for n in range(1, 10)} | {"9": 1}
    bundle = _bundle(answers)
    (risk,) = [o for o in _of(bundle, "Observation") if o["id"] == "7-risk-9"]
    assert risk["valueCodeableConcept"]["coding"][0]["code"] == "LA6569-3"  # Several days
    assert risk["interpretation"][0]["coding"][0]["code"] == "AA"
    (total,) = [o for o in _of(bundle, "Observation") if o["id"] == "7-total"]
    # A total of 1: minimal, below the cut-off; the risk answer stands on its own regardless.
    assert total["interpretation"][0]["coding"][0]["code"] == "phq9-minimal"
    assert total["interpretation"][1]["coding"][0]["code"] == "N"
    (flag,) = _of(bundle, "Flag")
    assert flag["period"]["start"] == "2025-05-06T10:00:00+00:00"


def _cutoff_code(answers: dict[str, int]) -> str:
    total = next(o for o in _of(_bundle(answers), "Observation") if o["id"] == "7-total")
    return str(total["interpretation"][1]["coding"][0]["code"])


def test_worked_example_cutoff_boundary() -> None:
    """PHQ-9's clinical range is 10 or more (Kroenke et al. 2001): 9 is outside, 10 inside."""
    nine = {str(n): v for n, v in enumerate([3, 3, 3, 0, 0, 0, 0, 0, 0], 1)}
    assert _cutoff_code(nine) == "N"
    assert _cutoff_code(nine | {"4": 1}) == "H"


def test_an_unscorable_response_still_carries_its_risk_answer() -> None:
    """Scoring evaluates risk before anything else; the export must not lose it either."""
    answers = {"1": 1, "9": 2}  # seven items missing: no total
    bundle = _bundle(answers)
    assert not [o for o in _of(bundle, "Observation") if o["id"] == "7-total"]
    assert len(_of(bundle, "Flag")) == 1
