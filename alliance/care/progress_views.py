"""The charts of an episode (loaded into the client page) and the progress view shown to the client."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access, charts, progress


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@never_cache
@login_required
@require_GET
def episode_charts(request: HttpRequest, pk: int) -> HttpResponse:
    """The staff charts of one episode: a fragment for the client page (htmx), a page without JS."""
    episode = access.get_episode_or_404(_user(request), pk)
    data = charts.load([episode.pk])[episode.pk]
    made = charts.episode_charts(data, charts.clinic_models())
    log_event("care.charts.viewed", obj=episode, read=True)
    template = "care/progress/charts_fragment.html" if request.htmx else "care/progress/charts.html"  # type: ignore[attr-defined]
    return render(request, template, {"episode": episode, "charts": made})


@never_cache
@login_required
@require_GET
def episode_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A plain, large view of the client's own answers, to look at together in the room."""
    episode = access.get_episode_or_404(_user(request), pk)
    view = progress.for_client(episode)
    log_event("care.progress.viewed", obj=episode, read=True)
    return render(request, "care/progress/episode.html", {"episode": episode, "progress": view})
