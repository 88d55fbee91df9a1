"""Administrator screens: users and supervision, clinic settings, the audit trail, clinic aggregates."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from alliance.accounts.audit import is_code, log_event
from alliance.accounts.decorators import administrator_required
from alliance.accounts.forms import AuditFilterForm, ClinicSettingsForm, UserForm
from alliance.accounts.models import AuditEvent, Role, Supervision, User
from alliance.care.models import Appointment, Attendance, Client, ClinicSettings, Episode
from alliance.core import once
from alliance.operations.checks import operational_findings


def _admin(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@administrator_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.annotate(
        active_episodes=Count("episodes", filter=Q(episodes__status="active"))
    ).order_by("role", "last_name")
    links = Supervision.objects.select_related("supervisor", "therapist")
    supervisors: dict[int, list[User]] = {}
    for link in links:
        supervisors.setdefault(link.therapist_id, []).append(link.supervisor)
    rows = [(user, supervisors.get(user.pk, [])) for user in users]
    return render(request, "accounts/user_list.html", {"rows": rows})


@administrator_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(User, pk=pk) if pk is not None else None
    if request.method == "POST" and (done := once.earlier(request.POST)) is not None:
        # A replay of a form that went through: its unique email would now fail validation.
        return redirect(done or "user_list")
    form = UserForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # A repeated post (double click) must not try to create the same account twice.
            if once.claim(form, _admin(request), "accounts.user") is not None:
                return redirect("user_list")
            user = form.save()
            log_event(
                "accounts.user.created" if instance is None else "accounts.user.changed",
                obj=user,
                data={"fields": sorted(form.changed_data), "role": user.role},
            )
            once.remember(form, reverse("user_list"))
        messages.success(request, _("Saved %(email)s.") % {"email": user.email})
        return redirect("user_list")
    return render(request, "accounts/user_form.html", {"form": form, "instance": instance})


@administrator_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request: HttpRequest) -> HttpResponse:
    current = ClinicSettings.load()
    form = ClinicSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if once.claim(form, _admin(request), "clinic.settings") is None:
                form.save()
                log_event(
                    "clinic.settings.changed",
                    obj=current,
                    data={"fields": sorted(form.changed_data)},
                )
                once.remember(form, reverse("clinic_settings"))
        messages.success(request, _("Clinic settings saved."))
        return redirect("clinic_settings")
    return render(request, "accounts/clinic_settings.html", {"form": form})


def _filtered_events(form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if not form.is_bound:
        return events
    if not form.is_valid():
        # A refused filter shows its message and no rows: the whole trail under a filter the
        # administrator believes is applied would mislead (and an export of it would leak more).
        return events.none()
    data = form.cleaned_data
    if data["action"]:
        events = events.filter(action__startswith=data["action"].strip())
    if data["actor"]:
        events = events.filter(actor_label__iexact=data["actor"].strip())
    if data["client"]:
        client = Client.objects.filter(code=data["client"].strip().upper()).first()
        events = events.filter(client_id=client.pk if client else -1)
    if data["date_from"]:
        events = events.filter(at__date__gte=data["date_from"])
    if data["date_to"]:
        events = events.filter(at__date__lte=data["date_to"])
    return events


def _client_codes(events: list[AuditEvent]) -> dict[int, str]:
    ids = {event.client_id for event in events if event.client_id}
    return dict(Client.objects.filter(pk__in=ids).values_list("pk", "code"))


def _audit_page(request: HttpRequest, form: AuditFilterForm, *, status: int = 200) -> HttpResponse:
    # The page number is read by hand on purpose: Paginator.get_page accepts any value (a bad one
    # gives the first or last page), so there is nothing for a form to validate.
    page = Paginator(_filtered_events(form), 50).get_page(request.GET.get("page"))
    events = list(page.object_list)
    codes = _client_codes(events)
    rows = [(event, codes.get(event.client_id or 0, "")) for event in events]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
        status=status,
    )


@administrator_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    return _audit_page(request, AuditFilterForm(request.GET or None))


def _filters_for_audit(form: AuditFilterForm) -> dict[str, Any]:
    """Which filters an export used, without free text.

    The values are typed by the administrator, so any of them could be prose (or carry an apostrophe,
    a comma or a space): a value shaped like a code is kept, any other is named under `withheld`
    without its value. An actor filter that names a user is also kept as that user's id, so the trail
    still says whose events were exported."""
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    used = {
        name: value.isoformat() if isinstance(value, date) else str(value).strip()
        for name, value in cleaned.items()
        if value
    }
    kept = {name: value for name, value in used.items() if is_code(value)}
    data: dict[str, Any] = {"filters": kept, "withheld": sorted(used.keys() - kept.keys())}
    if "actor" in used:
        actor = User.objects.filter(email__iexact=used["actor"]).values_list("pk", flat=True)
        data["actor_user"] = actor.first()
    return data


#: A cell starting with one of these is read as a formula by spreadsheet programs (CSV injection,
#: OWASP): `=cmd|' /C calc'!A0` in an actor's address or a filter must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@administrator_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # Refused with the form's messages on the trail page, rather than exporting everything.
        return _audit_page(request, form, status=400)
    events = _filtered_events(form).order_by("at", "id")
    log_event(
        "audit.exported",
        data=_filters_for_audit(form),
    )
    codes = dict(Client.objects.values_list("pk", "code"))
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(
            [
                "at",
                "actor",
                "action",
                "object_type",
                "object_id",
                "client",
                "request_id",
                "ip",
                "data",
            ]
        )
        for event in events.iterator(chunk_size=2000):
            cells = [
                event.at.isoformat(),
                event.actor_label,
                event.action,
                event.object_type,
                event.object_id,
                codes.get(event.client_id or 0, ""),
                event.request_id,
                event.ip_address or "",
                event.data,
            ]
            yield writer.writerow([_csv_cell(cell) for cell in cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="alliance-audit-{stamp}.csv"'
    return response


@administrator_required
@require_GET
def clinic_overview(request: HttpRequest) -> HttpResponse:
    """Aggregates only: counts and rates, no client's record and no free text."""
    since = timezone.now() - timedelta(days=90)
    recent = Appointment.objects.filter(scheduled_at__gte=since, scheduled_at__lte=timezone.now())
    by_attendance = dict(
        recent.values_list("attendance").annotate(n=Count("pk")).values_list("attendance", "n")
    )
    recorded = sum(n for key, n in by_attendance.items() if key != Attendance.SCHEDULED)
    missed = by_attendance.get(Attendance.NO_SHOW, 0) + by_attendance.get(Attendance.LATE_CANCEL, 0)
    ended = Episode.objects.filter(status="ended")
    end_reasons = dict(
        ended.values_list("end_reason").annotate(n=Count("pk")).values_list("end_reason", "n")
    )
    # Clinicians with a caseload: a supervisor who sees no clients of their own is not a therapist
    # with 0 and 0 (issue 11).
    therapists = (
        User.objects.filter(role__in=(Role.THERAPIST, Role.SUPERVISOR))
        .annotate(
            active=Count("episodes", filter=Q(episodes__status="active")),
            ended=Count("episodes", filter=Q(episodes__status="ended")),
        )
        .filter(Q(active__gt=0) | Q(ended__gt=0))
        .order_by("last_name")
    )
    context: dict[str, Any] = {
        "active_episodes": Episode.objects.filter(status="active").count(),
        "ended_episodes": sum(end_reasons.values()),
        "end_reasons": end_reasons,
        "dropout_rate": (end_reasons.get("dropout", 0) / sum(end_reasons.values()))
        if end_reasons
        else None,
        "appointments_90d": recorded,
        "by_attendance": by_attendance,
        "missed_rate": (missed / recorded) if recorded else None,
        "therapists": therapists,
        # What stops risk from reaching a human, said loudly (the same findings as `alliance check`).
        "operational_findings": operational_findings(),
    }
    return render(request, "accounts/clinic_overview.html", context)
