"""The brief before a session, and every open answer of one client on one page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access, brief, safety_plan, words
from alliance.care.models import AlertKind


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@never_cache
@login_required
@require_GET
def appointment_brief(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    appointment = access.get_appointment_or_404(user, pk)
    summary = brief.build(user, appointment)
    log_event(
        "care.brief.viewed", obj=appointment, data={"responses": summary.response_count}, read=True
    )
    episode = appointment.episode
    return render(
        request,
        "care/brief.html",
        {
            "brief": summary,
            "appointment": appointment,
            "episode": episode,
            # The safety plan is offered while a risk alert is open; its last review is shown.
            "risk_open": any(a.kind == AlertKind.RISK for a in summary.alerts),
            "safety_plan_saved_at": safety_plan.saved_at(episode),
            "can_edit_plan": access.is_own_episode(user, episode),
        },
    )


@never_cache
@login_required
@require_GET
def client_words(request: HttpRequest, code: str) -> HttpResponse:
    """Every open answer of the client's episodes visible to the user, newest first."""
    user = _user(request)
    client = access.get_client_or_404(user, code)
    episode_ids = list(
        access.episodes_visible_to(user).filter(client=client).values_list("pk", flat=True)
    )
    found = words.comments(episode_ids)
    log_event("care.responses.read", obj=client, data={"open_answers": len(found)}, read=True)
    return render(request, "care/client_words.html", {"client": client, "comments": found})
