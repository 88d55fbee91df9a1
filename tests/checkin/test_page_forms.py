"""The language switch and the signed start time are read through forms that accept nothing else."""

from __future__ import annotations

from django.http import QueryDict

from alliance.checkin.page_forms import StartedForm, asked_language, new_started_value


def test_only_a_known_language_is_taken() -> None:
    assert asked_language(QueryDict("lang=es")) == "es"
    assert asked_language(QueryDict("lang=fr")) is None
    assert asked_language(QueryDict("lang=%00")) is None
    assert asked_language(QueryDict("")) is None


def test_a_signed_start_time_round_trips_and_a_tampered_one_counts_as_absent() -> None:
    value = new_started_value()
    assert StartedForm({"started": value}).started_at() is not None
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert StartedForm({"started": tampered}).started_at() is None
    assert StartedForm({"started": "x" * 5000}).started_at() is None
    assert StartedForm({}).value() == ""
