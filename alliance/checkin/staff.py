"""Concerns raised by clients, as the clinic sees them: supervisors (for their supervisees' clients)
and administrators. The treating therapist never sees a concern about their own work here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care.access import supervisee_ids
from alliance.checkin.models import Concern
from alliance.checkin.staff_forms import ConcernStatusForm
from alliance.core import once


def concerns_visible_to(user: User) -> QuerySet[Concern]:
    if not user.is_authenticated:
        return Concern.objects.none()
    if user.is_administrator:
        return Concern.objects.all()
    if user.is_supervisor:
        return Concern.objects.filter(episode__therapist__in=supervisee_ids(user)).exclude(
            episode__therapist=user
        )
    return Concern.objects.none()


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def concern_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.is_therapist:
        raise Http404
    concerns = list(
        concerns_visible_to(user).select_related(
            "episode__client", "episode__therapist", "handled_by"
        )
    )
    for item in concerns:
        log_event("checkin.concern.viewed", obj=item, read=True)
    return render(request, "checkin/staff/concern_list.html", {"concerns": concerns})


def _get(user: User, pk: int) -> Concern:
    try:
        return (
            concerns_visible_to(user)
            .select_related("episode__client", "episode__therapist")
            .get(pk=pk)
        )
    except Concern.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def concern_detail(request: HttpRequest, pk: int) -> HttpResponse:
    concern = _get(_user(request), pk)
    log_event("checkin.concern.viewed", obj=concern, read=True)
    form = ConcernStatusForm(initial={"status": concern.status})
    return render(request, "checkin/staff/concern_detail.html", {"concern": concern, "form": form})


@login_required
@require_POST
def concern_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    concern = _get(user, pk)
    detail = reverse("concern_detail", args=[concern.pk])
    form = ConcernStatusForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(
            request, _("The status was not changed: %(problems)s") % {"problems": problems}
        )
        return redirect(detail)
    status = form.cleaned_data["status"]
    with transaction.atomic():
        if once.claim(form, user, "checkin.concern.status") is not None:
            return redirect(detail)
        concern.status = status
        concern.handled_by = user
        concern.handled_at = timezone.now()
        concern.save(update_fields=["status", "handled_by", "handled_at"])
        log_event("checkin.concern.status_changed", obj=concern, data={"status": status})
        once.remember(form, detail)
    messages.success(request, _("Status saved."))
    return redirect(detail)
