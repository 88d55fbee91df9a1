"""A worker killed mid-job loses nothing: the scheduler requeues a job left running by a worker with no
fresh heartbeat (never one whose worker is alive), and the rerun sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from alliance.operations import recovery
from alliance.operations.clock import tick
from alliance.operations.heartbeat import Heart, process_name
from alliance.operations.models import EmailKind, EmailStatus, OutboundEmail, ProcessRole
from alliance.operations.outbox import SENDING_LEASE, queue
from alliance.operations.tasks import deliver_email

DB_TASKS = {"default": {"BACKEND": "alliance.operations.task_backend.DatabaseBackend"}}
DEAD = "worker:gone-host:4242"


def _left_running(pk: int, started_minutes_ago: float, worker: str = DEAD) -> DBTaskResult:
    """A deliver job claimed by `worker`, which then stopped (killed, machine lost)."""
    deliver_email.enqueue(pk)
    job = DBTaskResult.objects.get()
    job.claim(worker)
    DBTaskResult.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago)
    )
    return job


def _run_worker() -> None:
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=recovery.worker_id(),
        excluded_queue_names=[],
    ).run()


def test_the_worker_id_is_the_heartbeats_name() -> None:
    assert recovery.worker_id() == process_name(ProcessRole.WORKER)
    assert recovery.worker_id("h", 7) == "worker:h:7"
    assert len(recovery.worker_id("x" * 300, 1)) == recovery.WORKER_ID_MAX


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS)
def test_only_jobs_of_dead_workers_past_the_lease_are_requeued() -> None:
    row = queue("k", EmailKind.ALERT_URGENT, ["t@clinic.test"], "S", "B")
    assert row is not None
    young = _left_running(row.pk, started_minutes_ago=5)
    assert recovery.requeue_orphaned_jobs() == 0  # within the lease: maybe still working
    DBTaskResult.objects.filter(pk=young.pk).update(
        started_at=timezone.now() - recovery.JOB_LEASE - timedelta(minutes=1)
    )
    alive = Heart(ProcessRole.WORKER, name=DEAD)
    alive.beat()  # its worker is alive after all, on a long job
    assert recovery.requeue_orphaned_jobs() == 0
    alive.beat(timezone.now() - recovery.HEARTBEAT_STALE - timedelta(seconds=1))
    assert recovery.requeue_orphaned_jobs() == 1
    job = DBTaskResult.objects.get()
    assert job.status == "READY" and job.started_at is None
    assert recovery.requeue_orphaned_jobs() == 0  # once


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS)
def test_an_urgent_email_whose_worker_was_killed_mid_send_is_sent_once_after_restart() -> None:
    row = queue("alert-urgent:1", EmailKind.ALERT_URGENT, ["t@clinic.test"], "Urgent", "Body")
    assert row is not None
    # The job ran, claimed the message, and the worker was killed before the mail server answered.
    DBTaskResult.objects.all().delete()
    long_ago = timezone.now() - SENDING_LEASE - timedelta(minutes=1)
    job = _left_running(row.pk, started_minutes_ago=11)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.SENDING, claimed_at=long_ago, claimed_by=DEAD
    )
    done = tick()
    assert done["jobs_requeued"] == 1 and done["emails_recovered"] == 1
    assert done["emails_sent"] == 1  # the scheduler's sweep sent it at once
    _run_worker()  # the restarted worker runs the requeued job: nothing left to send
    tick()
    assert [m.subject for m in mail.outbox] == ["Urgent"]
    assert DBTaskResult.objects.get(pk=job.pk).status == "SUCCESSFUL"
    assert OutboundEmail.objects.get(pk=row.pk).status == EmailStatus.SENT


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS)
def test_jobs_queued_after_commit_are_run_by_the_worker_once_each() -> None:
    rows = [queue(f"k{n}", EmailKind.CONCERN, ["s@clinic.test"], f"S{n}", "B") for n in range(5)]
    assert all(rows)
    assert DBTaskResult.objects.filter(status="READY").count() == 5  # enqueued on commit
    _run_worker()
    _run_worker()  # a second worker finds nothing left
    assert sorted(m.subject for m in mail.outbox) == [f"S{n}" for n in range(5)]
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 5
