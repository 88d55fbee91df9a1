"""The client page's upcoming sessions, with their move and cancel links."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care import access
from alliance.care.models import Attendance, Episode

register = template.Library()


@register.inclusion_tag("care/schedule/_upcoming.html")
def upcoming_sessions(episode: Episode, user: User) -> dict[str, Any]:
    """Reads the episode's prefetched appointments, so it adds no query to the client page. Only the
    treating therapist gets the move and cancel links (supervisors read)."""
    now = timezone.now()
    upcoming = [
        a
        for a in episode.appointments.all()
        if a.attendance == Attendance.SCHEDULED and a.scheduled_at > now
    ]
    upcoming.sort(key=lambda a: a.scheduled_at)
    can_change = access.is_own_episode(user, episode)
    return {"episode": episode, "upcoming": upcoming, "can_change": can_change}
