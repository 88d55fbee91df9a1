"""Every email Alliance sends goes through this outbox: stored first, sent by a job, sent once.

Why an outbox: a message is written in the same transaction as the change that calls for it (an alert,
an escalation, a check-in link), so it is never lost when the mail server or the worker is down, and
never sent for a change that rolled back. Delivery happens after commit (a django-tasks job) and again
from the scheduler's sweep (`alliance.operations.clock.tick`), so it does not depend on the task queue.

The rules
---------

* **One message per key.** `queue(key, ...)` stores a message once per key (``reminder:<appointment>:
  <scheduled time>``, ``alert-urgent:<alert>`` ...); asking again returns the stored row.
* **One sender per message.** `deliver(pk)` claims the row with a conditional UPDATE (pending and due ->
  sending, with `claimed_at` and `claimed_by`); a second worker on another server finds nothing to
  claim. Safe on SQLite and on PostgreSQL; no lock is held while the mail server is talked to.
* **Still wanted?** Just before sending, a client-facing message is checked again (appointment
  cancelled or moved, started already, consent withdrawn, address changed): if no longer wanted it is
  `cancelled`, not sent.
* **Retry with back-off.** A send that raises goes back to pending with ``attempts + 1`` and
  ``not_before = now + backoff(attempts)`` (1, 2, 4 ... minutes, capped at 60); after `MAX_ATTEMPTS`
  it is `failed`, logged at ERROR, and counted by `problems()` (the administrator's clinic page shows
  it).
* **A sender killed mid-send** leaves its row in `sending`. After `SENDING_LEASE` nobody can know
  whether the mail server accepted the message, so the kind decides:

  - urgent kinds (`AT_LEAST_ONCE`: risk alerts, both escalations, client concerns) go back to pending
    and are sent again: **at least once** — a risk must reach a human, and a second copy to a member
    of staff costs nothing;
  - every other kind (reminders and check-in links to clients, non-urgent alert mail, digests) becomes
    `uncertain` and is never resent: **at most once** — a client never gets the same reminder twice.

Nothing here logs an address or a body: subjects carry no name or clinical content by design, and
`last_error` holds the exception class and a short message only.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(minutes=60)
# How long a claimed row may stay in `sending` before its sender is presumed dead. An SMTP exchange
# takes seconds (EMAIL_TIMEOUT is 20 s), so ten minutes is never a live sender.
SENDING_LEASE = timedelta(minutes=10)
# Rows handled per scheduler sweep; the rest wait for the next round (a minute later).
SWEEP_BATCH = 50
# A pending message older than this is overdue: something (worker, scheduler) is not running.
OVERDUE = timedelta(minutes=15)
# How far back problems() counts failures and uncertain sends.
PROBLEM_WINDOW = timedelta(days=7)

AT_LEAST_ONCE = frozenset(
    {
        EmailKind.ALERT_URGENT,
        EmailKind.ESCALATION_SUPERVISOR,
        EmailKind.ESCALATION_ADMINISTRATOR,
        EmailKind.CONCERN,
    }
)
CLIENT_FACING = frozenset({EmailKind.CHECKIN_LINK, EmailKind.REMINDER, EmailKind.MEASURE_NUDGE})


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed send: 1, 2, 4 ... minutes, never more than an hour."""
    if attempts < 1:
        return timedelta(0)
    # Capping the exponent first keeps the arithmetic small whatever the count.
    return min(FIRST_BACKOFF * (2 ** min(attempts - 1, 16)), MAX_BACKOFF)


