"""A supervisor's pages about one supervisee: the week's overview, private meeting notes, and a summary
of a period as PDF. Only the supervisee's supervisors reach them; everyone else gets 404."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from alliance.accounts.audit import log_clients_viewed, log_event
from alliance.accounts.models import User
from alliance.care import access, journal, reaction_words
from alliance.care.journal_forms import SummaryPeriodForm, SupervisionNoteForm
from alliance.care.models import (
    Appointment,
    Attendance,
    Episode,
    EpisodeStatus,
    SupervisionNote,
)
from alliance.core import once
from alliance.reports.pdf import pdf_response, render_pdf

SHARED_PER_PAGE = 30


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _supervisee_or_404(user: User, pk: int) -> User:
    if not user.is_authenticated or not user.is_clinician:
        raise Http404
    supervisee = User.objects.filter(pk=pk, pk__in=access.supervisee_ids(user)).first()
    if supervisee is None:
        raise Http404
    return supervisee


def _note_or_404(user: User, therapist: User, note_pk: int) -> SupervisionNote:
    note = SupervisionNote.objects.filter(pk=note_pk, supervisor=user, therapist=therapist).first()
    if note is None:
        raise Http404
    return note


def _save_note(
    request: HttpRequest,
    user: User,
    therapist: User,
    form: SupervisionNoteForm,
    note: SupervisionNote | None,
) -> HttpResponse:
    page = reverse("supervisee_detail", args=[therapist.pk]) + "#notes"
    with transaction.atomic():
        if (done := once.claim(form, user, "care.supervision_note.save")) is not None:
            return redirect(done or page)
        note = note or SupervisionNote(supervisor=user, therapist=therapist)
        note.met_on = form.cleaned_data["met_on"]
        note.text = form.cleaned_data["text"].strip()
        note.save()
        log_event("care.supervision_note.saved", obj=note, data={"therapist": therapist.pk})
        once.remember(form, page)
    messages.success(request, _("Supervision note saved. Only you can read it."))
    return redirect(page)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def supervisee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    therapist = _supervisee_or_404(user, pk)
    if request.method == "POST":
        form = SupervisionNoteForm(request.POST)
        if form.is_valid():
            return _save_note(request, user, therapist, form, None)
    else:
        form = SupervisionNoteForm()
    alerts = access.alerts_visible_to(user).filter(episode__therapist=therapist)
    shared_qs = journal.reflection_list(
        access.reflections_visible_to(user).filter(therapist=therapist, shared_with_supervisor=True)
    )
    page = Paginator(shared_qs, SHARED_PER_PAGE).get_page(request.GET.get("page"))
    shared = list(page.object_list)
    with_alerts = journal.clients_with_open_alerts(alerts)
    risk = journal.unacknowledged_risk(alerts)
    notes = list(SupervisionNote.objects.filter(supervisor=user, therapist=therapist))
    client_ids = (
        {r.episode.client_id for r in shared}
        | {row["episode__client_id"] for row in with_alerts}
        | {row.client_id for row in risk}
    )
    log_clients_viewed(
        "care.supervisee.viewed",
        sorted(client_ids),
        data={"therapist": therapist.pk, "as": "supervisor"},
    )
    log_event(
        "care.supervision_notes.viewed",
        data={"therapist": therapist.pk, "notes": len(notes)},
    )
    start, end = SummaryPeriodForm.default_period()
    return render(
        request,
        "care/supervision/supervisee_detail.html",
        {
            "therapist": therapist,
            "summary": journal.caseload_summary(therapist),
            "with_alerts": with_alerts,
            "risk": risk,
            "now": timezone.now(),
            "shared": [(r, reaction_words.describe(r.reactions)) for r in shared],
            "page": page,
            "notes": notes,
            "form": form,
            "period": SummaryPeriodForm(initial={"start": start, "end": end}),
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def supervision_note_edit(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    user = _user(request)
    therapist = _supervisee_or_404(user, pk)
    note = _note_or_404(user, therapist, note_pk)
    if request.method == "POST":
        form = SupervisionNoteForm(request.POST)
        if form.is_valid():
            return _save_note(request, user, therapist, form, note)
    else:
        form = SupervisionNoteForm(initial={"met_on": note.met_on, "text": note.text})
        log_event(
            "care.supervision_note.viewed", obj=note, data={"therapist": therapist.pk}, read=True
        )
    return render(
        request,
        "care/supervision/note_form.html",
        {"therapist": therapist, "note": note, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _day(value: date) -> str:
    return value.isoformat()


@never_cache
@login_required
@require_GET
def supervision_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    therapist = _supervisee_or_404(user, pk)
    period = SummaryPeriodForm(request.GET)
    if not period.is_valid():
        return render(
            request,
            "care/supervision/summary_form.html",
            {"therapist": therapist, "period": period},
            status=400,
        )
    start: date = period.cleaned_data["start"]
    end: date = period.cleaned_data["end"]
    low, high = journal.period_bounds(start, end)
    data, client_ids = _summary_data(user, therapist, start, end, low, high)
    log_event(
        "care.supervision_summary.downloaded",
        data={"therapist": therapist.pk, "start": _day(start), "end": _day(end)},
    )
    log_clients_viewed(
        "care.supervision_summary.included",
        client_ids,
        data={"therapist": therapist.pk},
    )
    pdf = render_pdf("supervision", data)
    return pdf_response(pdf, f"supervision-summary-{_day(start)}-{_day(end)}.pdf")


def _summary_data(
    user: User, therapist: User, start: date, end: date, low: datetime, high: datetime
) -> tuple[dict[str, object], list[int]]:
    episodes = Episode.objects.filter(therapist=therapist)
    in_period = {"scheduled_at__gte": low, "scheduled_at__lt": high}
    attendance = dict(Attendance.choices)
    by_attendance = dict(
        Appointment.objects.filter(episode__in=episodes, **in_period)
        .exclude(attendance=Attendance.SCHEDULED)
        .values_list("attendance")
        .annotate(n=Count("pk"))
        .order_by()
    )
    seen = (
        Appointment.objects.filter(
            episode__in=episodes, attendance=Attendance.ATTENDED, **in_period
        )
        .values("episode__client")
        .distinct()
        .count()
    )
    active_at_end = (
        episodes.filter(started_on__lte=end)
        .exclude(status=EpisodeStatus.ENDED, ended_on__lt=start)
        .values("client")
        .distinct()
        .count()
    )
    started = episodes.filter(started_on__gte=start, started_on__lte=end).count()
    ended = episodes.filter(ended_on__gte=start, ended_on__lte=end).count()
    alerts = access.alerts_visible_to(user).filter(episode__therapist=therapist)
    activity = journal.alert_activity(alerts, low, high)
    shared = list(
        journal.reflection_list(
            access.reflections_visible_to(user).filter(
                therapist=therapist, shared_with_supervisor=True
            )
        ).filter(journal.happened_between(low, high))
    )
    shared.reverse()  # oldest first reads like a story in a document
    notes = SupervisionNote.objects.filter(
        supervisor=user, therapist=therapist, met_on__gte=start, met_on__lte=end
    ).order_by("met_on", "pk")
    data: dict[str, object] = {
        "lang": translation.get_language() or "en",
        "t": {
            "footer": _("Alliance · supervision summary · confidential"),
            "caseload": _("Caseload and activity"),
            "alerts": _("Alerts by kind"),
            "no_alerts": _("No alert was raised, acknowledged or repaired in the period."),
            "reflections": _("Reflections shared with you"),
            "no_reflections": _("No reflection was shared with you in the period."),
            # Translators: before a session's number, in a list of reflections.
            "session": pgettext("before a number", "session"),
            "notes": _("Your supervision notes"),
            "no_notes": _("No supervision note in the period."),
        },
        "title": _("Supervision summary"),
        "subtitle": _("Therapist: %(name)s · %(start)s to %(end)s")
        % {"name": therapist.display_name, "start": _day(start), "end": _day(end)},
        "caseload": [
            [_("Figure"), _("In the period")],
            [_("Clients in care during the period"), str(active_at_end)],
            [_("Clients seen (attended at least once)"), str(seen)],
            [_("Episodes started"), str(started)],
            [_("Episodes ended"), str(ended)],
            *[
                [str(label), str(by_attendance.get(value, 0))]
                for value, label in attendance.items()
                if value != Attendance.SCHEDULED
            ],
        ],
        "alerts": [[_("Kind"), _("Raised"), _("Acknowledged"), _("Repaired")]]
        + [
            [str(row["label"]), str(row["raised"]), str(row["acknowledged"]), str(row["repaired"])]
            for row in activity
        ],
        "reactions": [[_("Reaction"), _("Recorded"), _("Strongly")]]
        + [[label, str(n), str(s)] for label, n, s in journal.reaction_counts(shared)],
        "reflections": [
            {
                "client": r.episode.client.code,
                "when": _day(timezone.localtime(r.when).date()),  # type: ignore[attr-defined]
                "session": str(r.appointment.session_number) if r.appointment else "",
                "reactions": ", ".join(reaction_words.describe(r.reactions)),
                "text": r.text,
            }
            for r in shared
        ],
        "notes": [{"met_on": _day(n.met_on), "text": n.text} for n in notes],
    }
    return data, sorted({r.episode.client_id for r in shared})
