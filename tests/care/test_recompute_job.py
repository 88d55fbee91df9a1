"""The alert recompute's job row is written in the transaction of the change that needs it, when jobs
live in the database (alliance.care.tasks.schedule_recompute): it commits, or rolls back, with the
change, so a crash in between cannot lose the recompute."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from alliance.care.tasks import schedule_recompute
from tests import factories

IN_DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


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
