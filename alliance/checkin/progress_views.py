"""The client's own progress, through their check-in link, when the clinic allows it.

The same plain view the therapist can show in the room (alliance.care.progress): the client's own
answers and goals, never their name, code or contact details, no alerts and nothing of the therapist's.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.care import progress
from alliance.care.models import ClinicSettings
from alliance.checkin.views import _language, _open, _page


def sharing_allowed() -> bool:
    return ClinicSettings.load().share_progress_with_clients


@never_cache
@require_GET
def checkin_progress(request: HttpRequest, token: str) -> HttpResponse:
    if not sharing_allowed():
        return _page(
            request, "checkin/problem.html", _language(request, None), {"problem": "not_found"}, 404
        )
    opened = _open(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    link = opened.link
    lang = _language(request, link)
    episode = link.appointment.episode
    view = progress.for_client(episode, lang)
    log_event("checkin.progress.viewed", obj=link, client_id=episode.client_id, read=True)
    return _page(request, "checkin/progress.html", lang, {"token": token, "progress": view})
