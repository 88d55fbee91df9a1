"""`alliance report --responses FILE.csv` without a database: bad input is one line naming file, line
and column with exit status 2 (never a traceback), and the route never imports Django."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.cli import main

REPO = Path(__file__).resolve().parents[2]
HEADER = "therapist,client,session,outcome,checkin\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "stdout", out), mock.patch.object(sys, "stderr", err):
        code = main(["report", *argv])
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, body: str, name: str = "responses.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_a_malformed_cell_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T-1,C-1,1,12,7\nT-1,C-1,2,twelve,7\n")
    code, out, err = run("--responses", str(path))
    assert code == 2 and out == ""
    assert err == f"error: {path}:3: column 'outcome': 'twelve' is not a number\n"


def test_an_out_of_range_score_and_a_missing_column_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T-1,C-1,1,28,7\n")
    code, _, err = run("--responses", str(path))
    assert code == 2
    assert f"{path}:2: column 'outcome': phq9 total 28 is outside 0-27" in err
    path = write(tmp_path, "therapist,client,session,outcome\nT-1,C-1,1,3\n", "short.csv")
    code, _, err = run("--responses", str(path))
    assert code == 2 and f"{path}:1: header lacks column(s) checkin" in err


def test_a_missing_file_and_refused_combinations_say_why(tmp_path: Path) -> None:
    code, _, err = run("--responses", str(tmp_path / "absent.csv"))
    assert code == 2 and f"cannot read {tmp_path / 'absent.csv'}: No such file" in err
    path = write(tmp_path, HEADER + "T-1,C-1,1,12,7\n")
    code, _, err = run("--responses", str(path), "--from", "2025-01-01")
    assert code == 2 and "--from cannot be used with --responses" in err
    code, _, err = run("--responses", str(path), "--from", "2025-99-01")
    assert code == 2 and "argument --from: '2025-99-01' is not a date like 2025-01-31" in err
    code, _, err = run("--responses", str(path), "--therapist", "T-2")
    assert code == 2 and "no row has therapist 'T-2'" in err
    code, _, err = run("--responses", str(path), "--output", str(tmp_path / "no" / "out.json"))
    assert code == 2 and "cannot write" in err


def test_a_tiny_file_gives_the_models_own_not_enough_data(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T-1,C-1,1,12,7\nT-1,C-1,2,,\n")
    code, out, err = run("--responses", str(path))
    assert code == 0, err
    report = json.loads(out)
    assert report["model"]["fixed_effects"] == {}
    assert report["model"]["n_observations"] == 1 and report["model"]["n_dropped"] == 1
    assert report["psychometrics"]["status"] == "not_available"
    assert report["outcomes"]["status"] == "not_available"
    assert report["therapists"]["unstable"] is True


def test_output_goes_to_a_private_file(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T-1,C-1,1,12,7\n")
    target = tmp_path / "report.json"
    code, out, _ = run("--responses", str(path), "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["source"] == "responses_csv"
    assert target.stat().st_mode & 0o077 == 0


def test_the_installed_command_never_imports_django_for_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T-1,C-1,1,12,7\nT-1,C-1,2,10,8\n")
    script = (
        "import sys; from alliance.cli import main; "
        f"code = main(['report', '--responses', {str(path)!r}]); "
        "assert 'django' not in sys.modules, 'django was imported'; sys.exit(code)"
    )
    # No settings and an unusable data directory: a database or secret would fail loudly.
    env = {**os.environ, "ALLIANCE_DATA_DIR": "/nonexistent/alliance"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["source"] == "responses_csv"
    bad = write(tmp_path, HEADER + "T-1,C-1,x,12,7\n", "bad.csv")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "alliance", "report", "--responses", str(bad)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"error: {bad}:2: column 'session': 'x' is not a whole session number\n"


cells = st.one_of(
    st.sampled_from(["T-1", "T-2", "C-1", "C-2", "1", "2", "0", "-1", "27", "28", "10", "7.5", ""]),
    st.sampled_from(["nan", "inf", "1e309", "x", '"', "\x00", "é"]),
    st.text(max_size=6),
)
bodies = st.one_of(
    st.lists(st.lists(cells, min_size=0, max_size=7), max_size=8).map(
        lambda rows: HEADER + "\n".join(",".join(row) for row in rows)
    ),
    st.text(max_size=120),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        bodies.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=120)
    )
)
def test_arbitrary_files_give_json_or_one_line_and_status_2(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "responses.csv"
        path.write_bytes(body)
        code, out, err = run("--responses", str(path))
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 0:
        json.loads(out, parse_constant=lambda name: (_ for _ in ()).throw(AssertionError(name)))
    else:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ")