def sender_name() -> str:
    """Who claimed a row: host, process and thread, so a log line can tell two senders apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def queue(
    key: str,
    kind: str,
    recipients: Iterable[str],
    subject: str,
    body: str,
    *,
    client_id: int | None = None,
    appointment_id: int | None = None,
    alert_id: int | None = None,
    compose: Callable[[], tuple[str, str]] | None = None,
) -> OutboundEmail | None:
    """Store the message once per key and have it delivered after the current transaction commits.

    Returns the stored row (the earlier one when the key was queued before), or None when there is no
    one to send it to. Safe inside or outside a transaction, and when two callers race on one key.
    `compose`, if given, makes (subject, body) only when the key is new, in the same transaction:
    for content with a side effect, such as a fresh check-in link, that must happen once.
    """
    to = sorted({r.strip() for r in recipients if r and r.strip()})
    if not to:
        logger.error("No recipient for %s email %s: not queued", kind, key)
        return None
    defaults = {
        "kind": kind,
        "recipients": "\n".join(to),
        "subject": " ".join(subject.split()),
        "body": body,
        "client_id": client_id,
        "appointment_id": appointment_id,
        "alert_id": alert_id,
        "not_before": timezone.now(),
        "created_at": timezone.now(),
    }
    try:
        # A savepoint, so that losing a race on the unique key does not break the caller's transaction.
        with transaction.atomic():
            row, created = OutboundEmail.objects.get_or_create(key=key[:200], defaults=defaults)
            if created and compose is not None:
                row.subject, row.body = compose()
                row.subject = " ".join(row.subject.split())
                row.save(update_fields=["subject", "body"])
    except IntegrityError:
        row, created = OutboundEmail.objects.get(key=key[:200]), False
    if created:
        pk = row.pk
        transaction.on_commit(lambda: _schedule(pk), robust=True)
    return row


def _schedule(pk: int) -> None:
    # Imported here: the job module imports this one.
    from alliance.operations.tasks import deliver_email

    try:
        deliver_email.enqueue(pk)
    except Exception:
        # The row is stored; the scheduler's sweep sends it within a minute.
        logger.exception("Could not enqueue delivery of email %s; the sweep will send it", pk)


def deliver(pk: int, now: datetime | None = None) -> str:
    """Send one stored message if it is due and nobody else holds it; returns its status afterwards
    ("" when there was nothing to claim)."""
    now = now or timezone.now()
    me = sender_name()
    claimed = OutboundEmail.objects.filter(
        pk=pk, status=EmailStatus.PENDING, not_before__lte=now
    ).update(status=EmailStatus.SENDING, claimed_at=now, claimed_by=me)
    if not claimed:
        return ""
    row = OutboundEmail.objects.get(pk=pk)
    mine = OutboundEmail.objects.filter(pk=pk, status=EmailStatus.SENDING, claimed_at=now)
    reason = _why_unwanted(row, now)
    if reason:
        mine.update(status=EmailStatus.CANCELLED, last_error=reason[:300])
        logger.info("Email %s (%s) cancelled: %s", pk, row.kind, reason)
        return EmailStatus.CANCELLED
    try:
        EmailMessage(
            row.subject, row.body, settings.DEFAULT_FROM_EMAIL, row.recipients.splitlines()
        ).send()
    except Exception as exc:
        return _failed(row, now, exc)
    mine.update(
        status=EmailStatus.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    logger.info("Email %s (%s) sent", pk, row.kind)
    return EmailStatus.SENT


def _failed(row: OutboundEmail, claimed_at: datetime, exc: Exception) -> str:
    attempts = row.attempts + 1
    # Class and message only; an SMTP refusal may quote the address, so it is cut short.
    error = f"{type(exc).__name__}: {exc}"[:120]
    mine = OutboundEmail.objects.filter(
        pk=row.pk, status=EmailStatus.SENDING, claimed_at=claimed_at
    )
    if attempts >= MAX_ATTEMPTS:
        mine.update(status=EmailStatus.FAILED, attempts=attempts, last_error=error)
        logger.error(
            "GAVE UP on %s email %s after %d attempts (%s); see the clinic page",
            row.kind,
            row.pk,
            attempts,
            type(exc).__name__,
        )
        return EmailStatus.FAILED
    mine.update(
        status=EmailStatus.PENDING,
        attempts=attempts,
        not_before=timezone.now() + backoff(attempts),
        last_error=error,
    )
    logger.warning(
        "Could not send %s email %s (attempt %d, %s); retrying in %s",
        row.kind,
        row.pk,
        attempts,
        type(exc).__name__,
        backoff(attempts),
    )
    return EmailStatus.PENDING


def _why_unwanted(row: OutboundEmail, now: datetime) -> str:
    if row.kind not in CLIENT_FACING:
        return ""
    # Imported here: care depends on the outbox, and this is the one question the outbox asks back.
    from alliance.care.reminders import why_unwanted

    return why_unwanted(row, now)


def recover_stuck(now: datetime | None = None) -> dict[str, int]:
    """Rows left in `sending` past the lease by a sender that died: urgent kinds back to pending
    (at least once), every other kind to `uncertain` (at most once). See the module docstring."""
    now = now or timezone.now()
    stuck = OutboundEmail.objects.filter(
        status=EmailStatus.SENDING, claimed_at__lt=now - SENDING_LEASE
    )
    requeued = uncertain = 0
    for row in stuck.only("pk", "kind", "attempts", "claimed_at", "claimed_by"):
        same = OutboundEmail.objects.filter(
            pk=row.pk, status=EmailStatus.SENDING, claimed_at=row.claimed_at
        )
        if row.kind in AT_LEAST_ONCE and row.attempts + 1 < MAX_ATTEMPTS:
            requeued += same.update(
                status=EmailStatus.PENDING,
                attempts=row.attempts + 1,
                not_before=now,
                last_error=f"sender {row.claimed_by} stopped mid-send; sending again"[:300],
            )
            logger.warning("Urgent email %s was left mid-send; sending it again", row.pk)
        elif row.kind in AT_LEAST_ONCE:
            if same.update(status=EmailStatus.FAILED, last_error="senders kept stopping mid-send"):
                logger.error("GAVE UP on urgent email %s: senders kept stopping mid-send", row.pk)
        else:
            uncertain += same.update(
                status=EmailStatus.UNCERTAIN,
                last_error=f"sender {row.claimed_by} stopped mid-send; not resent"[:300],
            )
            logger.warning(
                "Email %s (%s) was left mid-send; it may or may not have gone out and is not resent",
                row.pk,
                row.kind,
            )
    return {"requeued": requeued, "uncertain": uncertain}


def sweep(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Deliver due pending rows (the scheduler's safety net for jobs that never ran); returns how
    many were sent."""
    now = now or timezone.now()
    due = list(
        OutboundEmail.objects.filter(status=EmailStatus.PENDING, not_before__lte=now)
        .order_by("not_before")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if deliver(pk, now) == EmailStatus.SENT)


