"""Intake pages: add a client with their first episode, edit them, start a returning client's next
episode, reword goals and change the measure plan, and (supervisors) transfer an episode.

Thin views: access through alliance.care.access, writes through alliance.care.intake, every form
stored once (alliance.core.once).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access, intake
from alliance.care.intake_forms import (
    GBO_CHOICES,
    ClientEditForm,
    ClientForm,
    EpisodeFieldsForm,
    GoalsPlanForm,
    NewEpisodeForm,
    TransferForm,
    outcome_instrument_choices,
)
from alliance.care.models import Client, Episode, EpisodeStatus, Goal, GoalRevision
from alliance.core import once


def _clinician(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.is_clinician:
        raise Http404
    return user


def _supervisees(user: User) -> QuerySet[User]:
    return User.objects.filter(pk__in=access.supervisee_ids(user), is_active=True)


def _treats(user: User, client: Client) -> bool:
    """Whether the user is (or was) the client's therapist: changes to a client are theirs."""
    return Episode.objects.filter(client=client, therapist=user).exists()


def _plan(form: EpisodeFieldsForm, therapist: User) -> intake.EpisodePlan:
    chosen = set(form.cleaned_data["instruments"])
    return intake.EpisodePlan(
        therapist=form.cleaned_data.get("therapist") or therapist,
        goals=form.goal_wordings(),
        # In the registry's order, whatever order the browser sent them in.
        outcome_instruments=[i for i, _label in outcome_instrument_choices() if i in chosen],
        gbo_every=form.cleaned_data["gbo_every"],
    )


