"""alliance.core.inserts writes the row `save()` would write, with the signals `save()` sends, and
leaves out a row a unique constraint refuses without breaking the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler
from django.forms.models import model_to_dict
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.accounts.models import AuditEvent
from alliance.care.models import Appointment, Respondent, Response, ResponseSource
from alliance.care.responses import build_response
from alliance.care.tasks import recompute_episode_alerts
from alliance.core import inserts
from alliance.core.fields import EncryptedJSONField, EncryptedTextField
from alliance.core.inserts import NotInsertable, RowInsert
from tests import factories

PHQ9 = {str(n): v for n, v in enumerate([2, 2, 1, 1, 2, 1, 1, 0, 1], start=1)} | {"10": 1}
IN_DATABASE = {"default": {"BACKEND": "alliance.operations.task_backend.DatabaseBackend"}}


def _response(appointment: Appointment, text: str = "") -> Response:
    return build_response(
        episode=appointment.episode,
        appointment=appointment,
        instrument_id="checkin",
        answers={"bond": 8, "goals": 7, "tasks": 6, "overall": 8, "better": text},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )


def _stored(pk: int) -> dict[str, Any]:
    return model_to_dict(Response.objects.get(pk=pk), exclude=["id"])


@pytest.mark.django_db
def test_the_row_is_the_one_save_writes() -> None:
    first, second = factories.AppointmentFactory.create_batch(2)
    saved = _response(first, "The homework felt rushed")
    saved.save()
    inserted = _response(second, "The homework felt rushed")
    inserted.submitted_at = saved.submitted_at
    assert RowInsert(inserted).execute() is True
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert inserted._state.adding is False
    expected = _stored(saved.pk) | {"appointment": second.pk, "episode": second.episode_id}
    assert _stored(inserted.pk) == expected
    # The free text is encrypted at rest, as save() stores it, and reads back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT open_answers FROM care_response WHERE id = %s", [inserted.pk])
        (raw,) = cursor.fetchone()
    assert "homework" not in raw
    assert Response.objects.get(pk=inserted.pk).open_answers == {
        "better": "The homework felt rushed"
    }


@pytest.mark.django_db
def test_signals_are_sent_as_save_sends_them() -> None:
    appointment = factories.AppointmentFactory.create()
    response = _response(appointment)
    seen: list[tuple[str, bool | None]] = []

    def on_pre(sender: Any, instance: Response, **kwargs: Any) -> None:
        seen.append(("pre", instance.pk is None))

    def on_post(sender: Any, instance: Response, created: bool, **kwargs: Any) -> None:
        seen.append(("post", created and instance.pk is not None))

    pre_save.connect(on_pre, sender=Response)
    post_save.connect(on_post, sender=Response)
    try:
        RowInsert(response).execute()
    finally:
        pre_save.disconnect(on_pre, sender=Response)
        post_save.disconnect(on_post, sender=Response)
    assert seen == [("pre", True), ("post", True)]
    # The audit trail hangs on post_save (alliance.care.signals).
    assert AuditEvent.objects.filter(
        action="care.response.created", object_id=str(response.pk)
    ).exists()


@pytest.mark.django_db
def test_a_refused_row_is_left_out_and_the_transaction_goes_on() -> None:
    appointment = factories.AppointmentFactory.create()
    with transaction.atomic():
        assert RowInsert(_response(appointment), ignore_conflicts=True).execute() is True
        duplicate = _response(appointment)
        assert RowInsert(duplicate, ignore_conflicts=True).execute() is False
        assert duplicate.pk is None and duplicate._state.adding is True
        # PostgreSQL would refuse every later statement of a transaction whose INSERT failed.
        assert Response.objects.filter(appointment=appointment).count() == 1
    assert AuditEvent.objects.filter(action="care.response.created").count() == 1


@pytest.mark.django_db
def test_the_statement_is_compiled_once() -> None:
    first, second, third = factories.AppointmentFactory.create_batch(3)
    RowInsert(_response(first), ignore_conflicts=True).execute()
    with mock.patch.object(SQLInsertCompiler, "as_sql", side_effect=AssertionError("compiled")):
        assert RowInsert(_response(second), ignore_conflicts=True).execute() is True
    # Another conflict rule is another statement.
    assert RowInsert(_response(third)).execute() is True
    assert Response.objects.count() == 3


@pytest.mark.django_db
def test_a_row_is_inserted_once() -> None:
    row = RowInsert(_response(factories.AppointmentFactory.create()))
    row.execute()
    with pytest.raises(RuntimeError):
        row.execute()


@pytest.mark.django_db
def test_what_save_would_do_differently_is_refused() -> None:
    response = _response(factories.AppointmentFactory.create())
    response.band = Value("severe")
    with pytest.raises(NotInsertable):
        RowInsert(response)
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_a_cached_statement_matches_the_fields_given() -> None:
    # A row whose primary key is already set includes it: a statement of its own, not the cached one.
    appointment, other = factories.AppointmentFactory.create_batch(2)
    RowInsert(_response(appointment)).execute()
    with_pk = _response(other)
    with_pk.pk = 987_654
    assert RowInsert(with_pk).execute() is True
    assert Response.objects.filter(pk=987_654, appointment=other).exists()
    keys = [key for key in inserts._STATEMENTS if key[0] is Response]
    assert len({key[3] for key in keys}) >= 2


@pytest.mark.django_db
def test_the_job_row_is_the_one_the_library_writes() -> None:
    episode = factories.EpisodeFactory.create()
    before = timezone.now()
    with override_settings(TASKS=IN_DATABASE):
        result = recompute_episode_alerts.enqueue(episode.pk)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.args_kwargs == {"args": [episode.pk], "kwargs": {}}
    assert row.task_path == "alliance.care.tasks.recompute_episode_alerts"
    # The library's pre_save receiver set "run at once", and auto_now_add the time it was enqueued.
    assert row.run_after == get_date_max()
    assert row.enqueued_at >= before
    assert (row.status, row.queue_name, row.backend_name) == ("READY", "default", "default")
    # The worker's own query finds it.
    assert DBTaskResult.objects.ready().filter(pk=row.pk).exists()


def test_the_backend_checks_each_task_once_and_still_refuses_an_invalid_one() -> None:
    from django_tasks import task_backends
    from django_tasks.exceptions import InvalidTaskError
    from django_tasks_db import DatabaseBackend as LibraryBackend

    library_checks = LibraryBackend.validate_task
    with (
        override_settings(TASKS=IN_DATABASE),
        mock.patch.object(
            LibraryBackend, "validate_task", autospec=True, side_effect=library_checks
        ) as checks,
    ):
        backend = task_backends["default"]
        for _ in range(3):
            backend.validate_task(recompute_episode_alerts)
        assert checks.call_count == 1
        # A task that differs in anything the checks read is another task, checked in its turn.
        recompute_episode_alerts.using(priority=5)
        assert checks.call_count == 2
        for _ in range(2):  # refused, and not remembered as checked
            with pytest.raises(InvalidTaskError):
                recompute_episode_alerts.using(priority=1000)
        assert checks.call_count == 4


# What the rows RowInsert writes hold (a check-in's response and job, an audit event), and the odd
# ones: subclassed strs and ints, floats in every column, bools where numbers go.
class _Text(str):
    pass


class _Number(int):
    pass


_COLUMNS = [
    (model, field.attname)
    for model in (Response, DBTaskResult, AuditEvent)
    for field in model._meta.concrete_fields
]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=0, max_value=10**6).map(_Number),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.text(max_size=40).map(_Text),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@pytest.mark.django_db
@settings(max_examples=400, deadline=None)
@given(column=st.sampled_from(_COLUMNS), value=_VALUES)
def test_a_prepared_value_is_what_the_field_prepares(
    column: tuple[type[Any], str], value: object
) -> None:
    model, attname = column
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    try:
        expected = field.get_db_prep_save(value, connection)
    except (TypeError, ValueError, ValidationError) as refused:
        # What the field refuses, the short way must not quietly pass.
        with pytest.raises(type(refused)):
            inserts.prepared_value(field, value, connection)
        return
    got = inserts.prepared_value(field, value, connection)
    assert type(got) is type(expected)
    if isinstance(field, EncryptedJSONField | EncryptedTextField):
        # Encrypted anew each time: the same once decrypted, and never the value itself.
        assert got is None or got != value
        col = field.get_col(model._meta.db_table)
        decrypted = field.from_db_value(got, col, connection)
        assert decrypted == field.from_db_value(expected, col, connection)
        return
    assert repr(got) == repr(expected)


def test_an_encrypted_field_encrypts_a_plain_str_too() -> None:
    # The short way is for Django's own field classes: an encrypted field is a TextField subclass.
    field = Response._meta.get_field("open_answers")
    assert isinstance(field, EncryptedJSONField)
    prepared = inserts.prepared_value(field, "a client's own words", connection)
    assert isinstance(prepared, str) and "own words" not in prepared
