"""Giving a client their check-in link: a fresh link, by email (with consent), and its state.

Tokens are never stored, so a link cannot be re-sent: every send or "new link" creates a fresh one, and
the appointment's earlier links that the client never opened are revoked (an opened link keeps working,
so a client half-way through their answers is not cut off). Links carry the address the server was
reached on (request.build_absolute_uri); jobs without a request use settings.SITE_URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care.models import Appointment, Client, ClinicSettings, Language
from alliance.checkin.copy import supported
from alliance.checkin.links import create_link
from alliance.checkin.models import CheckinLink
from alliance.operations import outbox
from alliance.operations.models import EmailKind

# Used when the clinic has not written its own wording (ClinicSettings.checkin_email_*). No clinical
# content, and never the client's name: an email may be read over a shoulder or on a shared device.
# In the client's language (`compose`), with the context "client email": clients read it, and it is
# reviewed with the client pages' wording.
DEFAULT_SUBJECT: Final = pgettext_lazy("client email", "Your session check-in from {clinic}")
DEFAULT_BODY: Final = pgettext_lazy(
    "client email",
    "Hello,\n\nHere is your link for the short questions before and after your next session:\n\n{link}\n\nIt takes a few minutes and works on a phone. The link is personal: please do not forward it.\n\n{clinic}",
)


def why_not_email(client: Client) -> str:
    """Empty when the link may be emailed; otherwise the reason, for the page."""
    if not client.email_consent:
        return _("The client has not agreed to receive check-in links by email.")
    if not client.email.strip():
        return _("The client's record has no email address.")
    return ""


def _fill(template: str, link: str, clinic: str) -> str:
    # Plain replacement, not str.format: a clinic's wording may contain other braces.
    return template.replace("{clinic}", clinic).replace("{link}", link)


def compose(client: Client, clinic_settings: ClinicSettings, link: str) -> tuple[str, str]:
    """Subject and body in the client's preferred language, from the clinic's wording or ours."""
    lang = supported(client.preferred_language)
    clinic = settings.ALLIANCE_CLINIC_NAME
    with translation.override(lang):
        default_subject, default_body = str(DEFAULT_SUBJECT), str(DEFAULT_BODY)
    subject = clinic_settings.checkin_email_subject.strip() or default_subject
    body_setting = (
        clinic_settings.checkin_email_body_es
        if lang == Language.SPANISH
        else clinic_settings.checkin_email_body_en
    )
    body = body_setting.strip() or default_body
    if "{link}" not in body:
        # The clinic's wording forgot the link (the settings form refuses this; older rows may not).
        body = f"{body}\n\n{{link}}"
    # A subject line is one line, and never carries the link.
    subject = " ".join(_fill(subject, "", clinic).split())
    return subject, _fill(body, link, clinic)


def fresh_link(appointment: Appointment, user: User | None) -> tuple[CheckinLink, str]:
    """Revoke the appointment's links the client never opened, then create a new one."""
    now = timezone.now()
    CheckinLink.objects.filter(
        appointment=appointment, revoked_at__isnull=True, first_opened_at__isnull=True
    ).update(revoked_at=now)
    link, token = create_link(appointment, created_by=user)
    log_event("checkin.link.created", obj=link, client_id=appointment.episode.client_id)
    return link, token


def send_link(
    appointment: Appointment, user: User | None, url_for: Callable[[str], str]
) -> CheckinLink:
    """Email a fresh link to the client through the outbox (alliance.operations.outbox): stored in
    this transaction, sent once after it commits, retried if the mail server is away. `sent_at`
    records when it was handed to the outbox."""
    client = appointment.episode.client
    reason = why_not_email(client)
    if reason:
        raise ValueError(reason)
    link, token = fresh_link(appointment, user)
    subject, body = compose(client, ClinicSettings.load(), url_for(token))
    outbox.queue(
        f"checkin-link:{link.pk}",
        EmailKind.CHECKIN_LINK,
        [client.email],
        subject,
        body,
        client_id=client.pk,
        appointment_id=appointment.pk,
    )
    link.sent_at = timezone.now()
    link.send_count += 1
    link.save(update_fields=["sent_at", "send_count"])
    # Never the address: the audit trail says that a link went out, not where.
    log_event("checkin.link.sent", obj=link, client_id=client.pk, data={"link": link.pk})
    return link


_LABELS = {
    "revoked": gettext_lazy("revoked"),
    "expired": gettext_lazy("expired"),
    "opened": gettext_lazy("opened, still valid"),
    "waiting": gettext_lazy("not opened yet"),
}


@dataclass(frozen=True)
class LinkState:
    created_at: datetime
    key: str  # "revoked", "expired", "opened" or "waiting"
    label: str
    sent_at: datetime | None
    send_count: int
    opened_at: datetime | None
    expires_at: datetime


def link_states(links: Iterable[CheckinLink], now: datetime | None = None) -> list[LinkState]:
    now = now or timezone.now()
    states = []
    for link in links:
        if link.revoked_at is not None:
            key = "revoked"
        elif link.is_expired(now):
            key = "expired"
        elif link.first_opened_at is not None:
            key = "opened"
        else:
            key = "waiting"
        states.append(
            LinkState(
                created_at=link.created_at,
                key=key,
                label=str(_LABELS[key]),
                sent_at=link.sent_at,
                send_count=link.send_count,
                opened_at=link.first_opened_at,
                expires_at=link.expires_at,
            )
        )
    return states
