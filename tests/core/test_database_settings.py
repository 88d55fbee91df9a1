"""The database options alliance.settings chooses per engine (issue 10, point 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

PROBE = """
import json
from django.conf import settings
import django
django.setup()
print(json.dumps({k: v for k, v in settings.DATABASES["default"].get("OPTIONS", {}).items()
                  if k in ("server_side_binding", "prepare_threshold", "transaction_mode")}))
"""


def _options(**environ: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = os.environ | {
            "ALLIANCE_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "alliance.settings",
        }
        env.pop("DATABASE_URL", None)
        env.pop("DATABASE_PREPARED_STATEMENTS", None)
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-c", PROBE],
            env=env | environ,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    options: dict[str, object] = json.loads(out)
    return options


POSTGRES = "postgres://postgres@127.0.0.1:5432/alliance"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        # PostgreSQL parses and plans a statement once per connection.
        ({"DATABASE_URL": POSTGRES}, {"server_side_binding": True, "prepare_threshold": 2}),
        # Unless a pooler in front of it cannot keep prepared statements.
        ({"DATABASE_URL": POSTGRES, "DATABASE_PREPARED_STATEMENTS": "0"}, {}),
        # SQLite has its own options, none of these.
        ({}, {"transaction_mode": "IMMEDIATE"}),
    ],
)
def test_database_options(environ: dict[str, str], expected: dict[str, object]) -> None:
    assert _options(**environ) == expected
