"""Creating and resolving check-in links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.db import connection
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care.models import Appointment, ClinicSettings
from alliance.checkin import lookup, tokens
from alliance.checkin.models import CheckinLink
from alliance.core import chain, deferred

# A form opened before the link expired may be sent up to this long afterwards (issue #4: "a submission
# that arrives just after expiry but began before it is accepted"). Long enough for a slow phone on a
# train; short enough that an old open tab cannot be used days later.
LATE_SUBMISSION_GRACE = timedelta(hours=2)


class LinkProblem(Enum):
    NOT_FOUND = "not_found"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Resolved:
    link: CheckinLink | None
    problem: LinkProblem | None
    # Read with the link (alliance.checkin.lookup), so the pages need no more queries for their steps.
    goal_count: int = 0
    answered: frozenset[str] = frozenset()


def expiry_for(appointment: Appointment) -> datetime:
    hours = ClinicSettings.load().checkin_link_hours
    return appointment.scheduled_at + timedelta(hours=hours)


def create_link(
    appointment: Appointment, created_by: User | None = None
) -> tuple[CheckinLink, str]:
    """Return the link and its token. The token is shown once (URL, QR code, email) and never stored."""
    token = tokens.new_token()
    link = CheckinLink.objects.create(
        appointment=appointment,
        token_digest=tokens.digest(token),
        created_by=created_by,
        expires_at=expiry_for(appointment),
    )
    return link, token


def resolve(
    token: str, *, started_at: datetime | None = None, mark_opened: bool = True
) -> Resolved:
    """Find the link for a token. `started_at` (when the client opened the form, from a signed field)
    lets a submission that began before expiry through, within the grace period. `mark_opened=False`
    leaves recording the first opening to the caller (`mark_opened`), so that a submission can do it
    in the transaction that stores the answers: one commit, not two."""
    if not tokens.looks_like_token(token):
        return Resolved(None, LinkProblem.NOT_FOUND)
    found = lookup.find(tokens.digest(token))
    if found is None:
        return Resolved(None, LinkProblem.NOT_FOUND)
    link = found.link
    if not tokens.matches(token, link.token_digest) or link.is_revoked:
        return Resolved(None, LinkProblem.NOT_FOUND)
    now = timezone.now()
    if link.is_expired(now):
        began_in_time = started_at is not None and started_at < link.expires_at
        if not (began_in_time and now - link.expires_at <= LATE_SUBMISSION_GRACE):
            return Resolved(link, LinkProblem.EXPIRED)
    if mark_opened:
        record_opening(link, now, soon=True)
    return Resolved(link, None, found.goal_count, found.answered)


def record_opening(link: CheckinLink, now: datetime | None = None, *, soon: bool = False) -> None:
    """Note when the link was first opened (once: a later opening changes nothing). `soon`: a page
    that only reads may leave it to the next batch of deferred writes (alliance.core.deferred)."""
    opening = opening_part(link, now)
    if opening is None:
        return
    if soon and deferred.enabled() and not connection.in_atomic_block:
        deferred.write(opening.sql, list(opening.params))
        return
    with connection.cursor() as cursor:
        cursor.execute(opening.sql, opening.params)


def opening_part(link: CheckinLink, now: datetime | None = None) -> chain.Part | None:
    """`record_opening`'s UPDATE, to be run by the caller (as a part of a chain: alliance.core.chain);
    None when the link was opened before. The link's `first_opened_at` is set now."""
    if link.first_opened_at is not None:
        return None
    link.first_opened_at = now or timezone.now()
    field = CheckinLink._meta.get_field("first_opened_at")
    quote = connection.ops.quote_name
    # Written by hand, not with a queryset's update(): a submission runs this inside its write
    # transaction, where the ORM's compilation was a tenth of the time the database stays locked.
    statement = (
        f"UPDATE {quote(CheckinLink._meta.db_table)} SET {quote(field.column)} = %s "  # noqa: S608
        f"WHERE {quote('id')} = %s AND {quote(field.column)} IS NULL"
    )
    return chain.Part(
        "opening", statement, [field.get_db_prep_save(link.first_opened_at, connection), link.pk]
    )


def revoke(link: CheckinLink) -> None:
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
