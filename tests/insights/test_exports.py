"""The per-response CSV: exactly the model's table, read back by responses_csv to the same floats,
with relative days, attendance and the check-in's dimensions of the response that counts."""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from alliance.analytics.frames import session_frame
from alliance.analytics.model import relationship_model
from alliance.analytics.records import AppointmentRecord, ClinicData, EpisodeRecord, ResponseRecord
from alliance.analytics.responses_csv import read_responses
from alliance.analytics.simulate import simulate, to_clinic_data
from alliance.insights.exports import COLUMNS, cell, write_responses_csv

START = date(2025, 1, 6)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 1, 6, hour, tzinfo=UTC) + timedelta(days=day)


def items(total: float) -> dict[str, float]:
    return dict.fromkeys(("bond", "goals", "tasks", "overall"), total)


def small() -> ClinicData:
    episodes = (
        EpisodeRecord("E-a", "C-1", "T-1", START, START, START + timedelta(days=30), "planned"),
        # The same client's second episode, 60 days after the first began.
        EpisodeRecord("E-b", "C-1", "T-2", START, START + timedelta(days=60)),
    )
    appointments = (
        AppointmentRecord("E-a", 1, at(0), "attended"),
        AppointmentRecord("E-a", 2, at(7), "no_show"),
        AppointmentRecord("E-b", 1, at(60), "scheduled"),
    )
    responses = (
        ResponseRecord("E-a", "phq9", at(0, 8), 14.0, 1),
        ResponseRecord("E-a", "checkin", at(0, 11), 6.0, 1, items=items(6.0)),
        # A correction an hour later: this one counts, with its own dimensions.
        ResponseRecord("E-a", "checkin", at(0, 12), 7.25, 1, items={**items(7.0), "overall": 8.0}),
        # Unscored (no total): it never counts, so neither do its dimensions.
        ResponseRecord("E-a", "checkin", at(0, 13), None, 1, items=items(1.0)),
        ResponseRecord("E-a", "checkin-therapist", at(0, 14), 9.0, 1, respondent="therapist"),
        ResponseRecord("E-a", "phq9", at(7, 8), 11.5, 2),
        # Linked to a session with no appointment record: dated by the response.
        ResponseRecord("E-a", "phq9", at(9, 8), 10.0, 3),
        ResponseRecord("E-b", "checkin", at(60, 11), 9.0, 1, items=items(9.0)),
        ResponseRecord("E-b", "phq9", at(61, 8), 5.0, None),  # no session: not a row
    )
    return ClinicData(episodes, appointments, responses)


def written(data: ClinicData, **options: object) -> str:
    out = io.StringIO()
    write_responses_csv(data, out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def test_rows_days_attendance_and_dimensions_by_hand() -> None:
    lines = written(small()).splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1:] == [
        "T-1,C-1,E-a,1,0,phq9,1,14,7.25,7,7,7,8",
        "T-1,C-1,E-a,2,7,phq9,0,11.5,,,,,",
        "T-1,C-1,E-a,3,9,phq9,,10,,,,,",
        "T-2,C-1,E-b,1,60,phq9,,,9,9,9,9,9",
    ]


def test_calendar_dates_only_when_asked() -> None:
    plain = written(small())
    assert "2025-" not in plain
    dated = written(small(), dates=True).splitlines()
    assert dated[0].endswith(",date") and dated[1].endswith(",2025-01-06")


def test_reading_the_file_back_gives_the_models_table(tmp_path: Path) -> None:
    data = to_clinic_data(
        simulate(episodes=120, therapists=6, seed=4, items=True, round_scores=True)
    )
    path = tmp_path / "responses.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        rows = write_responses_csv(data, fh)
    back = read_responses(path)
    table = session_frame(data)
    assert rows == len(table) == len(back)
    for column in ("therapist", "client", "episode"):
        assert back[column].astype(str).tolist() == table[column].astype(str).tolist()
    assert back["session"].tolist() == table["session"].tolist()
    for column in ("outcome", "checkin"):
        for mine, theirs in zip(back[column], table[column], strict=True):
            assert (math.isnan(mine) and math.isnan(theirs)) or mine == theirs  # bit for bit
    direct = relationship_model(table).as_dict()
    via_file = relationship_model(back).as_dict()
    for term, effect in direct["fixed_effects"].items():
        assert via_file["fixed_effects"][term]["estimate"] == pytest.approx(
            effect["estimate"], abs=1e-9
        )
        assert via_file["fixed_effects"][term]["se"] == pytest.approx(effect["se"], abs=1e-9)
    # The dimensions' mean is the check-in total wherever both are there (the instrument's scoring).
    complete = back.dropna(subset=["checkin", "bond"])
    assert len(complete) > 0
    means = complete[["bond", "goals", "tasks", "overall"]].mean(axis=1)
    assert means.tolist() == pytest.approx(complete["checkin"].tolist())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (math.nan, ""),
        (12.0, "12"),
        (7.25, "7.25"),
        (1 / 3, "0.3333333333333333"),
        (0, "0"),
    ],
)
def test_numbers_are_written_exactly(value: float | None, text: str) -> None:
    assert cell(value) == text
    if text:
        assert float(text) == value
