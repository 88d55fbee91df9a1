"""Scheduling pages: book (or record) sessions, move and cancel them, the agenda, the calendar feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.accounts.audit import log_clients_viewed, log_event
from alliance.accounts.models import FormSubmission, User
from alliance.care import access, agenda, calendar_feed, scheduling
from alliance.care.models import Appointment, Attendance, CalendarFeed, Episode
from alliance.care.schedule_forms import (
    AgendaForm,
    BookForm,
    CancelForm,
    MoveForm,
    RenewFeedForm,
    when_label,
)
from alliance.core import once


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _repeat_of(request: HttpRequest) -> str | None:
    """Where an earlier submission of the same form went ("" if it did not say), or None for a first one.

    Checked before validating: once the first submission has booked, moved or cancelled, validating
    its repeat against the new state would fail (an overlap with itself, a session no longer ahead)
    and show an error for something that worked.
    """
    probe = once.OnceFormMixin(request.POST)
    if not probe.is_valid():
        return None
    return (
        FormSubmission.objects.filter(submission_id=probe.cleaned_data["submission_id"])
        .values_list("redirect_to", flat=True)
        .first()
    )


def _upcoming(episode: Episode) -> list[Appointment]:
    return list(
        episode.appointments.filter(
            scheduled_at__gt=timezone.now(), attendance=Attendance.SCHEDULED
        ).order_by("scheduled_at")
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def appointment_book(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    episode = access.get_own_episode_or_404(user, pk)
    client_url = reverse("client_detail", args=[episode.client.code])
    status = 200
    if request.method == "POST":
        if (done := _repeat_of(request)) is not None:
            return redirect(done or client_url)
        form = BookForm(request.POST, episode=episode)
        # An ended episode shows why nothing can be booked instead of a form.
        if episode.is_active and form.is_valid():
            with transaction.atomic():
                if (done := once.claim(form, user, "appointment.book")) is not None:
                    return redirect(done or client_url)
                _book(request, form, episode)
                once.remember(form, client_url)
            return redirect(client_url)
        status = 400
    else:
        form = BookForm(episode=episode)
        log_event("care.schedule.viewed", obj=episode, data={"page": "book"}, read=True)
    return render(
        request,
        "care/schedule/book.html",
        {
            "episode": episode,
            "client": episode.client,
            "form": form,
            "upcoming": _upcoming(episode),
        },
        status=status,
    )


def _book(request: HttpRequest, form: BookForm, episode: Episode) -> None:
    minutes = form.cleaned_data["duration_minutes"]
    if form.is_past:
        recorded = scheduling.record_past(
            episode, form.starts[0], minutes, form.cleaned_data["happened"]
        )
        messages.success(
            request,
            _("Session %(n)d on %(when)s recorded: %(what)s.")
            % {
                "n": recorded.session_number,
                "when": when_label(recorded.scheduled_at),
                "what": recorded.get_attendance_display().lower(),
            },
        )
        return
    booked = scheduling.book(episode, form.starts, minutes)
    first = booked[0]
    messages.success(
        request,
        ngettext(
            "Session %(n)d booked for %(when)s.",
            "%(count)d sessions booked, the first on %(when)s (session %(n)d).",
            len(booked),
        )
        % {"n": first.session_number, "when": when_label(first.scheduled_at), "count": len(booked)},
    )


def _changed_message(request: HttpRequest, text: str, revoked: int) -> None:
    if revoked:
        text += " " + _(
            "Its check-in link no longer works; send the client a fresh one from the session page."
        )
    messages.success(request, text)


_Change = TypeVar("_Change", MoveForm, CancelForm)


def _change_page(
    request: HttpRequest,
    pk: int,
    page: str,
    make_form: Callable[[QueryDict | None, Appointment], _Change],
    change: Callable[[_Change, Appointment], tuple[str, int]],
) -> HttpResponse:
    """Move and cancel: the same page around a different form and change.

    `change` runs inside the transaction that claims the form, and returns the message to show and
    how many check-in links it revoked.
    """
    user = _user(request)
    appointment = access.get_own_appointment_or_404(user, pk)
    episode = appointment.episode
    client_url = reverse("client_detail", args=[episode.client.code])
    changeable = scheduling.is_changeable(appointment)
    status = 200
    if request.method == "POST":
        if (done := _repeat_of(request)) is not None:
            return redirect(done or client_url)
        form = make_form(request.POST, appointment)
        if changeable and form.is_valid():
            with transaction.atomic():
                if (done := once.claim(form, user, f"appointment.{page}")) is not None:
                    return redirect(done or client_url)
                text, revoked = change(form, appointment)
                once.remember(form, client_url)
            _changed_message(request, text, revoked)
            return redirect(client_url)
        status = 400
    else:
        form = make_form(None, appointment)
        log_event("care.schedule.viewed", obj=appointment, data={"page": page}, read=True)
    return render(
        request,
        f"care/schedule/{page}.html",
        {
            "appointment": appointment,
            "episode": episode,
            "client": episode.client,
            "form": form,
            "changeable": changeable,
        },
        status=status,
    )


def _move(form: MoveForm, appointment: Appointment) -> tuple[str, int]:
    assert form.start is not None  # MoveForm.clean sets it whenever the form is valid
    old = appointment.scheduled_at
    revoked = scheduling.move(appointment, form.start)
    text = _("Session %(n)d moved from %(old)s to %(new)s.") % {
        "n": appointment.session_number,
        "old": when_label(old),
        "new": when_label(appointment.scheduled_at),
    }
    return text, revoked


def _cancel(form: CancelForm, appointment: Appointment) -> tuple[str, int]:
    revoked = scheduling.cancel(appointment, form.cleaned_data["kind"])
    text = _("Session %(n)d on %(when)s: %(what)s.") % {
        "n": appointment.session_number,
        "when": when_label(appointment.scheduled_at),
        "what": appointment.get_attendance_display().lower(),
    }
    return text, revoked


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_page(request, pk, "move", lambda data, a: MoveForm(data, appointment=a), _move)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_page(request, pk, "cancel", lambda data, _a: CancelForm(data), _cancel)


def _week_id(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@login_required
@never_cache
@require_GET
def agenda_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    today = timezone.localdate()
    form = AgendaForm(request.GET)
    valid = form.is_valid()
    day: date | None = form.cleaned_data.get("day") if valid else None
    week: date | None = form.cleaned_data.get("week") if valid else None
    if day is not None:
        mode, first, days = "day", day, 1
    elif week is not None:
        mode, first, days = "week", week, 7
    else:
        mode, first, days = "today", today - timedelta(days=today.weekday()), 7
    rows = agenda.rows(agenda.appointments(user, first, days))
    log_clients_viewed("care.agenda.viewed", sorted({r.client_id for r in rows}))
    grouped = agenda.by_day(first, days, rows, today)
    if mode == "today":
        today_group = next(g for g in grouped if g.is_today)
        later = [g for g in grouped if g.day > today]
    else:
        today_group, later = None, grouped
    step = timedelta(days=days)
    return render(
        request,
        "care/schedule/agenda.html",
        {
            "mode": mode,
            "first": first,
            "last": first + timedelta(days=days - 1),
            "today": today,
            "today_group": today_group,
            "groups": later,
            "count": len(rows),
            "week_id": _week_id(first),
            "previous": first - step,
            "next": first + step,
            "previous_week": _week_id(first - step),
            "next_week": _week_id(first + step),
            "errors": [e for errors in form.errors.values() for e in errors],
        },
        status=200 if valid else 400,
    )


def _settings_page(
    request: HttpRequest, user: User, *, token: str = "", status: int = 200
) -> HttpResponse:
    feed = CalendarFeed.objects.filter(user=user).first()
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token])) if token else ""
    return render(
        request,
        "care/schedule/calendar.html",
        {
            "feed": feed,
            "url": url,
            "webcal": url.replace("https://", "webcal://", 1).replace("http://", "webcal://", 1),
            "form": RenewFeedForm(),
            "past_days": calendar_feed.PAST.days,
            "ahead_days": calendar_feed.AHEAD.days,
        },
        status=status,
    )


@login_required
@never_cache
@require_GET
def calendar_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    return _settings_page(request, user)


@login_required
@never_cache
@require_POST
def calendar_renew(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    form = RenewFeedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete; nothing changed. Please try again."))
        return redirect("calendar_settings")
    with transaction.atomic():
        if once.claim(form, user, "calendar.renew") is not None:
            messages.info(
                request,
                _(
                    "That request was already handled. If you did not see the new address, renew "
                    "the feed again."
                ),
            )
            return redirect("calendar_settings")
        token = calendar_feed.issue(user)
        log_event("care.calendar.renewed", obj=user.calendar_feed)
    # The page carries the token, shown this once: never_cache keeps it out of every cache.
    return _settings_page(request, user, token=token)


@never_cache
@require_GET
def calendar_feed_view(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feed.owner_of(token)
    if feed is None:
        raise Http404("No such calendar")
    items = list(calendar_feed.appointments_for(feed.user))
    body = calendar_feed.build(
        items,
        host=request.get_host(),
        session_url=request.build_absolute_uri(reverse("appointment_detail", args=[0])),
        clinic=settings.ALLIANCE_CLINIC_NAME,
    )
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    log_event(
        "care.calendar.read",
        obj=feed,
        actor=feed.user,
        data={"appointments": len(items)},
        read=True,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="alliance.ics"'
    return response
