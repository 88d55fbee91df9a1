"""The language an email to members of staff is written in.

A staff member's own choice (User.language, set on their Language page) decides, as it does for their
pages; without one, the clinic's default (LANGUAGE_CODE). An email has no request, so no browser to
ask. One message to several people (an escalation to every administrator) is written once: in their
shared language when they all chose the same one, otherwise in the clinic's default.

Emails to clients follow the client's record (Client.preferred_language), not this.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings


def staff_language(user: object) -> str:
    chosen = str(getattr(user, "language", "") or "")
    return chosen if chosen in dict(settings.LANGUAGES) else str(settings.LANGUAGE_CODE)


def shared_language(users: Iterable[object]) -> str:
    chosen = {staff_language(user) for user in users}
    return chosen.pop() if len(chosen) == 1 else str(settings.LANGUAGE_CODE)
