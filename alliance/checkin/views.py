"""The client's check-in pages. No account: the link's token is the only credential.

Promises kept here (issue #4): every answer survives a validation error, a database error at any
statement of the submission (alliance.checkin.resilience) or an expired CSRF token (the form is re-shown
with what was posted); a double submit stores one response; a form
begun before the link expired is accepted for a short while after; nothing about the client appears in a
URL or page title; a risk answer shows crisis resources at once and raises an urgent alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage

from alliance.accounts.audit import log_event
from alliance.care import notify, progress, safety_plan
from alliance.care.alert_sync import raise_risk_alerts
from alliance.care.models import ClinicSettings, Goal, Respondent, ResponseSource
from alliance.care.responses import prepare_response
from alliance.care.tasks import prepare_recompute
from alliance.checkin import flow, resilience, shared_pages, submission
from alliance.checkin.concern_form import ConcernForm
from alliance.checkin.copy import LANGUAGE_NAMES, LANGUAGES, copy_for, default_crisis_resources
from alliance.checkin.forms import InstrumentForm
from alliance.checkin.links import LinkProblem, record_opening, resolve
from alliance.checkin.models import CheckinLink, Concern
from alliance.checkin.page_forms import StartedForm, asked_language, new_started_value
from alliance.core import once
from alliance.measures import Instrument, UnknownInstrument, get_instrument, registry

logger = logging.getLogger(__name__)

LANG_COOKIE = "alliance_checkin_lang"
NEVER_CACHED = "max-age=0, no-cache, no-store, must-revalidate, private"
# Guessing limit (issue 10, point 5). A token is 256 random bits, so guessing one is not feasible at any
# rate: the limit is there to stop noise and enumeration (scanners, a mistyped link retried in a loop),
# not to make guessing harder than it already is. So it applies to failed lookups only: a valid,
# unexpired link always opens, whatever its address's count, because clients behind one clinic or
# workplace network share an address and must not be locked out by someone else's guesses; and a valid
# link's visit writes no rate-limit row at all. Per address first, then, as a second line against a
# guesser spread over many addresses, for all addresses together (set it well above what mistyped
# links from a whole clinic could reach: when it trips, only failed lookups are refused).
TOKEN_FAILURE_RATE = getattr(settings, "CHECKIN_TOKEN_FAILURE_RATE", "20/h")
TOKEN_GLOBAL_FAILURE_RATE = getattr(settings, "CHECKIN_TOKEN_GLOBAL_FAILURE_RATE", "1000/h")


def _language(request: HttpRequest, link: CheckinLink | None) -> str:
    # The language switch is a link (?lang=es) on every page, and works before the page's own form is
    # built (error pages included).
    asked = asked_language(request.GET)
    if asked is None and request.method == "POST":
        # Only a POST has a body to look in (reading request.POST on a GET still builds one).
        asked = asked_language(request.POST)
    if asked is not None:
        return asked
    cookie = request.COOKIES.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    if link is not None:
        return str(link.appointment.episode.client.preferred_language)
    return "en"


# The links on every client page, reversed once per process with placeholders and filled in per
# request: reversing them on each page was a noticeable part of the landing page's time under load
# (issue 10, point 6). Safe without quoting: a token reaches a page only after matching
# tokens.TOKEN_PATTERN (URL-safe characters), and instrument ids are slugs.
_TOKEN_SLOT = "T" * 43
_INSTRUMENT_SLOT = "INSTRUMENT"


@lru_cache(maxsize=16)
def _url_pattern(name: str, with_instrument: bool) -> str:
    args = [_TOKEN_SLOT, _INSTRUMENT_SLOT] if with_instrument else [_TOKEN_SLOT]
    return reverse(name, args=args)


def link_to(name: str, token: str, instrument: str = "") -> str:
    """The URL of a client page for this token (and form), as `reverse` would give it."""
    pattern = _url_pattern(name, bool(instrument))
    if instrument:
        pattern = pattern.replace(_INSTRUMENT_SLOT, instrument)
    return pattern.replace(_TOKEN_SLOT, token)


def _page(
    request: HttpRequest,
    template: str,
    lang: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    *,
    shared: bool = False,
) -> HttpResponse:
    """A client page in the client's language. `shared`: the page is the same for every link in the
    same state but for the token, and is rendered once per state (alliance.checkin.shared_pages)."""
    base = {
        "lang": lang,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "current_path": request.path,
    }
    token = (context or {}).get("token")
    if token:
        base["support_url"] = link_to("checkin_support", token)
        base["concern_url"] = link_to("checkin_concern", token)
    copy = {"t": copy_for(lang)}
    # Client pages speak the client's language whatever the browser or a staff session says: every
    # message rendered on the page (templates, form errors) is resolved in it.
    with translation.override(lang):
        html = None
        if shared and token:
            page = {**base, **(context or {})}
            html = shared_pages.render(request, template, lang, page, token, per_language=copy)
        if html is not None:
            response = HttpResponse(html, status=status)
        else:
            response = render(request, template, {**copy, **base, **(context or {})}, status=status)
    # What Django's never_cache sends, as constants: patching the headers per response parsed and
    # re-joined them, 12 µs a page (issue 10, point 6). Redirects and anything else that does not
    # come through here get "no-store" from alliance.core.middleware.NoStoreMiddleware. An Expires
    # of "0" is a time in the past to every cache (RFC 9111, 5.3).
    response["Cache-Control"] = NEVER_CACHED
    response["Expires"] = "0"
    response["X-Robots-Tag"] = "noindex, nofollow"
    if asked_language(request.GET) is not None:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    return response


def _started_at(request: HttpRequest) -> datetime | None:
    # The signed start time decides whether the link still opens, before the page's form exists.
    return StartedForm(request.POST).started_at()


def _everyone(_group: str, _request: HttpRequest) -> str:
    return "all"


def _too_many_failed_lookups(request: HttpRequest) -> bool:
    """Count one failed token lookup, from this address and from everywhere; True when either count
    is over its allowance. Called only after a lookup failed."""
    for key, rate in (("ip", TOKEN_FAILURE_RATE), (_everyone, TOKEN_GLOBAL_FAILURE_RATE)):
        usage = get_usage(request, group="checkin-token", key=key, rate=rate, increment=True)
        if usage is not None and usage["should_limit"]:
            return True
    return False


@dataclass(frozen=True)
class Visit:
    """An open link and its forms (which are done), read together (alliance.checkin.lookup)."""

    link: CheckinLink
    steps: list[flow.Step]


def _open(
    request: HttpRequest,
    token: str,
    started_at: datetime | None = None,
    *,
    mark_opened: bool = True,
) -> Visit | HttpResponse:
    """Resolve the token or answer with a page that reveals nothing about any client."""
    resolved = resolve(token, started_at=started_at, mark_opened=mark_opened)
    if resolved.problem is LinkProblem.NOT_FOUND or resolved.link is None:
        lang = _language(request, None)
        if _too_many_failed_lookups(request):
            return _page(
                request, "checkin/problem.html", lang, {"problem": "rate_limited"}, status=429
            )
        return _page(request, "checkin/problem.html", lang, {"problem": "not_found"}, 404)
    if resolved.problem is LinkProblem.EXPIRED:
        # The client's language is used, but nothing else about them is shown.
        return _page(
            request,
            "checkin/problem.html",
            _language(request, resolved.link),
            {"problem": "expired"},
            410,
        )
    link = resolved.link
    return Visit(link, flow.steps(link.appointment, resolved.goal_count, resolved.answered))


def _after_opens_text(link: CheckinLink, lang: str) -> str:
    """When the after-session part opens, in the client's words and the clinic's time zone."""
    return _after_opens_words(
        flow.after_opens_at(link.appointment), lang, timezone.get_current_timezone_name()
    )


@lru_cache(maxsize=4096)
def _after_opens_words(at: datetime, lang: str, zone: str) -> str:
    # Remembered per moment, language and zone: every landing before the session says it, and the
    # clients of one appointment slot share it (formatting a date in a language was 3% of the page).
    with translation.override(lang), timezone.override(zone):
        when = formats.date_format(timezone.localtime(at), copy_for(lang)["when_format"])
    return copy_for(lang)["after_opens"].format(when=when)


def _goal_context(link: CheckinLink) -> dict[str, str]:
    goals = Goal.objects.filter(episode_id=link.appointment.episode_id).order_by("number")
    return {f"goal{goal.number}": goal.description for goal in goals}


def _shows_goals(instrument: Instrument) -> bool:
    return any(item.context_keys for item in instrument.items)


def _titled(steps: list[flow.Step], lang: str, token: str) -> list[tuple[flow.Step, str, str]]:
    """Each step with its instrument's title in the client's language and its form's URL, for the
    step lists."""
    instruments = registry()  # once: looking up the environment's registry per step adds up
    return [
        (
            s,
            instruments.get(s.instrument).title(lang),
            link_to("checkin_answer", token, s.instrument),
        )
        for s in steps
    ]


def _crisis_text(lang: str) -> str:
    # The same text the therapist prints with the client's safety plan; the built-in resources (call
    # your local emergency number ...) when the clinic's cannot be read, so crisis help is never lost.
    return resilience.readable(
        lambda: safety_plan.clinic_crisis_text(lang), default_crisis_resources(lang)
    )


@require_http_methods(["GET"])
def landing(request: HttpRequest, token: str) -> HttpResponse:
    opened = _open(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    link, steps = opened.link, opened.steps
    lang = _language(request, link)
    log_event(
        "checkin.link.opened", obj=link, client_id=link.appointment.episode.client_id, read=True
    )
    titled = _titled(steps, lang, token)
    after_open = flow.after_session_open(
        timezone.now(), link.appointment.scheduled_at, link.appointment.duration_minutes
    )
    context = {
        "token": token,
        "before": [item for item in titled if item[0].part == "before"],
        # Before the session has (nearly) ended only the before-session part is offered, and the page
        # says when the rest opens (flow.AFTER_SESSION_MARGIN says why then).
        "after": [item for item in titled if item[0].part == "after"] if after_open else [],
        "after_opens": "" if after_open else _after_opens_text(link, lang),
        "all_done": all(s.done for s in steps),
    }
    return _page(request, "checkin/landing.html", lang, context, shared=True)


def _render_form(
    request: HttpRequest,
    token: str,
    lang: str,
    form: InstrumentForm,
    *,
    problem: str = "",
    problem_detail: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "token": token,
        "form": form,
        "instrument": form.instrument,
        "title": form.instrument.title(lang),
        "instructions": form.instrument.instructions(lang),
        "started": StartedForm(request.POST).value() or new_started_value(),
        "problem": problem,
        "problem_detail": problem_detail,
        # Instruments that are not validated say so, in the instrument's own words.
        "validation_note": (
            form.instrument.validation_note.get(lang) if form.instrument.validation_note else ""
        ),
        # A risk answer shows crisis help at once, also on a form shown again (a missing answer, a
        # database error): the client may never press the button again.
        "crisis_text": _crisis_text(lang) if form.flags_risk else "",
    }
    return _page(request, "checkin/form.html", lang, context, status=status)


def _answers_kept(request: HttpRequest) -> HttpResponse | None:
    """The form shown again from what was posted after a database error (alliance.checkin.resilience),
    built without the database: the instrument from the URL, the language from the form's own field
    (or the cookie), the answers from the POST. The link's lookup may be the statement that failed, so
    nothing here depends on it; the goals (GBO item wording) and the clinic's crisis text are read if
    the database answers and have defaults if not."""
    match = request.resolver_match
    if match is None or match.url_name != "checkin_answer":
        return None
    token, instrument_id = str(match.kwargs["token"]), str(match.kwargs["instrument_id"])
    try:
        instrument = get_instrument(instrument_id)
    except UnknownInstrument:
        return None  # no form to show the answers in: the generic error page
    lang = _language(request, None)
    copy = copy_for(lang)
    goals: dict[str, str] = {}
    if any(item.context_keys for item in instrument.items):
        # Goals are the client's words: shown only through a valid link, as on the form itself.
        goals = resilience.readable(lambda: _goals_through(token, request), {})
        if not goals:
            # Each goal the client answered for keeps its place, named by its number.
            goals = {
                key: copy["goal_unread"].format(number=key.removeprefix("goal"))
                for item in instrument.items
                if f"q_{item.link_id}" in request.POST
                for key in item.context_keys
            }
    form = InstrumentForm(instrument, lang, copy, request.POST, goals)
    form.is_valid()  # reads the answers (for the risk check); what is missing is shown as usual
    return _render_form(request, token, lang, form, problem="error_saving", status=503)


def _goals_through(token: str, request: HttpRequest) -> dict[str, str]:
    resolved = resolve(token, started_at=_started_at(request))
    return _goal_context(resolved.link) if resolved.link and resolved.problem is None else {}


@require_http_methods(["GET", "POST"])
@resilience.keeps_answers(_answers_kept)
def answer(request: HttpRequest, token: str, instrument_id: str) -> HttpResponse:
    posted = request.method == "POST"
    started_at = _started_at(request) if posted else None
    # A submission records the link's first opening with its answers (one commit); see below.
    opened = _open(request, token, started_at=started_at, mark_opened=not posted)
    if isinstance(opened, HttpResponse):
        return opened
    link, steps = opened.link, opened.steps
    lang = _language(request, link)
    step = next((s for s in steps if s.instrument == instrument_id), None)
    if step is None:
        return redirect("checkin_landing", token=token)
    try:
        instrument = get_instrument(instrument_id)
    except UnknownInstrument:
        return redirect("checkin_landing", token=token)
    # The goals are read (and decrypted) only for a form that shows them (Goal-Based Outcomes).
    goals = _goal_context(link) if _shows_goals(instrument) else {}
    copy = copy_for(lang)
    too_early = step.part == "after" and not flow.after_session_open(
        timezone.now(), link.appointment.scheduled_at, link.appointment.duration_minutes
    )
    if not posted:
        if step.done:
            return redirect("checkin_thanks", token=token)
        if too_early:
            # The landing says when this part opens.
            return redirect("checkin_landing", token=token)
        return _render_form(
            request, token, lang, InstrumentForm(instrument, lang, copy, None, goals)
        )

    form = InstrumentForm(instrument, lang, copy, request.POST, goals)
    if too_early or not form.is_valid():
        # Nothing is stored, but the client did open the link.
        record_opening(link)
    if too_early:
        # A form opened early (an old tab, a shared link) is refused, not stored: it would answer for a
        # session that has not happened. The answers stay on screen to send again later.
        return _render_form(
            request,
            token,
            lang,
            form,
            problem="after_not_open",
            problem_detail=_after_opens_text(link, lang),
            status=409,
        )
    if not form.is_valid():
        return _render_form(request, token, lang, form, status=400)
    appointment = link.appointment
    # A database error here or anywhere above re-shows the answers (resilience.keeps_answers); nothing
    # is half-saved (one commit: alliance.checkin.submission) and sending again stores once.
    # Scored, and the response's and the recompute job's INSERTs prepared, before the transaction,
    # which on SQLite holds the one writer every other submission waits for
    # (alliance.care.responses.PendingResponse, alliance.care.tasks.prepare_recompute).
    pending = prepare_response(
        episode=appointment.episode,
        appointment=appointment,
        instrument_id=instrument.id,
        answers=form.answers,
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )
    recompute = prepare_recompute(appointment.episode_id)
    recorded = submission.store(link, pending, recompute, known_new=not step.done)
    if recorded.response.risk:
        # Also on a retried submission: if an earlier attempt stored the answer but failed before the
        # alert, this is where the alert is raised (raising is idempotent, one alert per response).
        try:
            notify.risk_alerts(raise_risk_alerts(recorded.response))
        except DatabaseError:
            logger.exception("Risk alert not raised now; the background recompute will raise it")
    # The steps read before saving still say which come next (next_step skips the one just answered).
    following = flow.next_step(steps, instrument.id)
    # link_to, not redirect()'s reverse: a tenth of a submission's CPU went to resolving the URL.
    if recorded.response.risk:
        # Crisis resources first, whatever else happened.
        query = f"?next={following.instrument}" if following else ""
        return HttpResponseRedirect(link_to("checkin_support", token) + query)
    if following is not None:
        return HttpResponseRedirect(link_to("checkin_answer", token, following.instrument))
    return HttpResponseRedirect(link_to("checkin_thanks", token))


@require_http_methods(["GET"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    opened = _open(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    link, steps = opened.link, opened.steps
    lang = _language(request, link)
    after_open = flow.after_session_open(
        timezone.now(), link.appointment.scheduled_at, link.appointment.duration_minutes
    )
    remaining = [s for s in steps if not s.done and (after_open or s.part != "after")]
    context = {
        "token": token,
        "remaining": _titled(remaining, lang, token),
        "after_opens": ""
        if after_open or all(s.done for s in steps if s.part == "after")
        else _after_opens_text(link, lang),
        # The client's own progress view (alliance.checkin.progress_views), when the clinic allows it.
        "progress_link": progress.copy_for(lang)["thanks_link"]
        if ClinicSettings.load().share_progress_with_clients
        else "",
    }
    return _page(request, "checkin/thanks.html", lang, context)


@require_http_methods(["GET"])
def support(request: HttpRequest, token: str) -> HttpResponse:
    """Crisis resources, shown straight after a risk answer (and reachable again from the link)."""
    opened = _open(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    lang = _language(request, opened.link)
    # Read by hand on purpose: only compared with the link's own steps, never stored or shown.
    next_instrument = request.GET.get("next", "")
    next_step = next(
        (s for s in opened.steps if s.instrument == next_instrument and not s.done), None
    )
    # The client's own safety plan, below the clinic's crisis lines, when there is one they may see.
    episode = opened.link.appointment.episode
    plan = safety_plan.for_client(episode.pk)
    if plan is not None:
        log_event("checkin.safety_plan.viewed", obj=plan, client_id=episode.client_id, read=True)
    context = {
        "token": token,
        "crisis_text": _crisis_text(lang),
        "next_step": next_step,
        "plan": plan,
        "plan_sections": safety_plan.filled(plan, lang),
    }
    return _page(request, "checkin/support.html", lang, context)


def _concern_kept(request: HttpRequest) -> HttpResponse | None:
    """The concern form shown again from what was posted after a database error at any statement
    (the link lookup included), built without the database, like `_answers_kept`."""
    match = request.resolver_match
    if match is None or match.url_name != "checkin_concern":
        return None
    lang = _language(request, None)
    form = ConcernForm(request.POST, required_message=copy_for(lang)["concern_required"])
    form.is_valid()
    token = str(match.kwargs["token"])
    return _concern_page(request, token, lang, form, problem="error_saving", status=503)


@require_http_methods(["GET", "POST"])
@resilience.keeps_answers(_concern_kept)
def concern(request: HttpRequest, token: str) -> HttpResponse:
    opened = _open(
        request, token, started_at=_started_at(request) if request.method == "POST" else None
    )
    if isinstance(opened, HttpResponse):
        return opened
    link = opened.link
    lang = _language(request, link)
    required = copy_for(lang)["concern_required"]
    if request.method != "POST":
        return _concern_page(request, token, lang, ConcernForm(required_message=required))
    form = ConcernForm(request.POST, required_message=required)
    if not form.is_valid():
        return _concern_page(request, token, lang, form, status=400)
    data = form.cleaned_data
    # A database error here or above re-shows what the client wrote (resilience.keeps_answers).
    with transaction.atomic():
        # A repeat (double tap, resent request) of a stored concern stores and emails nothing.
        repeat = data["submission_id"] is not None and (
            once.claim(form, None, "checkin.concern") is not None
        )
        if repeat:
            return _page(request, "checkin/concern_thanks.html", lang, {"token": token})
        raised = Concern.objects.create(
            episode=link.appointment.episode,
            link=link,
            text=data["text"],
            feels_unsafe=data["feels_unsafe"],
            wants_contact=data["wants_contact"],
            contact=data["contact"],
        )
    notify.concern_raised(raised)
    return _page(request, "checkin/concern_thanks.html", lang, {"token": token})


def _concern_page(
    request: HttpRequest,
    token: str,
    lang: str,
    form: ConcernForm,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    """The concern form, re-shown with everything the client wrote whatever went wrong."""
    context = {"token": token, "form": form, "problem": problem, "started": new_started_value()}
    return _page(request, "checkin/concern.html", lang, context, status=status)


@resilience.keeps_answers(_answers_kept)
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A client whose CSRF cookie expired (a form left open overnight) must not lose their answers:
    re-show the form with what they posted and a fresh token. Staff pages get Django's usual 403."""
    match = request.resolver_match
    if match is None or match.url_name not in ("checkin_answer", "checkin_concern"):
        from django.views.csrf import csrf_failure as default_failure

        return default_failure(request, reason)
    token = str(match.kwargs.get("token", ""))
    opened = _open(request, token, started_at=_started_at(request))
    if isinstance(opened, HttpResponse):
        return opened
    lang = _language(request, opened.link)
    if match.url_name == "checkin_concern":
        # Not validated: nothing is stored on this path, the form only carries the answers back.
        concern_form = ConcernForm(
            request.POST, required_message=copy_for(lang)["concern_required"]
        )
        return _concern_page(
            request, token, lang, concern_form, problem="error_session", status=403
        )
    instrument = get_instrument(str(match.kwargs["instrument_id"]))
    form = InstrumentForm(
        instrument, lang, copy_for(lang), request.POST, _goal_context(opened.link)
    )
    return _render_form(request, token, lang, form, problem="error_session", status=403)
