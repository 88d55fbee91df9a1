"""Who may see what. Every clinical view goes through these functions.

- A therapist sees their own episodes (and, through them, those clients).
- A supervisor sees their supervisees' episodes, and only the reflections shared with them.
- An administrator sees no clinical record: users, settings, audit and aggregates only.

Anything not visible answers 404 (never 403): a 403 would confirm that the client exists.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from alliance.accounts.models import Supervision, User
from alliance.care.models import Alert, Appointment, Client, Episode, Reflection


def supervisee_ids(user: User) -> QuerySet[Supervision, int]:
    return Supervision.objects.filter(supervisor=user).values_list("therapist_id", flat=True)


def _episode_filter(user: User, prefix: str = "") -> Q:
    return Q(**{f"{prefix}therapist": user}) | Q(**{f"{prefix}therapist__in": supervisee_ids(user)})


def episodes_visible_to(user: User) -> QuerySet[Episode]:
    if not user.is_authenticated or not user.is_clinician:
        return Episode.objects.none()
    return Episode.objects.filter(_episode_filter(user))


def clients_visible_to(user: User) -> QuerySet[Client]:
    if not user.is_authenticated or not user.is_clinician:
        return Client.objects.none()
    return Client.objects.filter(episodes__in=episodes_visible_to(user)).distinct()


def reflections_visible_to(user: User) -> QuerySet[Reflection]:
    if not user.is_authenticated or not user.is_clinician:
        return Reflection.objects.none()
    return Reflection.objects.filter(
        Q(therapist=user) | Q(therapist__in=supervisee_ids(user), shared_with_supervisor=True)
    )


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    if not user.is_authenticated or not user.is_clinician:
        return Alert.objects.none()
    return Alert.objects.filter(_episode_filter(user, "episode__"))


def get_client_or_404(user: User, code: str) -> Client:
    try:
        return clients_visible_to(user).get(code=code)
    except Client.DoesNotExist:
        raise Http404("No such client") from None


def get_episode_or_404(user: User, pk: int) -> Episode:
    try:
        return episodes_visible_to(user).select_related("client", "therapist").get(pk=pk)
    except Episode.DoesNotExist:
        raise Http404("No such episode") from None


def is_own_episode(user: User, episode: Episode) -> bool:
    """Changes (attendance, ratings, notes) are the treating therapist's; supervisors only read."""
    return episode.therapist_id == user.pk


def get_own_episode_or_404(user: User, pk: int) -> Episode:
    """The episode the user may change: theirs. Their supervisor reads it but gets 404 here."""
    episode = get_episode_or_404(user, pk)
    if not is_own_episode(user, episode):
        raise Http404("No such episode")
    return episode


def get_appointment_or_404(user: User, pk: int) -> Appointment:
    try:
        return (
            Appointment.objects.select_related("episode__client", "episode__therapist")
            .filter(episode__in=episodes_visible_to(user))
            .get(pk=pk)
        )
    except Appointment.DoesNotExist:
        raise Http404("No such appointment") from None


def get_own_appointment_or_404(user: User, pk: int) -> Appointment:
    """The appointment the user may change (see get_own_episode_or_404)."""
    appointment = get_appointment_or_404(user, pk)
    if not is_own_episode(user, appointment.episode):
        raise Http404("No such appointment")
    return appointment
