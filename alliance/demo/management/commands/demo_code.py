"""Print the demo administrator's current TOTP code (demo only: real administrators use their own app)."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from alliance.demo.loader import DEMO_ADMIN_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the demo administrator's current one-time code."

    def handle(self, *args: Any, **options: Any) -> None:
        counter = int(time.time()) // 30
        self.stdout.write(format_hotp_value(hotp_value(DEMO_ADMIN_TOTP_SECRET, counter)))
        self.stdout.write(f"(valid for about {30 - int(time.time()) % 30} more seconds)")
