"""The Insights pages (issue 11): the clinic's outcomes, the relationship and the outcome, the
check-in's own psychometrics, alert quality, and each clinician's own figures.

Who sees what (docs/insights.md, "The pages"; alliance.insights.figures says whose data each reads):

    page                      administrator   supervisor            therapist
    /insights/                whole clinic    their supervisees     404
    /insights/mine/           404             their own episodes    their own episodes
    /insights/relationship/   every therapist supervisees' + spread own estimate + spread
    /insights/checkin/        yes             404                   404
    /insights/alerts/         whole clinic    their supervisees     404 (own: /insights/mine/)

Decisions
  - Pages nobody may see answer 404, like the rest of the application (a 403 would say it exists).
  - Filters are GET forms; an invalid one answers 400 with the form's messages and no figures.
  - Every view records an audit event of the read (codes only: the page, the audience and the
    filters), even though the pages show aggregates: who looked at which clinic figures is asked.
  - Administrators see aggregates only; no page here shows a client's code, name or words (the
    records carry none: alliance.insights.records).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.insights import charts, phrasing, presenters
from alliance.insights.acted_on import acted_on_tables
from alliance.insights.figures import (
    Audience,
    Computed,
    cached,
    clinic_audience,
    load,
    own_audience,
    supervisees_audience,
    therapist_choices,
    therapist_names,
)
from alliance.insights.forms import OutcomesFilterForm, PeriodForm
from alliance.insights.pseudonyms import Pseudonyms


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render with the analytics' English sentences (cached with the figures) in the reader's
    language (alliance.insights.phrasing)."""
    return render(request, template, phrasing.translate_figures(context), status=status)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _team_audience(user: User) -> Audience:
    """The audience of the clinic-level pages: administrators the clinic, supervisors their
    supervisees; anyone else may not see them."""
    if user.is_administrator:
        return clinic_audience()
    if user.is_supervisor:
        return supervisees_audience(user)
    raise Http404


def _audit(page: str, audience: Audience, filters: dict[str, Any]) -> None:
    data: dict[str, Any] = {"page": page, "audience": audience.kind}
    for name, value in filters.items():
        if value not in (None, ""):
            data[name] = value.isoformat() if isinstance(value, date) else value
    log_event(f"insights.{page}.viewed", data=data, read=True)


def _period(form: PeriodForm) -> tuple[date | None, date | None]:
    return form.cleaned_data.get("start"), form.cleaned_data.get("end")


