"""The life of an alert, as the therapist drives it: acknowledge, record the repair conversation,
snooze (with a reason, for a chosen period; never a risk alert) or wake it, close with a reason. Each
action goes through a Django form (what it needs), is validated by alliance.alerts.apply_action
(whether the alert's state allows it) and audited.

A refused action always says why: in place, with the alert's own box re-rendered (htmx), or as a
message on the client page it returns to. htmx does not swap a 4xx response, so the refused box is
sent with 200: a 400 there was the silent failure the therapist saw.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.alerts import TransitionError, allowed_actions, apply_action
from alliance.alerts.lifecycle import UNSNOOZABLE_KINDS, snooze_until
from alliance.care import access
from alliance.care.alert_forms import SnoozeForm, UnsnoozeForm
from alliance.care.caseload_forms import CLOSE_REASONS, AlertActionForm
from alliance.care.models import Alert, AlertNote
from alliance.core import once

__all__ = ["CLOSE_REASONS", "actions_for", "alert_action", "alert_snooze", "alert_unsnooze"]

# Supervisors may acknowledge (an escalated risk alert reaches them); the rest is the therapist's.
SUPERVISOR_ACTIONS = {"acknowledge"}
# Actions with their own form and URL (alert_snooze, alert_unsnooze), never the generic one's.
OWN_FORM_ACTIONS = {"snooze", "unsnooze"}


def _alert_or_404(user: User, pk: int) -> Alert:
    try:
        return access.alerts_visible_to(user).select_related("episode__client").get(pk=pk)
    except Alert.DoesNotExist:
        raise Http404 from None


def actions_for(user: User, alert: Alert) -> list[str]:
    allowed: list[str] = list(
        allowed_actions(alert.status, alert.kind, snoozed=alert.is_snoozed)  # type: ignore[arg-type]
    )
    if access.is_own_episode(user, alert.episode):
        return allowed
    return [a for a in allowed if a in SUPERVISOR_ACTIONS]


def _apply(user: User, alert: Alert, action: str, note: str, reason: str) -> str:
    """Carry out the action; the error to show, or "" when it was done."""
    try:
        new_status = apply_action(
            alert.status,  # type: ignore[arg-type]
            alert.kind,  # type: ignore[arg-type]
            action,  # type: ignore[arg-type]
            note=note or None,
            reason=reason or None,
        )
    except TransitionError as problem:
        return str(problem).capitalize() + "."
    now = timezone.now()
    fields = ["status", "updated_at"]
    alert.status = new_status
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, user
        fields += ["acknowledged_at", "acknowledged_by"]
    if action == "close":
        alert.close_reason, alert.resolved_at = reason, now
        fields += ["close_reason", "resolved_at"]
    alert.save(update_fields=fields)
    if note or action != "acknowledge":
        AlertNote.objects.create(alert=alert, author=user, action=action, text=note)
    log_event(f"care.alert.{action}", obj=alert, data={"status": new_status, "kind": alert.kind})
    return ""


@login_required
@never_cache
@require_POST
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = _alert_or_404(user, pk)
    back = f"{_client_url(alert)}#alert-{alert.pk}"
    form = AlertActionForm(request.POST, action=action)
    error = ""
    repeat: str | None = None
    if not form.is_valid():
        error = form.problem()
    else:
        with transaction.atomic():
            if form.cleaned_data["submission_id"] is not None:
                repeat = once.claim(form, user, f"care.alert.{action}")
            if repeat is None:
                if action not in actions_for(user, alert) or action in OWN_FORM_ACTIONS:
                    error = _("That is not possible for this alert any more.")
                else:
                    error = _apply(
                        user, alert, action, form.cleaned_data["note"], form.cleaned_data["reason"]
                    )
                if error:
                    transaction.set_rollback(True)  # a refused action leaves no claim behind
                else:
                    once.remember(form, back)
    if repeat is not None:
        # The same form sent twice (a double click): the first one did it.
        alert.refresh_from_db()
    return _answer(request, user, alert, action, error, back)


def _answer(
    request: HttpRequest, user: User, alert: Alert, action: str, error: str, back: str
) -> HttpResponse:
    """The alert's own box (htmx), or back to the client page with the error as a message."""
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "care/_alert.html",
            {
                "alert": alert,
                "actions": actions_for(user, alert),
                "error": error,
                "failed_action": action if error else "",
                "reasons": CLOSE_REASONS,
            },
        )
    if error:
        messages.error(request, error)
    return redirect(back)


