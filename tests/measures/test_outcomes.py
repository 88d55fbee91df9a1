"""`alliance outcomes` on a generated CSV, checked against an independent pandas implementation."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance.measures.cli import main

N_EPISODES = 3000


def generate_csv(path: Path, seed: int = 20240601) -> None:
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str, str, str]] = []
    for e in range(N_EPISODES):
        episode = f"ep{e:05d}"
        sessions = int(rng.integers(1, 9))
        phq = float(rng.integers(0, 28))
        gad = float(rng.integers(0, 22))
        day = pd.Timestamp("2023-01-02") + pd.Timedelta(days=int(rng.integers(0, 300)))
        for s in range(sessions):
            when = (day + pd.Timedelta(days=7 * s)).date().isoformat()
            attended = "0" if s == 0 else str(int(rng.random() < 0.9))
            if rng.random() > 0.1:
                rows.append(
                    (episode, when, "phq9" if rng.random() < 0.8 else "PHQ-9", f"{phq:g}", attended)
                )
            if rng.random() > 0.1:
                rows.append((episode, when, "gad7", f"{gad:g}", attended))
            if rng.random() < 0.03:  # a corrected re-entry on the same date
                rows.append((episode, when, "gad7", f"{min(21, gad + 1):g}", attended))
            phq = float(np.clip(phq + rng.integers(-5, 4), 0, 27))
            gad = float(np.clip(gad + rng.integers(-4, 3), 0, 21))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["episode", "date", "instrument", "total", "attended"])
        writer.writerows(rows)


def reference_outcomes(path: Path) -> pd.DataFrame:
    """The rules written again, plainly and separately from alliance.measures.nhs."""
    df = pd.read_csv(path, dtype={"episode": str, "date": str, "instrument": str})
    df["instrument"] = df["instrument"].str.lower().str.replace("-", "", regex=False)
    attended = df[df["attended"] == 1].groupby("episode")["date"].nunique()
    latest = df.drop_duplicates(["episode", "date", "instrument"], keep="last")
    wide = latest.pivot(index=["episode", "date"], columns="instrument", values="total")
    paired = wide.dropna(subset=["phq9", "gad7"]).reset_index().sort_values(["episode", "date"])
    first = paired.groupby("episode").first()
    last = paired.groupby("episode").last()
    count = paired.groupby("episode").size()

    out = pd.DataFrame(index=pd.Index(df["episode"].unique(), name="episode"))
    out["attended"] = attended.reindex(out.index).fillna(0).astype(int)
    out["paired_dates"] = count.reindex(out.index).fillna(0).astype(int)
    out["finished"] = out["attended"] >= 2
    out["eligible"] = out["finished"] & (out["paired_dates"] >= 2)
    p0, g0 = first["phq9"].reindex(out.index), first["gad7"].reindex(out.index)
    p1, g1 = last["phq9"].reindex(out.index), last["gad7"].reindex(out.index)
    case0 = (p0 >= 10) | (g0 >= 8)
    case1 = (p1 >= 10) | (g1 >= 8)
    improved = ((p1 - p0) <= -6) | ((g1 - g0) <= -4)
    worse = ((p1 - p0) >= 6) | ((g1 - g0) >= 4)
    elig = out["eligible"]
    out["recovery"] = np.where(elig & case0, ~case1, np.nan)
    out["reliable_improvement"] = np.where(elig, improved & ~worse, np.nan)
    out["reliable_deterioration"] = np.where(elig, worse, np.nan)
    out["reliable_recovery"] = np.where(elig & case0, ~case1 & improved & ~worse, np.nan)
    return out


def test_outcomes_agree_with_an_independent_implementation(tmp_path: Path) -> None:
    source = tmp_path / "scores.csv"
    generate_csv(source)
    target, summary_path = tmp_path / "outcomes.csv", tmp_path / "summary.json"
    assert main(["outcomes", str(source), "-o", str(target), "--summary", str(summary_path)]) == 0

    got = pd.read_csv(target, dtype={"episode": str}).set_index("episode")
    want = reference_outcomes(source)
    assert list(got.index) == list(want.index)
    assert (got["attended"] == want["attended"]).all()
    assert (got["paired_dates"] == want["paired_dates"]).all()
    assert (got["eligible"] == want["eligible"].astype(int)).all()
    for column in (
        "recovery",
        "reliable_improvement",
        "reliable_deterioration",
        "reliable_recovery",
    ):
        left = got[column].astype(float)
        right = pd.Series(want[column], index=want.index).astype(float)
        pd.testing.assert_series_equal(left, right, check_names=False)

    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    eligible = want[want["eligible"]]
    cases = eligible[eligible["recovery"].notna()]
    assert summary["episodes"] == len(want) > N_EPISODES * 0.99
    assert summary["eligible"] == len(eligible) > 500
    assert summary["recovery_rate"] == round(cases["recovery"].mean(), 4)
    assert summary["reliable_improvement_rate"] == round(eligible["reliable_improvement"].mean(), 4)
    assert summary["recovery_target"] == 0.5


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


HEADER = "episode,date,instrument,total,attended\n"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("a,2024-01-01,phq9,30,1\n", ":2: phq9 total 30 is outside 0-27"),
        (
            "a,2024-01-01,phq9,10,1\na,2024-13-01,gad7,3,1\n",
            ":3: date '2024-13-01' is not an ISO date",
        ),
        ("a,2024-01-01,phq9,ten,1\n", ":2: total 'ten' is not a number"),
        ("a,2024-01-01,phq9,10,3\n", ":2: attended '3' must be 1 or 0"),
        ("a,2024-01-01,phq9,10\n", ":2: expected 5 fields like the header, found 4"),
        ("a,2024-01-01,core10,10,1\n", ":2: instrument 'core10' is not phq9 or gad7"),
        (",2024-01-01,phq9,10,1\n", ":2: episode is empty"),
    ],
)
def test_malformed_rows_name_the_line(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    code, out, err = run(["outcomes", str(path)])
    assert code == 2 and out == ""
    assert f"{path}{fragment}" in err, err


def test_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("episode,when,instrument,total\n", encoding="utf-8")
    code, _, err = run(["outcomes", str(path)])
    assert code == 2 and ":1: header lacks column(s) date, attended" in err


def test_summary_goes_to_stderr_by_default(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        HEADER
        + "a,2024-01-01,phq9,16,0\na,2024-01-01,gad7,12,0\na,2024-01-08,checkin,7,1\n"
        + "a,2024-02-01,phq9,5,1\na,2024-02-01,gad7,4,1\na,2024-02-08,phq9,4,1\n",
        encoding="utf-8",
    )
    code, out, err = run(["outcomes", str(path), "--ignore-other-instruments"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["episode"] == "a" and rows[0]["recovery"] == "1" and rows[0]["attended"] == "2"
    summary = json.loads(err)
    assert summary["rows_skipped_other_instruments"] == 1 and summary["recovery_rate"] == 1.0


def test_a_missed_appointment_without_a_score_is_accepted_and_counts_nothing(
    tmp_path: Path,
) -> None:
    """Issue 11 point 6: `attended` 0 with an empty total used to be refused as "total '' is not a
    number"; a missed session with no score is ordinary data."""
    scores = (
        "a,2024-01-01,phq9,16,0\na,2024-01-01,gad7,12,0\n"
        "a,2024-01-08,phq9,9,1\na,2024-01-08,gad7,7,1\n"
        "a,2024-02-01,phq9,5,1\na,2024-02-01,gad7,4,1\n"
    )
    missed = "a,2024-01-15,phq9,,0\na,2024-01-22,,,0\nb,2024-01-03,gad7,,0\n"
    without, with_missed = tmp_path / "without.csv", tmp_path / "with.csv"
    without.write_text(HEADER + scores, encoding="utf-8")
    with_missed.write_text(HEADER + scores + missed, encoding="utf-8")
    code_a, out_a, _ = run(["outcomes", str(without)])
    code_b, out_b, err_b = run(["outcomes", str(with_missed)])
    assert code_a == code_b == 0, err_b
    rows_a = list(csv.DictReader(io.StringIO(out_a)))
    rows_b = list(csv.DictReader(io.StringIO(out_b)))
    assert rows_b[0] == rows_a[0]  # episode a: the missed rows change nothing
    assert rows_b[0]["attended"] == "2" and rows_b[0]["recovery"] == "1"
    # Episode b had only a missed appointment: listed, attended 0, no flags.
    assert rows_b[1]["episode"] == "b" and rows_b[1]["attended"] == "0"
    assert rows_b[1]["finished_course"] == "0" and rows_b[1]["recovery"] == ""