def _invalid(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return _render(request, template, {**context, "invalid": True}, status=400)


def _timing(computed: Computed) -> dict[str, Any]:
    return {
        "computed_at": computed.computed_at,
        "compute_seconds": f"{computed.seconds:.2f}",
        "from_cache": computed.from_cache,
    }


def _outcomes_context(
    audience: Audience, form: OutcomesFilterForm, page: str
) -> tuple[dict[str, Any], Audience]:
    start, end = _period(form)
    audience = audience.narrowed(form.therapist_id())
    cleaned = form.cleaned_data
    options = {
        "language": cleaned.get("language") or None,
        "intake_band": cleaned.get("intake_band") or None,
        "end_reason": cleaned.get("end_reason") or None,
    }
    today = timezone.localdate()

    def compute() -> dict[str, Any]:
        return presenters.outcomes_figures(
            load(audience, start, end), start, end, as_of=today, **options
        )

    computed = cached(page, audience, (start, end, today, tuple(options.items())), compute)
    outcomes = computed.figures
    rows = presenters.outcome_rows(outcomes)
    chart_rows = rows["nhs"] + rows["engagement"][:2]
    context = {
        "outcomes": outcomes,
        "rows": rows,
        "target": outcomes["nhs"]["recovery_target"],
        "lowest_completeness": presenters.lowest_completeness(rows["completeness"]),
        "completeness_low": (presenters.lowest_completeness(rows["completeness"]) or 0) < 0.8,
        "chart": charts.rates_chart(
            chart_rows,
            label=_(
                "Outcome and engagement rates with 95%% intervals and the national 50%% recovery "
                "target"
            )
            % {},
        ),
        "effect_sizes": [
            (label, outcomes["effect_sizes"].get(key))
            for key, label in (("phq9", "PHQ-9"), ("gad7", "GAD-7"))
        ],
        "bands": [
            {
                "label": band["label"],
                "ended": band["ended"],
                "recovery": presenters.rate_row(_("Recovery"), band["recovery"]),
                "improvement": presenters.rate_row(
                    _("Reliable improvement"), band["reliable_improvement"]
                ),
                "dropout": presenters.rate_row(_("Dropout"), band["dropout"]),
            }
            for band in outcomes["by_intake_band"]
        ],
        **_timing(computed),
    }
    return context, audience


@login_required
@require_GET
def outcomes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    audience = _team_audience(user)
    form = OutcomesFilterForm(request.GET, therapists=therapist_choices(audience))
    base = {"form": form, "audience": audience.kind}
    if not form.is_valid():
        return _invalid(request, "insights/outcomes.html", base)
    context, _narrowed = _outcomes_context(audience, form, "outcomes")
    _audit("outcomes", audience, form.cleaned_data)
    return _render(request, "insights/outcomes.html", {**base, **context})


def _relationship(start: date | None, end: date | None) -> Computed:
    """The clinic-wide fit for a period (alliance.insights.figures says why clinic-wide)."""
    audience = clinic_audience()
    return cached(
        "relationship",
        audience,
        (start, end),
        lambda: presenters.relationship_figures(load(audience, start, end)),
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_clinician:
        raise Http404
    audience = own_audience(user)
    form = OutcomesFilterForm(request.GET, therapists=None)
    base = {"form": form, "audience": audience.kind}
    if not form.is_valid():
        return _invalid(request, "insights/mine.html", base)
    context, _narrowed = _outcomes_context(audience, form, "mine")
    start, end = _period(form)
    relationship = _relationship(start, end).figures
    view = presenters.own_therapist_view(relationship, Pseudonyms().therapist(user.pk))
    quality = cached(
        "alerts",
        audience,
        (start, end),
        lambda: presenters.alert_figures(load(audience, start, end), start, end),
    ).figures
    _audit("mine", audience, form.cleaned_data)
    return _render(
        request,
        "insights/mine.html",
        {
            **base,
            **context,
            "own_view": view,
            "alert_rows": presenters.alert_rows(quality),
            "alert_notes": quality["notes"],
        },
    )


@login_required
@require_GET
def relationship(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PeriodForm(request.GET)
    base = {"form": form}
    if not form.is_valid():
        return _invalid(request, "insights/relationship.html", base)
    start, end = _period(form)
    computed = _relationship(start, end)
    figures = computed.figures
    model = figures["model"]
    variation = figures["therapists"]
    context: dict[str, Any] = {
        "model": model,
        "effects": presenters.effect_rows(model),
        "lagged": model.get("lagged"),
        "lagged_effects": presenters.effect_rows(model["lagged"]) if model.get("lagged") else [],
        "variation": variation,
        "ruptures": figures["ruptures"],
        **_timing(computed),
    }
    if user.is_administrator or user.is_supervisor:
        audience = clinic_audience() if user.is_administrator else supervisees_audience(user)
        names = therapist_names(audience.therapists)
        shown = [t for t in variation["therapists"] if t["therapist"] in names]
        context["therapist_rows"] = [{**t, "name": names[t["therapist"]]} for t in shown]
        context["others_hidden"] = len(variation["therapists"]) - len(shown)
        if shown:
            context["therapist_chart"] = charts.therapist_chart(
                [(names[t["therapist"]], t["estimate"], t["low"], t["high"]) for t in shown],
                outcome=variation["outcome_label"],
                label=_("Therapists' shrunk estimates with 95%% intervals, in therapist order")
                % {},
            )
        if user.is_supervisor:
            context["own_view"] = presenters.own_therapist_view(
                figures, Pseudonyms().therapist(user.pk)
            )
    else:
        audience = own_audience(user)
        context["own_view"] = presenters.own_therapist_view(
            figures, Pseudonyms().therapist(user.pk)
        )
    _audit("relationship", audience, form.cleaned_data)
    return _render(request, "insights/relationship.html", {**base, **context})


@login_required
@require_GET
def checkin(request: HttpRequest) -> HttpResponse:
    if not _user(request).is_administrator:
        raise Http404
    form = PeriodForm(request.GET)
    base = {"form": form}
    if not form.is_valid():
        return _invalid(request, "insights/checkin.html", base)
    start, end = _period(form)
    audience = clinic_audience()
    computed = cached(
        "checkin",
        audience,
        (start, end),
        lambda: presenters.checkin_figures(load(audience, start, end)),
    )
    _audit("checkin", audience, form.cleaned_data)
    return _render(
        request,
        "insights/checkin.html",
        {
            **base,
            "psychometrics": computed.figures,
            "sections": [
                ("internal_consistency", _("Internal consistency")),
                ("one_factor", _("One factor across bond, goals and tasks")),
                ("stability", _("Session-to-session stability")),
                ("ceiling", _("Ceiling effects")),
                ("next_outcome", _("Predicting the next session's outcome")),
                ("dropout", _("Predicting dropout")),
            ],
            **_timing(computed),
        },
    )


@login_required
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    audience = _team_audience(user)
    form = OutcomesFilterForm(request.GET, therapists=therapist_choices(audience))
    # Alert quality has a period and a therapist; the client-group filters do not apply.
    for name in ("language", "intake_band", "end_reason"):
        del form.fields[name]
    base = {"form": form}
    if not form.is_valid():
        return _invalid(request, "insights/alerts.html", base)
    start, end = _period(form)
    audience = audience.narrowed(form.therapist_id())
    compute: Callable[[], dict[str, Any]] = lambda: presenters.alert_figures(  # noqa: E731
        load(audience, start, end), start, end
    )
    computed = cached("alerts", audience, (start, end), compute)
    _audit("alerts", audience, form.cleaned_data)
    return _render(
        request,
        "insights/alerts.html",
        {
            **base,
            "quality": computed.figures,
            "alert_rows": presenters.alert_rows(computed.figures),
            # How often alerts were acted on, risk apart (issue 12, point 4).
            "acted_on": acted_on_tables(computed.figures),
            **_timing(computed),
        },
    )
