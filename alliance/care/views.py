"""The therapist's and supervisor's screens. Views stay thin: access in access.py, reads in queries.py."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_clients_viewed, log_event
from alliance.accounts.models import Supervision, User
from alliance.care import access, charts, presenters, queries
from alliance.care.alert_views import CLOSE_REASONS, actions_for
from alliance.care.models import AlertNote, Appointment, Episode, Goal, Response


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.is_administrator:
        return redirect("clinic_overview")
    if user.is_supervisor:
        return redirect("supervision")
    return redirect("caseload")


def _status_param(request: HttpRequest) -> str:
    status = request.GET.get("status", "active")
    return status if status in ("active", "ended", "all") else "active"


@login_required
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    status = _status_param(request)
    own = access.episodes_visible_to(user).filter(therapist=user)
    episodes = list(queries.caseload(own, status))
    rows = presenters.caseload_rows(episodes)
    attention = list(
        queries.needs_attention(
            access.alerts_visible_to(user).filter(episode__in=own.filter(status="active"))
        )
    )
    log_clients_viewed("care.caseload.viewed", [e["client_id"] for e in episodes])
    return render(
        request,
        "care/caseload.html",
        {"episodes": rows, "status": status, "attention": attention},
    )


@login_required
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    links = Supervision.objects.filter(supervisor=user).select_related("therapist")
    therapists = [link.therapist for link in links]
    status = _status_param(request)
    rows = list(
        queries.caseload(access.episodes_visible_to(user).filter(therapist__in=therapists), status)
    )
    by_therapist: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for episode in rows:
        by_therapist[episode["therapist_id"]].append(episode)
    log_clients_viewed(
        "care.caseload.viewed", [e["client_id"] for e in rows], data={"as": "supervisor"}
    )
    groups = [
        (therapist, presenters.caseload_rows(by_therapist.get(therapist.pk, [])))
        for therapist in therapists
    ]
    escalated = list(
        queries.needs_attention(
            access.alerts_visible_to(user).filter(
                episode__therapist__in=therapists,
                escalated_at__isnull=False,
                acknowledged_at__isnull=True,
            )
        )
    )
    return render(
        request,
        "care/supervision.html",
        {"groups": groups, "status": status, "escalated": escalated},
    )


# Resolved alerts are history: the latest are shown in full, the rest counted (the audit trail and the
# FHIR export keep everything). Reading and rendering two years of them made the page slow.
PAST_ALERTS_SHOWN = 10


@login_required
@require_GET
def client_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    client = access.get_client_or_404(user, code)
    notes = Prefetch(
        "notes",
        queryset=AlertNote.objects.select_related("author").only(
            "alert_id",
            "action",
            "text",
            "created_at",
            "author__first_name",
            "author__last_name",
            "author__email",
        ),
    )
    episodes = list(
        access.episodes_visible_to(user)
        .filter(client=client)
        .select_related("therapist")
        .annotate(past_alert_count=Count("alerts", filter=~queries.open_alert_filter("alerts__")))
        .prefetch_related(
            Prefetch("goals", queryset=Goal.objects.order_by("number")),
            Prefetch(
                "appointments",
                queryset=Appointment.objects.order_by("session_number")
                .only("episode_id", "session_number", "scheduled_at", "attendance")
                .prefetch_related(
                    # Only what the sessions table and charts show: the answers and the full scoring
                    # result are JSON, and parsing them for two years of sessions was most of the
                    # page's allocations.
                    Prefetch(
                        "responses",
                        queryset=Response.objects.order_by("submitted_at").only(
                            "appointment_id", "instrument", "respondent", "total", "risk"
                        ),
                    )
                ),
            ),
            Prefetch(
                "alerts",
                queryset=queries.by_severity(
                    access.alerts_visible_to(user).filter(queries.open_alert_filter())
                ).prefetch_related(notes),
                to_attr="open_alert_list",
            ),
            Prefetch(
                "alerts",
                # A sliced prefetch: only the latest resolved alerts per episode are read at all.
                queryset=access.alerts_visible_to(user)
                .exclude(queries.open_alert_filter())
                .order_by("-created_at")
                .prefetch_related(notes)[:PAST_ALERTS_SHOWN],
                to_attr="past_alert_list",
            ),
            Prefetch(
                "reflections",
                queryset=access.reflections_visible_to(user).select_related("appointment"),
                to_attr="visible_reflections",
            ),
        )
        .order_by("-started_on")
    )
    log_event("care.client.viewed", obj=client)
    return render(
        request,
        "care/client_detail.html",
        {
            "client": client,
            "panels": [_panel(user, episode) for episode in episodes],
            "can_change": any(access.is_own_episode(user, e) for e in episodes),
            "reasons": CLOSE_REASONS,
        },
    )


def _panel(user: User, episode: Episode) -> dict[str, Any]:
    sessions = presenters.session_rows(episode)
    return {
        "episode": episode,
        "sessions": sessions,
        "charts": _charts(sessions),
        "open_alerts": [(a, actions_for(user, a)) for a in episode.open_alert_list],  # type: ignore[attr-defined]
        "past_alerts": [(a, actions_for(user, a)) for a in episode.past_alert_list],  # type: ignore[attr-defined]
        "past_count": episode.past_alert_count,  # type: ignore[attr-defined]
    }


def _series(rows: list[presenters.SessionRow], key: str) -> list[tuple[int, float]]:
    return [(row.number, row.values[key]) for row in rows if key in row.values]


def _charts(rows: list[presenters.SessionRow]) -> list[dict[str, Any]]:
    """Symptoms (PHQ-9, GAD-7 with their caseness cut-offs) and the relationship (client vs therapist)."""
    sessions = max((row.number for row in rows), default=1)
    symptom_lines = [
        charts.Line("PHQ-9", "#0b5f73", _series(rows, "phq9")),
        charts.Line("GAD-7", "#7a4fb0", _series(rows, "gad7"), dashed=True),
    ]
    relation_lines = [
        charts.Line("Client check-in", "#0b5f73", _series(rows, "checkin")),
        charts.Line("Therapist rating", "#b35900", _series(rows, "therapist"), dashed=True),
    ]
    made = []
    if any(line.points for line in symptom_lines):
        made.append(
            {
                "title": "Symptoms by session (lower is better)",
                "svg": charts.line_chart(
                    "Symptoms by session",
                    symptom_lines,
                    top=27,
                    sessions=sessions,
                    references=[charts.Reference("PHQ-9 caseness 10", 10)],
                    summary=_summary(symptom_lines),
                ),
                "legend": charts.legend(symptom_lines),
            }
        )
    if any(line.points for line in relation_lines):
        made.append(
            {
                "title": "The relationship by session (0 to 10, higher is better)",
                "svg": charts.line_chart(
                    "Relationship check-in by session",
                    relation_lines,
                    top=10,
                    sessions=sessions,
                    summary=_summary(relation_lines),
                ),
                "legend": charts.legend(relation_lines),
            }
        )
    return made


def _summary(lines: list[charts.Line]) -> str:
    parts = [
        f"{line.label} from {line.points[0][1]:g} at session {line.points[0][0]} to "
        f"{line.points[-1][1]:g} at session {line.points[-1][0]}"
        for line in lines
        if line.points
    ]
    return "; ".join(parts) + ". The sessions table below has every value."
