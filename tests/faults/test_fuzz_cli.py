"""Property-based fuzzing of the measures command line (issue 10, point 7).

`alliance score|change|outcomes|instruments` with arbitrary arguments and files: the exit code is 0
(and stdout strict JSON or CSV) or 2 with a one-line message on stderr; never a traceback. Run
in-process through `alliance.cli.main` (the same entry point as the installed command) for speed,
plus a few real subprocesses to show the command itself behaves the same.
"""

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
from alliance.measures.registry import all_instruments, clear_cache

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDS = [instrument.id for instrument in all_instruments()]
REPO = Path(__file__).resolve().parents[2]

# Real argv cannot hold a NUL byte; everything else is fair.
arg_text = st.text(st.characters(blacklist_characters="\x00"), max_size=20)
numbers_as_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["nan", "-inf", "1e309", "-0", "0x10", "1_000", "", " ", "--", "-1"]),
    arg_text,
)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "stdout", out), mock.patch.object(sys, "stderr", err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _assert_contract(argv: list[str], code: int, out: str, err: str) -> None:
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, (argv, "exit 2 without a message")
        # One message; `score` adds one line per invalid item, each self-contained.
        if argv[:1] != ["score"]:
            assert len(lines) == 1, (argv, err)


@FUZZ
@given(
    instrument=st.one_of(st.sampled_from(IDS), arg_text),
    answers=st.lists(numbers_as_text, max_size=14),
    lang=st.sampled_from(["en", "es", "xx", ""]),
)
def test_score_with_arbitrary_arguments(instrument: str, answers: list[str], lang: str) -> None:
    argv = ["score", instrument, *answers, "--lang", lang]
    code, out, err = _run(argv)
    _assert_contract(argv, code, out, err)
    if code == 0:
        result = _strict_json(out)
        assert isinstance(result, dict)
        if result["total"] is not None:
            low, high = result["total_range"]
            assert low <= result["total"] <= high


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["--before", "--after", "--sd", "--reliability", "--instrument", "--cutoffs"]
            ),
            numbers_as_text,
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_change_with_arbitrary_arguments(options: list[tuple[str, str]], better: bool) -> None:
    argv = ["change"]
    for name, value in options:
        argv += [name, value] if name != "--cutoffs" else [name, value, value, value, value]
    if better:
        argv.append("--higher-is-better")
    code, out, err = _run(argv)
    _assert_contract(argv, code, out, err)
    if code == 0:
        _strict_json(out)


csv_cells = st.one_of(
    st.sampled_from(
        ["phq9", "gad7", "PHQ-9", "other", "1", "0", "yes", "2024-01-31", "31/01/2024"]
    ),
    numbers_as_text,
)
csv_text = st.one_of(
    st.lists(st.lists(csv_cells, max_size=6), max_size=6).map(
        lambda rows: (
            "episode,date,instrument,total,attended\n" + "\n".join(",".join(row) for row in rows)
        )
    ),
    st.text(max_size=200),
)


@FUZZ
@given(
    body=st.one_of(
        csv_text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200)
    )
)
def test_outcomes_with_arbitrary_files(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "episodes.csv"
        source.write_bytes(body)
        argv = ["outcomes", str(source), "--summary", str(Path(folder) / "summary.json")]
        code, out, err = _run(argv)
        _assert_contract(argv, code, out, err)
        if code == 0:
            _strict_json((Path(folder) / "summary.json").read_text())


json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceType",
                    "id",
                    "item",
                    "linkId",
                    "type",
                    "text",
                    "answerOption",
                    "alliance",
                    "valueCoding",
                    "code",
                    "display",
                    "scoring",
                    "status",
                    "name",
                    "title",
                    "extension",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@FUZZ
@given(
    document=st.one_of(json_values.map(json.dumps), st.text(max_size=80)),
    options=st.lists(
        st.sampled_from(
            ["--higher-is-better", "--force", "--respondent=therapist", "--max-missing=-1"]
        ),
        max_size=2,
    ),
    given_id=st.one_of(st.none(), arg_text),
)
def test_instruments_import_with_arbitrary_files(
    document: str, options: list[str], given_id: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "questionnaire.json"
        source.write_bytes(document.encode("utf-8", "surrogatepass"))
        argv = ["instruments", "import", str(source), *options]
        if given_id is not None:
            argv += ["--id", given_id]
        with mock.patch.dict(os.environ, {"ALLIANCE_INSTRUMENTS_DIR": str(Path(folder) / "mine")}):
            try:
                code, out, err = _run(argv)
            finally:
                clear_cache()
        _assert_contract(argv, code, out, err)


@FUZZ
@given(
    action=st.sampled_from(["show", "list", "import", "delete", ""]),
    rest=st.lists(arg_text, max_size=3),
)
def test_instruments_show_and_list_with_arbitrary_arguments(action: str, rest: list[str]) -> None:
    argv = ["instruments", action, *rest]
    code, out, err = _run(argv)
    _assert_contract(argv, code, out, err)


def test_the_installed_command_answers_bad_input_with_one_line_and_status_2(tmp_path: Path) -> None:
    not_utf8 = tmp_path / "latin1.csv"
    not_utf8.write_bytes(
        "episode,date,instrument,total,attended\nÉ,2024-01-01,phq9,3,1\n".encode("latin-1")
    )
    for argv in (
        ["score", "phq9", "1", "2", "x"],
        ["change", "--before", "nan", "--after", "3", "--sd", "1", "--reliability", "0.5"],
        ["change", "--before", "0", "--after", "1", "--sd", "5e-324", "--reliability", "0.5"],
        ["outcomes", str(not_utf8)],
        ["instruments", "show", "no-such-thing"],
        ["report", "--responses", str(not_utf8)],
    ):
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "alliance", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, (argv, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, (argv, done.stderr)