def problems(now: datetime | None = None) -> dict[str, int]:
    """Counts for the administrator's clinic page and `alliance check` (all zero when all is well):

    - ``failed``: gave up after retries in the last 7 days; ``failed_urgent``: of which risk alerts,
      escalations or concerns (these must be followed up by hand);
    - ``uncertain``: a sender stopped mid-send in the last 7 days (not resent);
    - ``stuck``: in `sending` past the lease (the next scheduler round resolves them);
    - ``overdue``: due more than 15 minutes ago and still waiting (no worker or scheduler running?).
    """
    now = now or timezone.now()
    recent = OutboundEmail.objects.filter(created_at__gte=now - PROBLEM_WINDOW)
    failed = recent.filter(status=EmailStatus.FAILED)
    return {
        "failed": failed.count(),
        "failed_urgent": failed.filter(kind__in=AT_LEAST_ONCE).count(),
        "uncertain": recent.filter(status=EmailStatus.UNCERTAIN).count(),
        "stuck": OutboundEmail.objects.filter(
            status=EmailStatus.SENDING, claimed_at__lt=now - SENDING_LEASE
        ).count(),
        "overdue": OutboundEmail.objects.filter(
            status=EmailStatus.PENDING, not_before__lt=now - OVERDUE
        ).count(),
    }


def cancel(key_prefix: str, reason: str, keep: str = "") -> int:
    """Cancel pending messages whose key starts with `key_prefix` (except `keep`): a moved
    appointment's old reminder, for example."""
    pending = OutboundEmail.objects.filter(
        key__startswith=key_prefix, status=EmailStatus.PENDING
    ).exclude(key=keep)
    return pending.update(status=EmailStatus.CANCELLED, last_error=reason[:300])
