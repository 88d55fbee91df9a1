from __future__ import annotations

import os

from django.http import HttpRequest


def demo(request: HttpRequest) -> dict[str, bool]:
    """`alliance demo` sets ALLIANCE_DEMO=1 so that the sign-in page can say where the logins are."""
    return {"alliance_demo": os.environ.get("ALLIANCE_DEMO") == "1"}