def test_an_attended_appointment_without_a_score_counts_as_attended(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        HEADER
        + "a,2024-01-01,phq9,16,1\na,2024-01-01,gad7,12,1\n"
        + "a,2024-01-08,phq9,,1\n"
        + "a,2024-02-01,phq9,5,0\na,2024-02-01,gad7,4,0\n",
        encoding="utf-8",
    )
    code, out, _ = run(["outcomes", str(path)])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["attended"] == "2" and rows[0]["finished_course"] == "1"
    assert rows[0]["paired_dates"] == "2"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("a,2024-01-01,phq9, ,0\na,2024-01-02,phq9,n/a,0\n", ":3: total 'n/a' is not a number"),
        ("a,2024-01-01,phq9,nan,0\n", ":2: phq9 total nan is outside 0-27"),
        ("a,2024-01-01,core10,,0\n", ":2: instrument 'core10' is not phq9 or gad7"),
        ("a,2024-01-01,,5,1\n", ":2: instrument '' is not phq9 or gad7"),
        ("a,2024-01-01,phq9,,2\n", ":2: attended '2' must be 1 or 0"),
    ],
)
def test_rows_without_a_score_are_still_checked(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    code, _, err = run(["outcomes", str(path)])
    assert code == 2 and f"{path}{fragment}" in err, err
