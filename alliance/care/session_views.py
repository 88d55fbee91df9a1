"""The therapist's side of one appointment: attendance, their own rating of the session, the client's
answers in full (every item and their own words), and the check-in link — emailed, copied or shown as
a QR code in the room. Built to take under 30 seconds."""

from __future__ import annotations

import smtplib
from datetime import datetime
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care import access, sending, words
from alliance.care.models import (
    Appointment,
    Attendance,
    ClinicSettings,
    Respondent,
    Response,
    ResponseSource,
)
from alliance.care.responses import record_response, update_therapist_rating
from alliance.care.session_forms import THERAPIST_RATING, LinkForm, SessionForm
from alliance.care.tasks import schedule_recompute
from alliance.checkin.flow import before_instruments
from alliance.checkin.models import CheckinLink
from alliance.core import once


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _therapist_rating(appointment: Appointment) -> Response | None:
    return Response.objects.filter(
        appointment=appointment, instrument=THERAPIST_RATING, respondent=Respondent.THERAPIST
    ).first()


def _after_save_url(appointment: Appointment) -> str:
    """After an attended session, the reflection (when that page exists); else the client's page."""
    if appointment.attendance == Attendance.ATTENDED:
        try:
            return reverse("reflection_edit", args=[appointment.pk])
        except NoReverseMatch:
            pass
    return reverse("client_detail", args=[appointment.episode.client.code])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    appointment = access.get_appointment_or_404(user, pk)
    can_change = access.is_own_episode(user, appointment.episode)
    existing = _therapist_rating(appointment)
    now = timezone.now()
    if request.method == "POST":
        if not can_change:
            raise Http404
        form = SessionForm(request.POST, appointment=appointment, now=now)
        if form.is_valid():
            with transaction.atomic():
                done = once.claim(form, user, "appointment.session")
                if done is not None:
                    return redirect(done or _after_save_url(appointment))
                _save_session(user, appointment, form, existing)
                url = _after_save_url(appointment)
                once.remember(form, url)
            schedule_recompute(appointment.episode_id)
            messages.success(request, _("Session %(n)s saved.") % {"n": appointment.session_number})
            return redirect(url)
    else:
        initial: dict[str, Any] = {"attendance": appointment.attendance}
        if existing is not None:
            initial.update(existing.answers)
        form = SessionForm(initial=initial, appointment=appointment, now=now)
        log_event("care.appointment.viewed", obj=appointment, read=True)
    return render(
        request,
        "care/appointment_detail.html",
        _page(user, appointment, form, can_change, now),
        status=400 if request.method == "POST" else 200,
    )


def _page(
    user: User, appointment: Appointment, form: SessionForm, can_change: bool, now: datetime
) -> dict[str, Any]:
    episode = appointment.episode
    responses = words.for_appointments([appointment.pk]).get(appointment.pk, [])
    if responses:
        log_event(
            "care.responses.read", obj=appointment, data={"responses": len(responses)}, read=True
        )
    answered = {r.instrument for r in responses}
    expected = before_instruments(appointment, episode.goals.count())
    next_appointment = (
        episode.appointments.filter(attendance=Attendance.SCHEDULED, scheduled_at__gte=now)
        .exclude(pk=appointment.pk)
        .order_by("scheduled_at")
        .only("pk", "session_number", "scheduled_at")
        .first()
    )
    links = CheckinLink.objects.filter(appointment=appointment).order_by("-created_at")
    return {
        "appointment": appointment,
        "episode": episode,
        "form": form,
        "can_change": can_change,
        "before": [r for r in responses if r.part == "before"],
        "after": [r for r in responses if r.part == "after"],
        "before_missing": [words.title_of(i) for i in expected if i not in answered],
        "after_missing": "checkin" not in answered,
        "link_states": sending.link_states(links, now),
        "email_problem": sending.why_not_email(episode.client),
        "link_form": LinkForm(),
        "link_hours": ClinicSettings.load().checkin_link_hours,
        "next_appointment": next_appointment,
    }


def _save_session(
    user: User, appointment: Appointment, form: SessionForm, existing: Response | None
) -> None:
    attendance = form.cleaned_data["attendance"]
    if appointment.attendance != attendance:
        appointment.attendance = attendance
        appointment.attendance_recorded_at = timezone.now()
        appointment.save(update_fields=["attendance", "attendance_recorded_at"])
    answers = form.answers
    if not answers:
        return
    if existing is not None:
        update_therapist_rating(existing, answers, user)
    else:
        record_response(
            episode=appointment.episode,
            appointment=appointment,
            instrument_id=THERAPIST_RATING,
            answers=answers,
            respondent=Respondent.THERAPIST,
            source=ResponseSource.THERAPIST,
            submitted_by=user,
        )


def _bad_link_form(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    messages.error(request, _("That page had expired. Press the button again."))
    return redirect("appointment_detail", pk=appointment.pk)


@never_cache
@login_required
@require_POST
def create_checkin_link(request: HttpRequest, pk: int) -> HttpResponse:
    """A fresh link shown once, as text (with a copy button) and as a QR code for the room."""
    user = _user(request)
    appointment = access.get_own_appointment_or_404(user, pk)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _bad_link_form(request, appointment)
    page = reverse("appointment_detail", args=[appointment.pk])
    with transaction.atomic():
        if once.claim(form, user, "checkin.link.create") is not None:
            # The token of the first press was shown to that request only; it cannot be shown again.
            messages.info(request, _("That link was already created. Make a new link to see one."))
            return redirect(page)
        link, token = sending.fresh_link(appointment, user)
        once.remember(form, page)
    # The address this server was reached on, so that the link works from where the therapist is.
    url = request.build_absolute_uri(reverse("checkin_landing", args=[token]))
    qr = segno.make(url, error="m").svg_inline(
        scale=5, dark="#1d2327", title="Check-in link QR code"
    )
    # The token is shown once and never stored: never_cache keeps it out of any cache.
    return render(
        request,
        "care/checkin_link.html",
        {"appointment": appointment, "link": link, "url": url, "qr_svg": qr},
    )


@never_cache
@login_required
@require_POST
def send_checkin_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Email a fresh link to the client, only with their consent and an address on file."""
    user = _user(request)
    appointment = access.get_own_appointment_or_404(user, pk)
    page = reverse("appointment_detail", args=[appointment.pk])
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _bad_link_form(request, appointment)
    problem = sending.why_not_email(appointment.episode.client)
    if problem:
        messages.error(request, problem)
        return redirect(page)
    try:
        with transaction.atomic():
            if once.claim(form, user, "checkin.link.send") is not None:
                messages.info(request, _("That link was already sent."))
                return redirect(page)
            sending.send_link(
                appointment,
                user,
                lambda token: request.build_absolute_uri(reverse("checkin_landing", args=[token])),
            )
            once.remember(form, page)
    except (smtplib.SMTPException, OSError):
        # The new link rolled back with the error. No detail here: it may carry the address.
        messages.error(
            request,
            _(
                "The email could not be sent (the mail server did not accept it), so no new link "
                "was made. Try again later, or copy the link instead."
            ),
        )
        return redirect(page)
    messages.success(
        request,
        _(
            "A new check-in link was emailed to the client. Earlier links they had not opened "
            "no longer work."
        ),
    )
    return redirect(page)