def _therapist_choices(user: User) -> QuerySet[User] | None:
    """None when the user's new episodes are their own; else whom a supervisor may assign."""
    return _supervisees(user) if user.is_supervisor else None


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    user = _clinician(request)
    therapists = _therapist_choices(user)
    data = request.POST if request.method == "POST" else None
    client_form = ClientForm(data, prefix="client")
    episode_form = NewEpisodeForm(data, prefix="episode", therapists=therapists)
    if data is not None and all([client_form.is_valid(), episode_form.is_valid()]):
        try:
            with transaction.atomic():
                if (done := once.claim(episode_form, user, "care.client.create")) is not None:
                    return redirect(done or reverse("caseload"))
                episode = intake.create_client(client_form.details(), _plan(episode_form, user))
                url = reverse("client_detail", args=[episode.client.code])
                once.remember(episode_form, url)
        except intake.IntakeError as problem:
            episode_form.add_error(None, str(problem))
        else:
            messages.success(
                request,
                _("Client %(code)s added, with their first episode.")
                % {"code": episode.client.code},
            )
            return redirect(url)
    return render(
        request,
        "care/intake/client_form.html",
        {
            "client_form": client_form,
            "episode_form": episode_form,
            "no_supervisees": therapists is not None and not therapists.exists(),
        },
        status=400 if data is not None else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, code: str) -> HttpResponse:
    user = _clinician(request)
    client = access.get_client_or_404(user, code)
    if not _treats(user, client):
        raise Http404
    if request.method == "POST":
        form = ClientEditForm(request.POST, instance=client)
        if form.is_valid():
            url = reverse("client_detail", args=[client.code])
            with transaction.atomic():
                if (done := once.claim(form, user, "care.client.edit")) is not None:
                    return redirect(done or url)
                intake.update_client(client, form.details())
                once.remember(form, url)
            messages.success(request, _("Details of %(code)s saved.") % {"code": client.code})
            return redirect(url)
    else:
        form = ClientEditForm(instance=client)
        log_event("care.client.viewed", obj=client, data={"page": "edit"}, read=True)
    return render(
        request,
        "care/intake/client_edit.html",
        {"client": client, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def episode_create(request: HttpRequest, code: str) -> HttpResponse:
    user = _clinician(request)
    client = access.get_client_or_404(user, code)
    if _treats(user, client):
        therapists = None
    elif user.is_supervisor:
        therapists = _supervisees(user)
    else:
        raise Http404
    active = client.episodes.filter(status=EpisodeStatus.ACTIVE).select_related("therapist").first()
    last = client.episodes.order_by("-started_on", "-id").first()
    initial = {"instruments": last.outcome_instruments, "gbo_every": last.gbo_every} if last else {}
    data = request.POST if request.method == "POST" else None
    form = NewEpisodeForm(data, initial=initial, therapists=therapists)
    if data is not None and active is None and form.is_valid():
        url = reverse("client_detail", args=[client.code])
        try:
            with transaction.atomic():
                if (done := once.claim(form, user, "care.episode.create")) is not None:
                    return redirect(done or url)
                intake.start_episode(client, _plan(form, user))
                once.remember(form, url)
        except intake.IntakeError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(
                request, _("A new episode for %(code)s has started.") % {"code": client.code}
            )
            return redirect(url)
    if data is None:
        log_event("care.client.viewed", obj=client, data={"page": "new_episode"}, read=True)
    return render(
        request,
        "care/intake/episode_form.html",
        {
            "client": client,
            "form": form,
            "active": active,
            "no_supervisees": therapists is not None and not therapists.exists(),
        },
        status=400 if data is not None else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def episode_goals(request: HttpRequest, pk: int) -> HttpResponse:
    user = _clinician(request)
    episode = access.get_episode_or_404(user, pk)
    can_change = access.is_own_episode(user, episode) and episode.is_active
    if request.method == "POST" and not can_change:
        raise Http404
    goals = list(
        Goal.objects.filter(episode=episode)
        .order_by("number")
        .prefetch_related(
            Prefetch("revisions", queryset=GoalRevision.objects.order_by("-replaced_at"))
        )
    )
    data = request.POST if request.method == "POST" else None
    form = GoalsPlanForm(data, episode=episode, goals=goals)
    if data is not None and form.is_valid():
        url = reverse("episode_goals", args=[episode.pk])
        try:
            with transaction.atomic():
                if (done := once.claim(form, user, "care.episode.goals")) is not None:
                    return redirect(done or url)
                plan = _plan(form, user)
                changed = intake.update_goals(episode, form.goal_wordings(), by=user)
                replanned = intake.update_plan(episode, plan.outcome_instruments, plan.gbo_every)
                once.remember(form, url)
        except intake.IntakeError as problem:
            form.add_error(None, str(problem))
        else:
            saved = changed or replanned
            messages.success(
                request, _("Goals and plan saved.") if saved else _("Nothing changed.")
            )
            return redirect(url)
    if data is None:
        log_event("care.episode.goals_viewed", obj=episode)
    instruments = dict(outcome_instrument_choices())
    return render(
        request,
        "care/intake/goals.html",
        {
            "episode": episode,
            "client": episode.client,
            "goals": goals,
            "form": form if can_change else None,
            "plan_instruments": [instruments.get(i, i) for i in episode.outcome_instruments],
            "plan_gbo": dict(GBO_CHOICES).get(episode.gbo_every, episode.gbo_every),
        },
        status=400 if data is not None else 200,
    )


def _transferable_or_404(user: User, pk: int) -> Episode:
    """Only the supervisor of the episode's therapist moves it, and only while it is active."""
    episode = access.get_episode_or_404(user, pk)
    supervises = episode.therapist_id in set(access.supervisee_ids(user))
    if not user.is_supervisor or not supervises or not episode.is_active:
        raise Http404
    return episode


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def episode_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    user = _clinician(request)
    episode = _transferable_or_404(user, pk)
    therapists = _supervisees(user).exclude(pk=episode.therapist_id)
    data = request.POST if request.method == "POST" else None
    form = TransferForm(data, therapists=therapists)
    if data is not None and form.is_valid():
        url = reverse("client_detail", args=[episode.client.code])
        try:
            with transaction.atomic():
                if (done := once.claim(form, user, "care.episode.transfer")) is not None:
                    return redirect(done or url)
                moved = intake.transfer_episode(episode, form.cleaned_data["therapist"], by=user)
                once.remember(form, url)
        except intake.IntakeError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(
                request,
                _("The episode of %(code)s is now with %(name)s.")
                % {"code": episode.client.code, "name": moved.therapist.display_name},
            )
            return redirect(url)
    if data is None:
        log_event("care.episode.viewed", obj=episode, data={"page": "transfer"}, read=True)
    context: dict[str, Any] = {
        "episode": episode,
        "client": episode.client,
        "form": form,
        "nobody": not therapists.exists(),
    }
    return render(
        request,
        "care/intake/transfer.html",
        context,
        status=400 if data is not None else 200,
    )
