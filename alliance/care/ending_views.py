"""Ending an episode (the treating therapist) and its two termination summaries as PDF."""

from __future__ import annotations

from typing import Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access, ending
from alliance.care.ending_forms import EndEpisodeForm, FinalSessionForm, LearnedTogetherForm
from alliance.care.models import Appointment, Attendance
from alliance.core import once
from alliance.reports.pdf import pdf_response, render_pdf


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def episode_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End the episode; once ended, the same page edits "what we learned together"."""
    user = _user(request)
    episode = access.get_own_episode_or_404(user, pk)
    here = reverse("episode_end", args=[episode.pk])
    data = request.POST if request.method == "POST" else None
    final = ending.final_measures(episode)
    form: EndEpisodeForm | LearnedTogetherForm
    if episode.is_active:
        form = EndEpisodeForm(data, episode=episode, final_missing=final.missing)
        if form.is_valid():
            with transaction.atomic():
                if (done := once.claim(form, user, "episode.end")) is not None:
                    return redirect(done or here)
                ended = ending.end_episode(
                    episode,
                    reason=form.cleaned_data["end_reason"],
                    ended_on=form.cleaned_data["ended_on"],
                    learned_together=form.cleaned_data["learned_together"],
                )
                once.remember(form, here)
            messages.success(request, _ended_message(ended))
            return redirect(here)
    else:
        form = LearnedTogetherForm(data, initial={"learned_together": episode.learned_together})
        if form.is_valid():
            with transaction.atomic():
                if (done := once.claim(form, user, "episode.learned_together")) is not None:
                    return redirect(done or here)
                episode.learned_together = form.cleaned_data["learned_together"]
                episode.save(update_fields=["learned_together", "updated_at"])
                log_event("care.episode.learned_together.updated", obj=episode)
                once.remember(form, here)
            messages.success(request, _("Saved. It is in the client's summary."))
            return redirect(here)
    log_event("care.episode.ending.viewed", obj=episode, read=True)
    remaining = (
        ending.remaining_appointments(episode, episode.ended_on).count()
        if not episode.is_active and episode.ended_on
        else Appointment.objects.filter(episode=episode, attendance=Attendance.SCHEDULED).count()
    )
    context = {
        "episode": episode,
        "form": form,
        "final": final,
        "final_form": FinalSessionForm(),
        "remaining": remaining,
    }
    return render(request, "care/ending/end.html", context, status=400 if form.is_bound else 200)


def _ended_message(ended: ending.Ended) -> str:
    cancelled = ngettext(
        "%(n)d booked session was cancelled",
        "%(n)d booked sessions were cancelled",
        ended.cancelled,
    ) % {"n": ended.cancelled}
    revoked = ngettext(
        "%(n)d check-in link was revoked", "%(n)d check-in links were revoked", ended.revoked
    ) % {"n": ended.revoked}
    return _("The episode is ended: %(cancelled)s and %(revoked)s.") % {
        "cancelled": cancelled,
        "revoked": revoked,
    }


@never_cache
@login_required
@require_POST
def episode_final_session(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the session whose check-in also asks "What will you take with you?"."""
    user = _user(request)
    episode = access.get_own_episode_or_404(user, pk)
    form = FinalSessionForm(request.POST)
    here = reverse("episode_end", args=[episode.pk])
    if not form.is_valid():
        messages.error(request, _("That session could not be marked: please try again."))
        return redirect(here)
    appointment = Appointment.objects.filter(
        episode=episode, pk=form.cleaned_data["appointment"]
    ).first()
    if appointment is None:
        messages.error(request, _("That session is not part of this episode."))
        return redirect(here)
    target = reverse("appointment_detail", args=[appointment.pk])
    with transaction.atomic():
        if (done := once.claim(form, user, "episode.final_session")) is not None:
            return redirect(done or target)
        ending.mark_final(appointment)
        once.remember(form, target)
    messages.success(
        request,
        _(
            "Session %(n)d is the last one: its check-in will also ask what the client will take "
            "with them. Send the link from here."
        )
        % {"n": appointment.session_number},
    )
    return redirect(target)


def _termination_pdf(
    request: HttpRequest, pk: int, version: Literal["record", "client"]
) -> HttpResponse:
    episode = access.get_episode_or_404(_user(request), pk)
    data = ending.record_data(episode) if version == "record" else ending.client_data(episode)
    pdf = render_pdf(f"termination_{version}", data)
    log_event("care.termination.exported", obj=episode, data={"version": version}, read=True)
    name = (
        _("%(code)s ending summary (record).pdf")
        if version == "record"
        else _("%(code)s ending summary (client).pdf")
    )
    return pdf_response(pdf, name % {"code": episode.client.code})


@never_cache
@login_required
@require_GET
def termination_record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _termination_pdf(request, pk, "record")


@never_cache
@login_required
@require_GET
def termination_client_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _termination_pdf(request, pk, "client")
