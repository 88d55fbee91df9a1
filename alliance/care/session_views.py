"""The therapist's side of one appointment: attendance, their own rating of the session, and a
check-in link (with a QR code for in-room use). Built to take under 30 seconds."""

from __future__ import annotations

from datetime import datetime

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access
from alliance.care.alert_sync import schedule_recompute
from alliance.care.models import (
    Appointment,
    Attendance,
    ClinicSettings,
    Respondent,
    Response,
    ResponseSource,
)
from alliance.care.responses import record_response, update_therapist_rating
from alliance.checkin.copy import copy_for
from alliance.checkin.forms import InstrumentForm
from alliance.checkin.links import create_link
from alliance.measures import get_instrument

THERAPIST_RATING = "checkin-therapist"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _appointment_or_404(user: User, pk: int) -> Appointment:
    try:
        return (
            Appointment.objects.select_related("episode__client", "episode__therapist")
            .filter(episode__in=access.episodes_visible_to(user))
            .get(pk=pk)
        )
    except Appointment.DoesNotExist:
        raise Http404 from None


def _rating_form(appointment: Appointment, data: object | None = None) -> InstrumentForm:
    instrument = get_instrument(THERAPIST_RATING)
    existing = Response.objects.filter(
        appointment=appointment, instrument=THERAPIST_RATING, respondent=Respondent.THERAPIST
    ).first()
    initial = None
    if data is None and existing is not None:
        initial = {f"q_{k}": v for k, v in existing.answers.items()}
    return InstrumentForm(instrument, "en", copy_for("en"), data or initial)  # type: ignore[arg-type]


@login_required
@require_http_methods(["GET", "POST"])
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    appointment = _appointment_or_404(user, pk)
    can_change = access.is_own_episode(user, appointment.episode)
    attendance_error = ""
    if request.method == "POST":
        if not can_change:
            raise Http404
        attendance = request.POST.get("attendance", "")
        form = _rating_form(appointment, request.POST)
        rated = any(request.POST.get(f.name) for f in form.fields)
        if attendance not in Attendance.values:
            attendance_error = "Choose what happened."
        valid_rating = form.is_valid() if rated else True
        if not attendance_error and valid_rating:
            _save_session(user, appointment, attendance, form if rated else None)
            messages.success(request, f"Session {appointment.session_number} saved.")
            return redirect("client_detail", code=appointment.episode.client.code)
    else:
        form = _rating_form(appointment)
        log_event("care.appointment.viewed", obj=appointment)
    client_responses = Response.objects.filter(
        appointment=appointment, respondent=Respondent.CLIENT
    )
    return render(
        request,
        "care/appointment_detail.html",
        {
            "appointment": appointment,
            "episode": appointment.episode,
            "form": form,
            "can_change": can_change,
            "attendance_choices": Attendance.choices,
            "attendance_value": request.POST.get("attendance", appointment.attendance),
            "attendance_error": attendance_error,
            "client_responses": client_responses,
            "link_hours": ClinicSettings.load().checkin_link_hours,
        },
        status=400 if request.method == "POST" else 200,
    )


def _save_session(
    user: User, appointment: Appointment, attendance: str, form: InstrumentForm | None
) -> None:
    if appointment.attendance != attendance:
        appointment.attendance = attendance
        appointment.attendance_recorded_at = timezone.now()
        appointment.save(update_fields=["attendance", "attendance_recorded_at"])
    if form is not None:
        existing = Response.objects.filter(
            appointment=appointment, instrument=THERAPIST_RATING, respondent=Respondent.THERAPIST
        ).first()
        if existing is not None:
            update_therapist_rating(existing, form.answers, user)
        else:
            record_response(
                episode=appointment.episode,
                appointment=appointment,
                instrument_id=THERAPIST_RATING,
                answers=form.answers,
                respondent=Respondent.THERAPIST,
                source=ResponseSource.THERAPIST,
                submitted_by=user,
            )
    schedule_recompute(appointment.episode_id)


@login_required
@require_POST
def create_checkin_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    appointment = _appointment_or_404(user, pk)
    if not access.is_own_episode(user, appointment.episode):
        raise Http404
    link, token = create_link(appointment, created_by=user)
    url = settings.SITE_URL + reverse("checkin_landing", args=[token])
    qr = segno.make(url, error="m").svg_inline(
        scale=5, dark="#1d2327", title="Check-in link QR code"
    )
    log_event("checkin.link.created", obj=link, client_id=appointment.episode.client_id)
    response = render(
        request,
        "care/checkin_link.html",
        {"appointment": appointment, "link": link, "url": url, "qr_svg": qr},
    )
    # The token is shown once and never stored: keep it out of any cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def book_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the episode's next session (the full scheduling workspace is a later piece of work)."""
    user = _user(request)
    episode = access.get_episode_or_404(user, pk)
    if not access.is_own_episode(user, episode) or not episode.is_active:
        raise Http404
    raw = request.POST.get("scheduled_at", "")
    try:
        when = timezone.make_aware(datetime.fromisoformat(raw)) if raw else None
    except ValueError:
        when = None
    if when is None:
        messages.error(request, "Give a date and time for the next session.")
    else:
        with transaction.atomic():
            last = episode.appointments.aggregate(n=Max("session_number"))["n"] or 0
            appointment = Appointment.objects.create(
                episode=episode, scheduled_at=when, session_number=last + 1
            )
        messages.success(
            request, f"Session {appointment.session_number} booked for {when:%a %d %b %Y, %H:%M}."
        )
    return redirect("client_detail", code=episode.client.code)
