"""The therapist's and supervisor's screens. Views stay thin: access in access.py, reads in queries.py."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_clients_viewed, log_event
from alliance.accounts.models import Supervision, User
from alliance.care import access, brief, journal, presenters, queries, words
from alliance.care.alert_groups import client_alerts
from alliance.care.alert_views import CLOSE_REASONS, actions_for
from alliance.care.caseload_forms import CaseloadFilterForm
from alliance.care.models import Alert, AlertNote, Appointment, Episode, Goal, Response


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


@login_required
@never_cache
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    form = CaseloadFilterForm(request.GET)
    filters = form.filters()
    # The therapist's own episodes (queries.own_caseload_order says why not through access.*: the
    # same rows, with SQL prepared once per process). One page of the table (CASELOAD_PAGE_SIZE says
    # why): the order first, then the rows.
    places = queries.own_caseload_order(user.pk, filters)
    page = Paginator(places, queries.CASELOAD_PAGE_SIZE).get_page(form.page_number())
    episodes = queries.own_caseload_rows(user.pk, list(page.object_list))
    # The "needs attention" list covers every active episode, whatever the table's filters: from the
    # order's own figures when the table shows just those, else from its own (a query more).
    active = places if filters == queries.CaseloadFilter() else queries.own_caseload_order(user.pk)
    groups = queries.own_attention(user.pk, active)
    names = {group.client_id: group.name for group in groups}
    shown = dict.fromkeys([*(g.client_id for g in groups), *(e["client_id"] for e in episodes)])
    log_clients_viewed("care.caseload.viewed", list(shown))
    return render(
        request,
        "care/caseload.html",
        {
            "episodes": presenters.caseload_rows(episodes),
            "status": filters.status,
            "form": form,
            "filtered": filters.with_alerts or filters.no_checkin_this_week or filters.ending_soon,
            "filter_query": form.query_without_status(),
            "attention": presenters.attention_rows(groups, names),
            "page": page,
        },
    )


@login_required
@never_cache
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    links = Supervision.objects.filter(supervisor=user).select_related("therapist")
    therapists = [link.therapist for link in links]
    status = CaseloadFilterForm(request.GET).filters().status
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
# Check-ins whose written answers the client page shows ("In their own words").
OWN_WORDS_SHOWN = 5


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
        .annotate(
            past_alert_count=Count("alerts", filter=~queries.open_alert_filter("alerts__")),
            # When the safety plan was last saved (None: no plan), without reading its text.
            safety_plan_saved_at=F("safety_plan__updated_at"),
        )
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
    log_event("care.client.viewed", obj=client, read=True)
    # The client's own words near the top, recent ones only (client_words lists them all): reading
    # two years of encrypted answers for this page would cost more than the rest of it.
    own_words = words.comments([e.pk for e in episodes], limit=OWN_WORDS_SHOWN)
    # And the latest session's answers item by item (every session's are on its session page).
    latest_answers = words.latest_session([e.pk for e in episodes])
    if own_words or latest_answers:
        log_event(
            "care.responses.read",
            obj=client,
            data={"open_answers": len(own_words), "responses": len(latest_answers)},
        )
    return render(
        request,
        "care/client_detail.html",
        {
            "client": client,
            "panels": [_panel(user, episode) for episode in episodes],
            "can_change": any(access.is_own_episode(user, e) for e in episodes),
            # Intake entry points: a returning client's next episode, by their therapist or by a
            # supervisor for a supervisee (alliance.care.intake_views checks it again).
            "has_active_episode": any(e.is_active for e in episodes),
            "can_start_episode": user.is_supervisor
            or any(access.is_own_episode(user, e) for e in episodes),
            "reasons": CLOSE_REASONS,
            "own_words": own_words,
            "latest_answers": latest_answers,
            "next_brief": brief.next_scheduled(episodes),
            # The reflection journal: reactions in words, sessions awaiting a reflection, and the
            # supervision suggestion when strong reactions recur (alliance.alerts.reactions).
            "supervision_prompts": journal.annotate_client_page(user, episodes),
            # The client's alerts as one entry: the worst first, the kinds listed (issue 12).
            "alert_entry": client_alerts(a for e in episodes for a in e.open_alert_list),
        },
    )


def _panel(user: User, episode: Episode) -> dict[str, Any]:
    # The charts load on their own (progress_views.episode_charts): drawing them took longer than
    # the rest of this page, which must stay within its budget for every client, not just cached ones.
    sessions = presenters.session_rows(episode)
    open_alerts: list[Alert] = episode.open_alert_list  # type: ignore[attr-defined]
    return {
        "episode": episode,
        "sessions": sessions,
        # Snoozed alerts are listed apart, with their reason and day (issue 12, point 4).
        "open_alerts": [(a, actions_for(user, a)) for a in open_alerts if not a.is_snoozed],
        "snoozed_alerts": [(a, actions_for(user, a)) for a in open_alerts if a.is_snoozed],
        "past_alerts": [(a, actions_for(user, a)) for a in episode.past_alert_list],  # type: ignore[attr-defined]
        "past_count": episode.past_alert_count,  # type: ignore[attr-defined]
    }
