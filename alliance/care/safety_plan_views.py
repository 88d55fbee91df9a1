"""An episode's safety plan: read (the treating therapist and their supervisor; also the printable
copy the client takes home) and written together in session (the treating therapist only).

Access as for the other clinical pages (alliance.care.access): anyone else gets 404, administrators
included, since the plan is clinical free text. Every read and change is audited, without the text.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access, safety_plan
from alliance.care.models import Episode, SafetyPlan
from alliance.care.safety_plan_forms import SafetyPlanForm
from alliance.checkin.copy import LANGUAGE_NAMES, LANGUAGES
from alliance.checkin.page_forms import asked_language
from alliance.core import once


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _language(request: HttpRequest, episode: Episode) -> str:
    """The plan is written in the client's language; `?lang=` switches the prompts for this page."""
    return asked_language(request.GET) or str(episode.client.preferred_language)


def _languages(lang: str) -> list[tuple[str, str, bool]]:
    return [(code, LANGUAGE_NAMES[code], code == lang) for code in LANGUAGES]


@never_cache
@login_required
@require_GET
def safety_plan_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan, large and plain, to read on screen together or print for the client."""
    user = _user(request)
    episode = access.get_episode_or_404(user, pk)
    plan = safety_plan.for_episode(episode)
    lang = _language(request, episode)
    log_event(
        "care.safety_plan.viewed",
        obj=plan if plan is not None else episode,
        data={"exists": plan is not None},
    )
    context = {
        "episode": episode,
        "client": episode.client,
        "plan": plan,
        "sections": safety_plan.filled(plan, lang),
        "last_change": safety_plan.last_change(plan) if plan is not None else None,
        "can_edit": access.is_own_episode(user, episode),
        "lang": lang,
        "languages": _languages(lang),
        "plan_words": safety_plan.words(lang),
        "crisis_text": safety_plan.clinic_crisis_text(lang),
    }
    return render(request, "care/safety_plan.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def safety_plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Write or review the plan with the client in session."""
    user = _user(request)
    episode = access.get_own_episode_or_404(user, pk)
    plan = safety_plan.for_episode(episode) or SafetyPlan(episode=episode)
    lang = _language(request, episode)
    here = reverse("safety_plan_edit", args=[episode.pk])
    done_url = reverse("safety_plan", args=[episode.pk])
    if lang != episode.client.preferred_language:
        here += f"?lang={lang}"
        done_url += f"?lang={lang}"
    data = request.POST if request.method == "POST" else None
    form = SafetyPlanForm(data, instance=plan, lang=lang)
    if form.is_valid():
        with transaction.atomic():
            if (done := once.claim(form, user, "care.safety_plan.save")) is not None:
                return redirect(done or done_url)
            saved = form.save(commit=False)
            safety_plan.save(saved, form.changed_data, user)
            once.remember(form, done_url)
        messages.success(request, _("The safety plan is saved."))
        return redirect(done_url)
    log_event(
        "care.safety_plan.viewed",
        obj=plan if plan.pk is not None else episode,
        data={"exists": plan.pk is not None, "editing": True},
    )
    context = {
        "episode": episode,
        "client": episode.client,
        "form": form,
        "plan": plan if plan.pk is not None else None,
        "last_change": safety_plan.last_change(plan) if plan.pk is not None else None,
        "lang": lang,
        "languages": _languages(lang),
        "plan_words": safety_plan.words(lang),
    }
    return render(
        request, "care/safety_plan_edit.html", context, status=400 if form.is_bound else 200
    )
