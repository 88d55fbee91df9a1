"""Django's makemessages, also extracting the alert rules' message markers.

`alliance.alerts` is pure Python and marks its message ids with its own identity functions, `N_` and
`NP_` (singular, plural), in `alliance.alerts.message`; xgettext knows neither name, so they are
added to its keywords here (docs/translating.md, "Alert texts").
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=N_",
        "--keyword=NP_:1,2",
    ]
