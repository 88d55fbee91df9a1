"""The per-response CSV reader: what it accepts, the frame it returns, and the errors it names."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.analytics.responses_csv import read_responses, read_responses_stream
from alliance.measures.errors import MeasuresError
from alliance.measures.outcomes import CsvInputError

HEADER = "therapist,client,session,outcome,checkin\n"


def read(text: str, source: str = "r.csv") -> pd.DataFrame:
    return read_responses_stream(io.StringIO(text, newline=""), source)


def test_a_full_file_becomes_a_typed_frame(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    path.write_text(
        "\ufeffClient,Therapist,Session,Outcome,Checkin,episode,date,instrument,attended,"
        "bond,goals,tasks,overall,notes\n"
        "c1,t1,1,16,7.5,e1,2024-01-08,PHQ-9,1,8,7,7,8,anything\n"
        "c1,t1,2,,,e1,2024-01-15,,0,,,,,missed\n"
        "c1,t1,3,12,8.25,e1,2024-01-22T10:00:00+00:00,phq9,yes,9,8,8,8,\n"
        "c2,t2,1,9,,e2,,,,,,,,\n",
        encoding="utf-8",
    )
    frame = read_responses(path)
    assert list(frame.columns) == [
        "therapist", "client", "session", "outcome", "checkin", "episode", "date",
        "instrument", "attended", "bond", "goals", "tasks", "overall",
    ]  # fmt: skip
    assert frame["therapist"].tolist() == ["t1", "t1", "t1", "t2"]
    assert frame["client"].tolist() == ["c1", "c1", "c1", "c2"]
    assert frame["session"].dtype == np.int64 and frame["session"].tolist() == [1, 2, 3, 1]
    assert frame["outcome"].tolist()[0] == 16.0 and math.isnan(frame["outcome"][1])
    assert frame["checkin"][2] == 8.25 and math.isnan(frame["checkin"][3])
    assert frame["attended"].tolist() == [True, False, True, pd.NA]
    assert frame["date"][0] == pd.Timestamp("2024-01-08") and pd.isna(frame["date"][3])
    assert frame["instrument"].tolist() == ["phq9", "", "phq9", ""]
    assert frame["bond"][2] == 9.0 and math.isnan(frame["bond"][1])
    assert "notes" not in frame.columns
    assert frame.attrs["outcome_instrument"] == "phq9"


def test_only_the_required_columns() -> None:
    frame = read(HEADER + "t1,c1,1,16,7\nt1,c1,2,,\n")
    assert list(frame.columns) == ["therapist", "client", "session", "outcome", "checkin"]
    assert len(frame) == 2


def test_a_missed_session_with_no_score_is_ordinary_data() -> None:
    frame = read(HEADER.strip() + ",attended\nt1,c1,1,15,7,1\nt1,c1,2,,,0\nt1,c1,3,12,8,1\n")
    assert len(frame) == 3
    assert frame["outcome"].isna().tolist() == [False, True, False]


def test_a_header_only_file_is_an_empty_frame_with_the_columns() -> None:
    frame = read(HEADER)
    assert frame.empty and list(frame.columns)[:5] == [
        "therapist", "client", "session", "outcome", "checkin",
    ]  # fmt: skip


def test_another_measure_in_the_outcome_column_uses_its_own_range() -> None:
    header = "therapist,client,session,outcome,checkin,instrument\n"
    frame = read(header + "t1,c1,1,21,,GAD-7\nt1,c1,2,3,,gad7\n")
    assert frame.attrs["outcome_instrument"] == "gad7" and frame["outcome"].max() == 21
    with pytest.raises(CsvInputError, match=re.escape("r.csv:2: column 'outcome': gad7 total 22")):
        read(header + "t1,c1,1,22,,gad7\n")


def test_the_same_session_twice_in_different_episodes_is_fine() -> None:
    header = "therapist,client,session,outcome,checkin,episode\n"
    frame = read(header + "t1,c1,1,15,,e1\nt1,c1,1,14,,e2\n")
    assert frame["episode"].tolist() == ["e1", "e2"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("t1,c1,1,ten,7\n", "r.csv:2: column 'outcome': 'ten' is not a number"),
        ("t1,c1,1,28,7\n", "r.csv:2: column 'outcome': phq9 total 28 is outside 0-27"),
        ("t1,c1,1,-1,7\n", "r.csv:2: column 'outcome': phq9 total -1 is outside 0-27"),
        ("t1,c1,1,nan,7\n", "r.csv:2: column 'outcome': phq9 total nan is outside 0-27"),
        ("t1,c1,1,inf,7\n", "r.csv:2: column 'outcome'"),
        ("t1,c1,1,10,11\n", "r.csv:2: column 'checkin': check-in total 11 is outside 0-10"),
        ("t1,c1,1,10,good\n", "r.csv:2: column 'checkin': 'good' is not a number"),
        ("t1,c1,0,10,7\n", "r.csv:2: column 'session': session 0 is below 1"),
        ("t1,c1,1.5,10,7\n", "r.csv:2: column 'session': '1.5' is not a whole session number"),
        ("t1,c1,,10,7\n", "r.csv:2: column 'session': '' is not a whole session number"),
        (",c1,1,10,7\n", "r.csv:2: column 'therapist': is empty"),
        ("t1,,1,10,7\n", "r.csv:2: column 'client': is empty"),
        ("t1,c1,1,10\n", "r.csv:2: expected 5 fields like the header, found 4"),
        (
            "t1,c1,1,10,7\nt1,c1,2,9,7\nt1,c1,1,8,7\n",
            "r.csv:4: column 'session': session 1 of client 'c1' already appears on line 2",
        ),
        ("t1,c1,1,10,7\n\n\nt1,c1,2,x,7\n", "r.csv:5: column 'outcome'"),  # blank lines count
    ],
)
def test_malformed_rows_name_file_line_and_column(body: str, fragment: str) -> None:
    with pytest.raises(CsvInputError) as caught:
        read(HEADER + body)
    assert fragment in str(caught.value), str(caught.value)
    assert isinstance(caught.value, MeasuresError)


@pytest.mark.parametrize(
    ("header", "row", "fragment"),
    [
        ("attended", "2", "r.csv:2: column 'attended': '2' must be 1 or 0"),
        ("date", "2024-02-30", "r.csv:2: column 'date': '2024-02-30' is not an ISO date"),
        ("bond", "10.5", "r.csv:2: column 'bond': bond 10.5 is outside 0-10"),
        ("overall", "x", "r.csv:2: column 'overall': 'x' is not a number"),
        ("instrument", "core99", "r.csv:2: column 'instrument': 'core99' is not a registered"),
    ],
)
def test_malformed_optional_columns(header: str, row: str, fragment: str) -> None:
    with pytest.raises(CsvInputError) as caught:
        read(HEADER.strip() + f",{header}\nt1,c1,1,10,7,{row}\n")
    assert fragment in str(caught.value), str(caught.value)


def test_mixing_measures_in_the_outcome_column_is_refused() -> None:
    header = "therapist,client,session,outcome,checkin,instrument\n"
    with pytest.raises(CsvInputError) as caught:
        read(header + "t1,c1,1,15,,phq9\nt1,c1,2,,,gad7\nt1,c1,3,12,,gad7\n")
    message = str(caught.value)
    assert "r.csv:4: column 'instrument'" in message and "phq9 on line 2" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "r.csv:1: the file is empty"),
        ("therapist,client,session\n", "r.csv:1: header lacks column(s) outcome, checkin"),
        (
            "therapist,client,session,outcome,checkin,outcome\n",
            "r.csv:1: column(s) outcome appear more than once",
        ),
    ],
)
def test_bad_headers(text: str, fragment: str) -> None:
    with pytest.raises(CsvInputError) as caught:
        read(text)
    assert fragment in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "t1,c1,1,10,7\nt1,Jos\xe9,2,9,7\n").encode("latin-1"))
    with pytest.raises(CsvInputError, match=r"latin1.csv:3: not UTF-8"):
        read_responses(path)


# --- properties ---------------------------------------------------------------------------------

ids = st.text("abcdefghij0123456789-", min_size=1, max_size=6)
row = st.tuples(
    ids,
    ids,
    st.integers(1, 40),
    st.one_of(st.none(), st.integers(0, 27)),
    st.one_of(st.none(), st.integers(0, 40).map(lambda v: v / 4)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(row, max_size=30, unique_by=lambda r: (r[1], r[2])))
def test_valid_rows_read_back_exactly(rows) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["therapist", "client", "session", "outcome", "checkin"])
    for therapist, client, session, outcome, checkin in rows:
        writer.writerow(
            [therapist, client, session, "" if outcome is None else outcome, checkin or ""]
        )
    frame = read(out.getvalue())
    assert frame["therapist"].tolist() == [r[0] for r in rows]
    assert frame["session"].tolist() == [r[2] for r in rows]
    assert [None if math.isnan(v) else v for v in frame["outcome"]] == [r[3] for r in rows]
    assert [None if math.isnan(v) else v for v in frame["checkin"]] == [r[4] or None for r in rows]


cells = st.one_of(
    st.sampled_from(["", "1", "0", "27", "28", "-3", "x", "nan", "2024-01-01", "t1", '"', ","]),
    st.text(max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, min_size=0, max_size=7), max_size=6))
def test_any_input_gives_a_frame_or_a_csv_input_error(rows) -> None:
    text = HEADER + "\n".join(",".join(r) for r in rows)
    try:
        frame = read(text)
    except CsvInputError as error:
        assert str(error).startswith("r.csv:")
        return
    assert frame["outcome"].dropna().between(0, 27).all()
    assert frame["checkin"].dropna().between(0, 10).all()
    assert (frame["session"] >= 1).all()
