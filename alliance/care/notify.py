"""Emails to staff, through the outbox (alliance.operations.outbox). Subjects and bodies carry no
client name or answer: only that something needs attention, the pseudonymous client code, and a link
into Alliance (where access control applies)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from alliance.accounts.models import Role, Supervision, User
from alliance.care import alert_mail
from alliance.care.models import Alert
from alliance.core.mail_language import shared_language
from alliance.operations import outbox
from alliance.operations.models import EmailKind


def risk_alerts(alerts: Iterable[Alert]) -> None:
    """The therapist hears of a risk answer at once (alliance.care.alert_mail.urgent)."""
    alert_mail.urgent(alerts)


def supervisors_of(therapist: User) -> list[User]:
    return [
        link.supervisor
        for link in Supervision.objects.filter(
            therapist=therapist, supervisor__is_active=True
        ).select_related("supervisor")
    ]


def administrators() -> list[User]:
    return list(User.objects.filter(role=Role.ADMINISTRATOR, is_active=True))


def concern_recipients(therapist: User) -> list[User]:
    """Supervisors of the therapist and every active administrator; never the therapist."""
    people = supervisors_of(therapist) + administrators()
    return [p for p in people if p.pk != therapist.pk]


def concern_raised(concern: object) -> None:
    from alliance.checkin.models import Concern

    assert isinstance(concern, Concern)
    therapist = concern.episode.therapist
    url = settings.SITE_URL + reverse("concern_detail", args=[concern.pk])
    people = concern_recipients(therapist)
    # In the recipients' language (the clinic's default when they differ).
    with translation.override(shared_language(people)):
        subject = _("[%(clinic)s] A client has raised a concern with the clinic") % {
            "clinic": settings.ALLIANCE_CLINIC_NAME
        }
        unsafe = (
            _("The client says they feel unsafe with their therapist.")
            if concern.feels_unsafe
            else ""
        )
        body = (
            _(
                "A client has used the 'raise a concern' form. It is addressed to the clinic, not to "
                "their therapist, and the therapist has not been told."
            )
            + "\n\n"
            + unsafe
            + "\n"
            + _("Read it in Alliance: %(url)s") % {"url": url}
            + "\n"
        )
    # Keyed by the concern, so a repeated call (a retried request) emails it once.
    outbox.queue(
        f"concern:{concern.pk}",
        EmailKind.CONCERN,
        [person.email for person in people],
        subject,
        body,
        client_id=concern.episode.client_id,
    )
