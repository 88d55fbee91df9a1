"""`alliance check`: Django's system checks, with the deployment checks on and warnings failing.

Every insecure or missing setting is a warning with a hint saying what to do
(alliance.operations.checks), so a plain `check` would print them and still exit 0; here any of them
exits non-zero, which a deployment script or a monitor can act on. Overrides Django's `check` (an
app's command wins over Django's own); `migrate` and the other commands run their checks through
BaseCommand.check(), not through this command, and are unaffected.
"""

from __future__ import annotations

from django.core.management.base import CommandParser
from django.core.management.commands.check import Command as DjangoCheckCommand


class Command(DjangoCheckCommand):
    help = (
        "Report every insecure or missing setting of this installation (and Django's own checks); "
        "exit non-zero if there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(deploy=True, fail_level="WARNING")
