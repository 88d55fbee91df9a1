"""The reflection journal: write a reflection after a session, see one's reactions beside the
client's ratings, and across the caseload. The rule that suggests supervision is
alliance.alerts.reactions; reads are in alliance.care.journal."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from matplotlib.ticker import MaxNLocator

from alliance.accounts.audit import log_clients_viewed, log_event
from alliance.accounts.models import Supervision, User
from alliance.alerts import reactions
from alliance.care import access, chart_svg, journal, reaction_words
from alliance.care.journal_forms import JournalPeriodForm, ReflectionForm
from alliance.care.models import Appointment, Attendance, Reflection
from alliance.core import once


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _has_started(appointment: Appointment) -> bool:
    return appointment.attendance != Attendance.SCHEDULED or (
        appointment.scheduled_at <= timezone.now()
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reflection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    # Reflections are written by the treating therapist only; everyone else gets 404.
    appointment = access.get_own_appointment_or_404(user, pk)
    existing = Reflection.objects.filter(appointment=appointment).first()
    if existing is not None and existing.therapist_id != user.pk:
        # Written by the previous therapist of a transferred episode: theirs to edit, not ours.
        raise Http404
    client_page = reverse("client_detail", args=[appointment.episode.client.code])
    started = _has_started(appointment)
    status = 200
    if request.method == "POST":
        form = ReflectionForm(request.POST)
        if not started:
            form.add_error(None, _("This session has not taken place yet."))
        if form.is_valid():
            with transaction.atomic():
                if (done := once.claim(form, user, "care.reflection.save")) is not None:
                    return redirect(done or client_page)
                reflection = existing or Reflection(
                    episode=appointment.episode, appointment=appointment, therapist=user
                )
                reflection.text = form.cleaned_data["text"].strip()
                reflection.reactions = form.cleaned_data["reactions"]
                reflection.shared_with_supervisor = form.cleaned_data["shared_with_supervisor"]
                reflection.save()
                once.remember(form, client_page)
            shared = reflection.shared_with_supervisor
            messages.success(
                request,
                _("Reflection on session %(number)s saved (%(who)s).")
                % {
                    "number": appointment.session_number,
                    "who": _("shared with your supervisor") if shared else _("private to you"),
                },
            )
            return redirect(client_page)
        status = 400
    else:
        initial = (
            ReflectionForm.initial_from(
                existing.text, existing.reactions, existing.shared_with_supervisor
            )
            if existing
            else None
        )
        form = ReflectionForm(initial=initial)
        if existing is not None:
            log_event("care.reflection.viewed", obj=existing, read=True)
        else:
            log_event(
                "care.appointment.viewed", obj=appointment, data={"page": "reflection"}, read=True
            )
    supervisors = [
        link.supervisor.display_name
        for link in Supervision.objects.filter(therapist=user).select_related("supervisor")
    ]
    return render(
        request,
        "care/journal/reflection_form.html",
        {
            "appointment": appointment,
            "episode": appointment.episode,
            "form": form,
            "existing": existing,
            "started": started,
            "supervisors": supervisors,
        },
        status=status,
    )


def _reactions_chart(code: str, rows: list[journal.SessionReactions]) -> str:
    """Client check-in and the therapist's rating by session, strong reactions marked below."""
    checkin = [(r.number, r.checkin) for r in rows if r.checkin is not None]
    rating = [(r.number, r.therapist_rating) for r in rows if r.therapist_rating is not None]
    strong = [r.number for r in rows if r.strong]
    if not checkin and not rating:
        return ""
    key = ("reactions", translation.get_language(), tuple(checkin), tuple(rating), tuple(strong))

    def draw() -> str:
        figure = chart_svg.new_figure(6.4, 2.4)
        axes = figure.add_subplot()
        if checkin:
            xs, ys = zip(*checkin, strict=True)
            axes.plot(xs, ys, color=chart_svg.CLIENT, marker="o", label=_("Client check-in"))
        if rating:
            xs, ys = zip(*rating, strict=True)
            axes.plot(
                xs,
                ys,
                color=chart_svg.THERAPIST,
                marker="s",
                linestyle="--",
                label=_("Your rating"),
            )
        if strong:
            axes.scatter(
                strong,
                [0.4] * len(strong),
                color=chart_svg.ALERT,
                marker="^",
                label=_("A strong reaction"),
            )
        axes.set_ylim(0, 10.5)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(_("Session"))
        axes.legend(loc="lower left", ncols=3, fontsize=8)
        return chart_svg.to_svg(
            figure,
            label=_(
                "%(code)s: the client's check-in and your rating by session, with the sessions "
                "where you recorded a strong reaction. The table below has every value."
            )
            % {"code": code},
        )

    return chart_svg.cached(key, draw)  # type: ignore[arg-type]


@never_cache
@login_required
@require_GET
def client_reactions(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    client = access.get_client_or_404(user, code)
    rows = journal.client_sessions(user, client)
    own = (
        access.reflections_visible_to(user)
        .filter(episode__client=client, therapist=user)
        .annotate(when=journal.WHEN)
        .order_by("when", "pk")
        .values_list("reactions", flat=True)
    )
    prompts = reactions.supervision_prompts(list(own), journal.prompt_rule())
    log_event("care.client.reactions_viewed", obj=client)
    return render(
        request,
        "care/journal/client_reactions.html",
        {
            "client": client,
            "rows": rows,
            "prompts": prompts,
            "chart": _reactions_chart(client.code, rows),
            "any_reactions": any(r.reactions for r in rows),
        },
    )


@never_cache
@login_required
@require_GET
def journal_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    period = JournalPeriodForm(request.GET or None)
    weeks = period.weeks_or_default()
    since = timezone.now() - timedelta(weeks=weeks)
    recent = list(
        journal.reflection_list(access.reflections_visible_to(user).filter(therapist=user)).filter(
            journal.happened_between(since)
        )
    )
    prompts = journal.caseload_prompts(user, journal.prompt_rule())
    client_ids = sorted({r.episode.client_id for r in recent})
    log_clients_viewed("care.journal.viewed", client_ids, data={"weeks": weeks})
    return render(
        request,
        "care/journal/journal.html",
        {
            "period": period,
            "weeks": weeks,
            "reflections": [(r, reaction_words.describe(r.reactions)) for r in recent],
            "by_client": journal.counts_by_client(recent),
            "totals": journal.reaction_counts(recent),
            "prompts": prompts,
        },
    )
