"""django-tasks-db's database backend, writing each job's row with a prepared INSERT, and able to
prepare a job before the transaction that enqueues it.

Why: a client's check-in submission enqueues the job that recomputes the episode's alerts inside its
write transaction (alliance.care.tasks.schedule_recompute says why), and the library writes the row
with `DBTaskResult.objects.create()`, which compiles the INSERT again every time: about 0.25 ms while
the transaction holds SQLite's one writer, which every other submission waits for (issue 10, point 6).
The row here is the one the library builds (`DatabaseBackend._task_to_db_task` in django-tasks-db
0.13, the version pinned in the lock file), written by alliance.core.inserts, which keeps what
`create()` does: the pre_save signal that sets `run_after`, auto_now_add, the post_save signal.
`prepare()` does everything but the INSERT and the `task_enqueued` signal before the transaction;
`PreparedJob.enqueue()` does those two inside it. Everything else is the library's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_tasks_db
from django_tasks.base import Task, TaskResult
from django_tasks.signals import task_enqueued
from django_tasks_db.compat import normalize_json
from django_tasks_db.models import DBTaskResult

from alliance.core import chain
from alliance.core.inserts import RowInsert


@dataclass(frozen=True)
class PreparedJob:
    """A job's row, ready to be written: `enqueue()` once, inside the transaction it belongs to."""

    backend: DatabaseBackend
    row: DBTaskResult[Any, Any]
    insert: RowInsert
    result: TaskResult[Any]

    def enqueue(self) -> TaskResult[Any]:
        self.insert.execute()
        return self._enqueued()

    def part(self) -> chain.Part:
        """The job's INSERT as a part of a chain (alliance.core.chain); `chained()` once it ran."""
        return chain.Part("job", self.insert.sql, self.insert.params)

    def chained(self) -> TaskResult[Any]:
        """What `enqueue()` does after its INSERT, once the chain holding `part()` has run."""
        self.insert.written(())
        return self._enqueued()

    def _enqueued(self) -> TaskResult[Any]:
        task_enqueued.send(type(self.backend), task_result=self.result)
        return self.result


class DatabaseBackend(django_tasks_db.DatabaseBackend):
    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self._validated: set[Task[Any, Any]] = set()

    def validate_task(self, task: Task[Any, Any]) -> None:
        """The library's checks, once per task: they read only the task (a frozen dataclass, equal
        when its settings are) and this backend's own options, yet an enqueue ran them three times
        (`enqueue`, then `Task.using` inside `DBTaskResult.task_result`), inspecting the function's
        signature each time. Small (a prepared job costs 0.06 ms in a loop on one thread), but on
        every submission (issue 10, point 6)."""
        if task in self._validated:
            return
        super().validate_task(task)
        self._validated.add(task)

    def _row(self, task: Task[Any, Any], args: Any, kwargs: Any) -> DBTaskResult[Any, Any]:
        return DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            # None until the library's pre_save receiver sets "at once", as with create().
            run_after=task.run_after,  # type: ignore[misc]
            backend_name=self.alias,
        )

    def _task_to_db_task(
        self, task: Task[Any, Any], args: Any, kwargs: Any
    ) -> DBTaskResult[Any, Any]:
        row = self._row(task, args, kwargs)
        RowInsert(row).execute()
        return row

    def prepare(self, task: Task[Any, Any], *args: Any, **kwargs: Any) -> PreparedJob:
        """`task.enqueue(*args, **kwargs)`, all but the INSERT and the signal (PreparedJob.enqueue)."""
        self.validate_task(task)
        row = self._row(task, args, kwargs)
        insert = RowInsert(row)  # pre_save sets run_after and enqueued_at: the result reads them
        return PreparedJob(self, row, insert, row.task_result)
