"""Keeping stored alerts in step with the rules in alliance.alerts (filled in with the Alerts work)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from alliance.care.models import Alert, AlertKind, AlertSeverity, Response


def raise_risk_alerts(response: Response) -> list[Alert]:
    """Create the urgent alert for a risk answer at once, in the request that stored it."""
    flags = response.score.get("risk_flags", [])
    items = ", ".join(str(flag.get("item")) for flag in flags) or "a risk item"
    alert, created = Alert.objects.get_or_create(
        key=f"risk:ep{response.episode_id}:r{response.pk}",
        defaults={
            "episode_id": response.episode_id,
            "appointment_id": response.appointment_id,
            "kind": AlertKind.RISK,
            "severity": AlertSeverity.URGENT,
            "title": f"Risk answer on {response.instrument.upper()}",
            "explanation": f"The client answered {items} above 0 on {response.submitted_at:%d %b %Y}.",
            "evidence": {"response_id": response.pk, "flags": flags},
            "created_at": timezone.now(),
        },
    )
    return [alert] if created else []


def schedule_recompute(episode_id: int) -> None:
    transaction.on_commit(lambda: None)
