"""The alert recompute's job row is written in the transaction of the change that needs it, when jobs
live in the database (alliance.care.tasks.schedule_recompute): it commits, or rolls back, with the
change, so a crash in between cannot lose the recompute."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from alliance.care.models import Respondent, ResponseSource
from alliance.care.responses import record_response
from alliance.care.tasks import prepare_recompute, schedule_recompute
from tests import factories

IN_DATABASE = {"default": {"BACKEND": "alliance.operations.task_backend.DatabaseBackend"}}


class Abandoned(Exception):
    pass


def _jobs() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="recompute_episode_alerts").count()


@pytest.mark.django_db
def test_the_job_rolls_back_with_the_change_and_commits_with_it() -> None:
    episode = factories.EpisodeFactory.create()
    with override_settings(TASKS=IN_DATABASE):
        with pytest.raises(Abandoned), transaction.atomic():
            schedule_recompute(episode.pk)
            assert _jobs() == 1  # written inside the transaction, not after it
            raise Abandoned
        assert _jobs() == 0
        with transaction.atomic():
            schedule_recompute(episode.pk)
        assert _jobs() == 1
        assert DBTaskResult.objects.get().args_kwargs["args"] == [episode.pk]


@pytest.mark.django_db(transaction=True)
def test_a_prepared_recompute_is_written_in_the_transaction_and_run_by_the_worker() -> None:
    from alliance.care.models import Alert
    from tests.operations.test_jobs_recovery import _run_worker

    appointment = factories.AppointmentFactory.create()
    episode = appointment.episode
    with override_settings(TASKS=IN_DATABASE):
        recompute = prepare_recompute(episode.pk)
        assert _jobs() == 0  # prepared, not written
        with pytest.raises(Abandoned), transaction.atomic():
            recompute.enqueue()
            raise Abandoned
        assert _jobs() == 0  # rolled back with the change
        recompute = prepare_recompute(episode.pk)
        with transaction.atomic():
            record_response(
                episode=episode,
                appointment=appointment,
                instrument_id="phq9",
                answers={str(n): 1 for n in range(1, 9)} | {"9": 2, "10": 1},
                respondent=Respondent.CLIENT,
                source=ResponseSource.CHECKIN,
            )
            recompute.enqueue()
        assert _jobs() == 1
        _run_worker()
    job = DBTaskResult.objects.get(task_path__endswith="recompute_episode_alerts")
    assert job.status == "SUCCESSFUL", job.traceback
    # The job recomputed the episode: the item-9 answer raised its risk alert, which it emailed.
    assert Alert.objects.filter(episode=episode, kind="risk").exists()
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_email").exists()
