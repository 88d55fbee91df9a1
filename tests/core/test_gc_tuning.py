"""The web process freezes what it loaded at start-up, views included (alliance.core.gc_tuning)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

PROBE = """
import gc, sys
import alliance.wsgi
views = [name for name in ("alliance.care.views", "alliance.checkin.views") if name in sys.modules]
print(len(views), gc.get_freeze_count(), gc.get_threshold()[0])
"""


def test_the_views_are_loaded_and_frozen_before_the_first_request() -> None:
    # In a fresh interpreter: in this one the tests have long since imported every view.
    with tempfile.TemporaryDirectory() as data_dir:
        env = os.environ | {
            "ALLIANCE_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "alliance.settings",
        }
        env.pop("DATABASE_URL", None)
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
    views, frozen, threshold = (int(value) for value in out)
    assert views == 2
    # Django, the app and its views: well over the ~100,000 objects of Django alone.
    assert frozen > 150_000
    assert threshold == 50_000
