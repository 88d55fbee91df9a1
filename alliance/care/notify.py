"""Emails to staff. Subjects and bodies carry no client name or answer: only that something needs
attention, the pseudonymous client code, and a link into Alliance (where access control applies)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from alliance.accounts.models import Role, Supervision, User
from alliance.care.models import Alert

logger = logging.getLogger(__name__)


def send(subject: str, body: str, recipients: Iterable[str]) -> None:
    to = sorted({r for r in recipients if r})
    if not to:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except OSError:
        # The alert is already stored and shown in the app; a mail server outage must not undo that.
        logger.exception("Could not send %r", subject)


def risk_alerts(alerts: Iterable[Alert]) -> None:
    for alert in alerts:
        episode = alert.episode
        url = settings.SITE_URL + reverse("client_detail", args=[episode.client.code])
        send(
            f"[{settings.ALLIANCE_CLINIC_NAME}] Urgent: a client answered a risk question",
            "A client on your caseload gave an answer that needs your attention today.\n\n"
            f"Client: {episode.client.code}\nOpen Alliance: {url}\n",
            [episode.therapist.email],
        )


def supervisors_of(therapist: User) -> list[User]:
    return [
        link.supervisor
        for link in Supervision.objects.filter(
            therapist=therapist, supervisor__is_active=True
        ).select_related("supervisor")
    ]


def concern_recipients(therapist: User) -> list[User]:
    """Supervisors of the therapist and every active administrator; never the therapist."""
    people = supervisors_of(therapist) + list(
        User.objects.filter(role=Role.ADMINISTRATOR, is_active=True)
    )
    return [p for p in people if p.pk != therapist.pk]


def concern_raised(concern: object) -> None:
    from alliance.checkin.models import Concern

    assert isinstance(concern, Concern)
    therapist = concern.episode.therapist
    url = settings.SITE_URL + reverse("concern_detail", args=[concern.pk])
    send(
        f"[{settings.ALLIANCE_CLINIC_NAME}] A client has raised a concern with the clinic",
        "A client has used the 'raise a concern' form. It is addressed to the clinic, not to their "
        "therapist, and the therapist has not been told.\n\n"
        f"{'The client says they feel unsafe with their therapist.' if concern.feels_unsafe else ''}\n"
        f"Read it in Alliance: {url}\n",
        [person.email for person in concern_recipients(therapist)],
    )
