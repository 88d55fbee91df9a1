"""The outbox: stored once per key, sent after commit, claimed by one sender, retried with back-off,
given up on loudly, and recovered by kind when a sender dies mid-send."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import strategies as st

from alliance.operations import outbox
from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail
from alliance.operations.tasks import deliver_email, job_backoff, retrying

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "alliance.operations.task_backend.DatabaseBackend"}}


def _queue(key: str = "k1", kind: str = EmailKind.ALERT_URGENT) -> OutboundEmail:
    row = outbox.queue(key, kind, ["t@clinic.test"], "Subject", "Body")
    assert row is not None
    return row


def _refetch(row: OutboundEmail) -> OutboundEmail:
    return OutboundEmail.objects.get(pk=row.pk)


def test_one_message_per_key_and_none_without_recipients() -> None:
    first = _queue()
    again = outbox.queue("k1", EmailKind.ALERT_URGENT, ["x@clinic.test"], "Other", "Other")
    assert again is not None and again.pk == first.pk
    assert OutboundEmail.objects.count() == 1
    assert outbox.queue("k2", EmailKind.ALERT_URGENT, ["", "  "], "S", "B") is None


def test_delivered_after_commit_and_not_when_the_change_rolls_back(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            _queue("kept")
        try:
            with transaction.atomic():
                _queue("rolled-back")
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert [m.subject for m in mail.outbox] == ["Subject"]
    assert list(OutboundEmail.objects.values_list("key", "status")) == [("kept", "sent")]


def test_a_second_deliver_finds_nothing_to_claim() -> None:
    row = _queue()
    assert outbox.deliver(row.pk) == EmailStatus.SENT
    assert outbox.deliver(row.pk) == ""
    assert len(mail.outbox) == 1
    assert _refetch(row).attempts == 1


def test_a_failed_send_is_retried_with_back_off_then_sent() -> None:
    row = _queue()
    start = timezone.now()
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("refused")):
        assert outbox.deliver(row.pk, start) == EmailStatus.PENDING
    failed = _refetch(row)
    assert failed.attempts == 1 and "OSError" in failed.last_error
    assert failed.not_before >= start + timedelta(minutes=1)
    assert outbox.deliver(row.pk, start + timedelta(seconds=30)) == ""  # not due yet
    with time_machine.travel(start + timedelta(minutes=2)):
        assert outbox.sweep() == 1
    assert len(mail.outbox) == 1 and _refetch(row).status == EmailStatus.SENT


def test_after_max_attempts_it_fails_loudly_and_shows_in_problems(
    caplog: pytest.LogCaptureFixture,
) -> None:
    row = _queue()
    OutboundEmail.objects.filter(pk=row.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("refused")):
        assert outbox.deliver(row.pk) == EmailStatus.FAILED
    assert "GAVE UP" in caplog.text and "t@clinic.test" not in caplog.text
    assert outbox.problems()["failed"] == 1
    assert outbox.problems()["failed_urgent"] == 1


@pytest.mark.parametrize(
    ("kind", "after", "sends"),
    [
        (EmailKind.ALERT_URGENT, EmailStatus.SENT, 1),  # at least once: sent again
        (EmailKind.ESCALATION_SUPERVISOR, EmailStatus.SENT, 1),
        (EmailKind.REMINDER, EmailStatus.UNCERTAIN, 0),  # at most once: never resent
        (EmailKind.ALERT_DIGEST, EmailStatus.UNCERTAIN, 0),
    ],
)
def test_a_sender_killed_mid_send_is_recovered_by_kind(kind: str, after: str, sends: int) -> None:
    row = _queue(kind=kind)
    start = timezone.now()
    # A sender claimed the row and died before recording the outcome.
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.SENDING, claimed_at=start, claimed_by="dead:1:1"
    )
    assert outbox.recover_stuck(start + timedelta(minutes=5)) == {"requeued": 0, "uncertain": 0}
    assert outbox.problems(start + outbox.SENDING_LEASE + timedelta(minutes=1))["stuck"] == 1
    later = start + outbox.SENDING_LEASE + timedelta(minutes=1)
    outbox.recover_stuck(later)
    outbox.sweep(later)
    outbox.sweep(later + timedelta(hours=1))
    assert _refetch(row).status == after
    assert len(mail.outbox) == sends
    assert outbox.problems(later)["uncertain"] == (1 if after == EmailStatus.UNCERTAIN else 0)


@given(st.integers(min_value=1, max_value=10_000))
def test_back_off_doubles_from_a_minute_and_is_capped_at_an_hour(attempts: int) -> None:
    wait = outbox.backoff(attempts)
    assert timedelta(minutes=1) <= wait <= timedelta(minutes=60)
    assert wait == min(timedelta(minutes=2 ** (min(attempts, 8) - 1)), timedelta(minutes=60))
    assert outbox.backoff(attempts + 1) >= wait


@given(st.integers(min_value=1, max_value=10_000))
def test_job_back_off_is_capped_and_never_shrinks(attempt: int) -> None:
    assert timedelta(minutes=1) <= job_backoff(attempt) <= timedelta(minutes=30)
    assert job_backoff(attempt + 1) >= job_backoff(attempt)


@retrying(attempts=3)
def flaky_job(fail: bool) -> str:
    if fail:
        raise ValueError("broken")
    return "done"


def test_a_failing_job_is_enqueued_again_with_back_off_then_given_up() -> None:
    with override_settings(TASKS=DB_TASKS):
        start = timezone.now()
        assert flaky_job.call(True) is None  # attempt 1 failed: retried later, not raised
        (retry,) = DBTaskResult.objects.all()
        assert retry.args_kwargs["kwargs"] == {"attempt": 2}
        assert retry.run_after >= start + timedelta(minutes=1)
        assert flaky_job.call(True, attempt=2) is None
        assert DBTaskResult.objects.count() == 2
        with pytest.raises(ValueError, match="broken"):
            flaky_job.call(True, attempt=3)  # the last attempt fails for good
        assert DBTaskResult.objects.count() == 2
        assert flaky_job.call(False) == "done"


def test_a_failed_delivery_job_is_enqueued_for_when_the_message_is_next_due() -> None:
    row = _queue()
    with (
        override_settings(TASKS=DB_TASKS),
        mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("refused")),
    ):
        assert deliver_email.call(row.pk) == EmailStatus.PENDING
    (again,) = DBTaskResult.objects.all()
    assert again.args_kwargs["args"] == [row.pk]
    assert again.run_after >= _refetch(row).not_before - timedelta(seconds=1)


@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_over_the_same_messages_send_each_once() -> None:
    rows = [_queue(f"race:{n}") for n in range(30)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            start.wait()
            for row in rows:
                outbox.deliver(row.pk)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mail.outbox) == 30
    assert sorted(m.subject for m in mail.outbox) == ["Subject"] * 30
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