def _snooze(user: User, alert: Alert, weeks: int, reason: str) -> str:
    """Snooze the alert; the error to show, or "" when it was done. The reason is kept encrypted
    on the alert (shown while it is snoozed) and as a note (the alert's history); the audit event
    carries the period, never the reason."""
    try:
        new_status = apply_action(
            alert.status,  # type: ignore[arg-type]
            alert.kind,  # type: ignore[arg-type]
            "snooze",
            note=reason,
            snoozed=alert.is_snoozed,
        )
        now = timezone.now()
        until = snooze_until(now, weeks)
    except TransitionError as problem:
        return str(problem).capitalize() + "."
    fields = ["status", "snoozed_until", "snoozed_at", "snoozed_by", "snooze_reason", "updated_at"]
    alert.status = new_status
    alert.snoozed_until, alert.snoozed_at, alert.snoozed_by = until, now, user
    alert.snooze_reason = reason
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, user
        fields += ["acknowledged_at", "acknowledged_by"]
    alert.save(update_fields=fields)
    AlertNote.objects.create(alert=alert, author=user, action="snooze", text=reason)
    log_event(
        "care.alert.snooze",
        obj=alert,
        data={"status": new_status, "kind": alert.kind, "weeks": weeks, "until": until.isoformat()},
    )
    return ""


def _unsnooze(user: User, alert: Alert) -> str:
    try:
        apply_action(
            alert.status,  # type: ignore[arg-type]
            alert.kind,  # type: ignore[arg-type]
            "unsnooze",
            snoozed=alert.is_snoozed,
        )
    except TransitionError as problem:
        return str(problem).capitalize() + "."
    until = alert.snoozed_until
    alert.snoozed_until = None
    alert.save(update_fields=["snoozed_until", "updated_at"])
    AlertNote.objects.create(alert=alert, author=user, action="unsnooze", text="")
    log_event(
        "care.alert.unsnooze",
        obj=alert,
        data={"kind": alert.kind, "was_until": until.isoformat() if until else None},
    )
    return ""


@login_required
@never_cache
@require_POST
def alert_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    """Snooze a non-risk alert for the chosen period, with a reason (the therapist's only)."""
    user: User = request.user  # type: ignore[assignment]
    alert = _alert_or_404(user, pk)
    form = SnoozeForm(request.POST, alert=alert)
    error = _once(
        form,
        user,
        alert,
        "snooze",
        lambda: _snooze(user, alert, form.cleaned_data["weeks"], form.cleaned_data["reason"]),
    )
    return _answer(request, user, alert, "snooze", error, _back(alert))


@login_required
@never_cache
@require_POST
def alert_unsnooze(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring a snoozed alert back on the caseload now."""
    user: User = request.user  # type: ignore[assignment]
    alert = _alert_or_404(user, pk)
    form = UnsnoozeForm(request.POST)
    error = _once(form, user, alert, "unsnooze", lambda: _unsnooze(user, alert))
    return _answer(request, user, alert, "unsnooze", error, _back(alert))


def _once(
    form: SnoozeForm | UnsnoozeForm,
    user: User,
    alert: Alert,
    action: str,
    carry_out: Callable[[], str],
) -> str:
    """Validate, claim the submission (a double submit stores once: the repeat finds the claim and
    changes nothing), check the action is allowed to this user now, and carry it out; the error
    to show, or ""."""
    if not form.is_valid():
        return form.problem()
    with transaction.atomic():
        if once.claim(form, user, f"care.alert.{action}") is not None:
            alert.refresh_from_db()
            return ""
        # Two different forms sent at once (two tabs): the second waits, then sees the first's
        # result, so it is refused rather than stored again.
        list(Alert.objects.select_for_update().filter(pk=alert.pk).values_list("pk"))
        alert.refresh_from_db()
        if action in actions_for(user, alert):
            error = carry_out()
        elif action == "snooze" and alert.kind in UNSNOOZABLE_KINDS:
            error = _("A risk alert can never be snoozed: it stays on the caseload until acted on.")
        else:
            error = _("That is not possible for this alert any more.")
        if error:
            transaction.set_rollback(True)  # a refused action leaves no claim behind
        else:
            once.remember(form, _back(alert))
    return error


def _back(alert: Alert) -> str:
    return f"{_client_url(alert)}#alert-{alert.pk}"


def _client_url(alert: Alert) -> str:
    return reverse("client_detail", args=[alert.episode.client.code])
