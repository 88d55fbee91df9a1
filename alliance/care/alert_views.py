"""The life of an alert, as the therapist drives it: acknowledge, record the repair conversation,
close with a reason. Each action is validated by alliance.alerts.apply_action and audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.alerts import TransitionError, allowed_actions, apply_action
from alliance.care import access
from alliance.care.models import Alert, AlertNote

CLOSE_REASONS = [
    ("addressed", "Addressed with the client"),
    ("not_relevant", "Not clinically relevant on review"),
    ("client_ended", "The client has ended therapy"),
    ("duplicate", "Duplicate of another alert"),
    ("other", "Other (say why in the note)"),
]
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


@login_required
@require_POST
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = _alert_or_404(user, pk)
    note = request.POST.get("note", "").strip()
    reason = request.POST.get("reason", "").strip()
    error = ""
    if action not in actions_for(user, alert):
        error = "That is not possible for this alert any more."
    elif action == "close" and reason not in dict(CLOSE_REASONS):
        error = "Choose a reason for closing the alert."
    else:
        try:
            new_status = apply_action(
                alert.status,  # type: ignore[arg-type]
                alert.kind,  # type: ignore[arg-type]
                action,  # type: ignore[arg-type]
                note=note or None,
                reason=reason or None,
            )
        except TransitionError as problem:
            error = str(problem).capitalize() + "."
        else:
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
            log_event(
                f"care.alert.{action}", obj=alert, data={"status": new_status, "kind": alert.kind}
            )
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "care/_alert.html",
            {
                "alert": alert,
                "actions": actions_for(user, alert),
                "error": error,
                "reasons": CLOSE_REASONS,
            },
            status=400 if error else 200,
        )
    if error:
        from django.contrib import messages

        messages.error(request, error)
    return redirect(f"{_client_url(alert)}#alert-{alert.pk}")


def _client_url(alert: Alert) -> str:
    from django.urls import reverse

    return reverse("client_detail", args=[alert.episode.client.code])
