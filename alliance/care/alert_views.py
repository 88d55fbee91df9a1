"""The life of an alert, as the therapist drives it: acknowledge, record the repair conversation,
close with a reason. Each action goes through a Django form (what it needs), is validated by
alliance.alerts.apply_action (whether the alert's state allows it) and audited.

A refused action always says why: in place, with the alert's own box re-rendered (htmx), or as a
message on the client page it returns to. htmx does not swap a 4xx response, so the refused box is
sent with 200: a 400 there was the silent failure the therapist saw.
"""

from __future__ import annotations

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
from alliance.care import access
from alliance.care.caseload_forms import CLOSE_REASONS, AlertActionForm
from alliance.care.models import Alert, AlertNote
from alliance.core import once

__all__ = ["CLOSE_REASONS", "actions_for", "alert_action"]

# Supervisors may acknowledge (an escalated risk alert reaches them); the rest is the therapist's.
SUPERVISOR_ACTIONS = {"acknowledge"}


def _alert_or_404(user: User, pk: int) -> Alert:
    try:
        return access.alerts_visible_to(user).select_related("episode__client").get(pk=pk)
    except Alert.DoesNotExist:
        raise Http404 from None


def actions_for(user: User, alert: Alert) -> list[str]:
    allowed: list[str] = list(allowed_actions(alert.status, alert.kind))  # type: ignore[arg-type]
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
                if action not in actions_for(user, alert):
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


def _client_url(alert: Alert) -> str:
    return reverse("client_detail", args=[alert.episode.client.code])
