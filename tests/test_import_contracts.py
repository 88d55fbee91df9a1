"""The import-linter contracts in pyproject.toml hold, and they would catch a broken one.

`./alliancew test` runs this, so the pure packages (alliance.measures, alliance.alerts) cannot start
importing Django or an app, and the alert recompute cannot import the jobs that call it again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    return subprocess.run(  # noqa: S603
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_contracts_are_kept() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return dict(tomllib.load(fh)["tool"]["importlinter"])


def _fake_project(tmp_path: Path, planted: dict[str, str]) -> Path:
    """A stand-in `alliance` package holding every module the contracts name (empty) and the
    planted imports, checked against the project's own contracts."""
    config = _config()
    names: set[str] = set()
    for contract in config["contracts"]:  # type: ignore[attr-defined]
        for key in ("source_modules", "forbidden_modules", "modules"):
            names.update(m for m in contract.get(key, []) if m.startswith("alliance."))
    for name in names | set(planted):
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            package = tmp_path.joinpath(*parts[:depth])
            package.mkdir(exist_ok=True)
            (package / "__init__.py").touch()
        (tmp_path.joinpath(*parts) / "__init__.py").write_text(planted.get(name, ""))
    return tmp_path


def test_the_stand_in_project_keeps_the_contracts(tmp_path: Path) -> None:
    done = _lint(tmp_path, extra_path=_fake_project(tmp_path, {}))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("alliance.measures", "import django\n"),
        ("alliance.alerts", "from django.db import models\n"),
        ("alliance.alerts", "from alliance.care import models\n"),
        ("alliance.measures", "import alliance.core\n"),
        ("alliance.alerts", "from alliance.measures import scoring\n"),
        ("alliance.care.alert_sync", "from alliance.care import tasks\n"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, source: str) -> None:
    project = _fake_project(tmp_path, {module: source})
    done = _lint(project, extra_path=project)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "BROKEN" in done.stdout
