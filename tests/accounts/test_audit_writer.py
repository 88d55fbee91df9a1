"""One audit writer: every AuditEvent is made by alliance/accounts/audit.py, so every payload passes
its free-text check; bulk writers (the alert recompute) use `log_events`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.accounts import audit
from alliance.accounts.audit import (
    AuditRow,
    log_clients_viewed,
    log_event,
    log_events,
    prepare_event,
)
from alliance.accounts.models import AuditEvent
from alliance.care import alert_sync
from alliance.care.models import Alert, Client, Episode
from alliance.core import request_context
from alliance.core.inserts import prepared_value
from tests import factories
from tests.care.test_alert_sync import RUPTURE_SERIES, _checkins
from tests.care.test_alert_sync import episode as episode  # the shared fixture

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "alliance" / "accounts" / "audit.py"
# Constructing an event, or saving events past audit.py's checks.
BYPASS = re.compile(
    r"(?<!class )\bAuditEvent\s*\(|AuditEvent\.objects\.(?:bulk_)?create|AuditEvent\.objects\.update"
)


def _offending_lines(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BYPASS.search(line):
                found.append(f"{path}:{number}: {line.strip()}")
    return found


def test_no_module_but_audit_py_builds_or_saves_audit_events() -> None:
    sources = [
        p
        for folder in ("alliance", "benchmarks")
        for p in (ROOT / folder).rglob("*.py")
        if p != WRITER and "migrations" not in p.parts
    ]
    assert len(sources) > 50
    assert _offending_lines(sources) == []


def test_the_check_finds_a_direct_construction(tmp_path: Path) -> None:
    planted = tmp_path / "sneaky.py"
    planted.write_text("event = AuditEvent(action='x', data={'note': 'free text'})\n")
    (tmp_path / "model.py").write_text("class AuditEvent(models.Model):\n    pass\n")
    found = _offending_lines([planted, tmp_path / "model.py"])
    assert len(found) == 1 and "sneaky.py:1" in found[0]


@pytest.mark.django_db
def test_log_events_refuses_free_text_and_writes_nothing() -> None:
    client = factories.ClientFactory.create()
    rows = [
        AuditRow("care.client.tagged", client, client.pk, {"tag": "code-1"}),
        AuditRow("care.client.tagged", client, client.pk, {"note": "She said she feels unsafe"}),
    ]
    with pytest.raises(ValueError, match="free text"):
        log_events(rows)
    assert not AuditEvent.objects.filter(action="care.client.tagged").exists()


@pytest.mark.django_db
def test_log_events_writes_each_row_with_the_request_id() -> None:
    first, second = factories.ClientFactory.create_batch(2)
    request = RequestFactory().get("/")
    token = request_context.set_current(
        request_context.RequestContext("req-42", "203.0.113.9", request)
    )
    try:
        written = log_events(
            [
                AuditRow("care.client.tagged", first, first.pk, {"n": 1}),
                AuditRow("care.client.untagged", second, second.pk, {"n": 2}),
            ],
            system=True,
        )
    finally:
        request_context.reset(token)
    assert written == 2
    events = {
        e.action: e
        for e in AuditEvent.objects.filter(
            action__in=("care.client.tagged", "care.client.untagged")
        )
    }
    tagged = events["care.client.tagged"]
    assert (tagged.object_type, tagged.object_id, tagged.client_id) == (
        "client",
        str(first.pk),
        first.pk,
    )
    assert tagged.data == {"n": 1} and events["care.client.untagged"].data == {"n": 2}
    # Raised by the application during the request: tied to it, but nobody's action.
    assert {(e.actor_label, e.request_id, e.ip_address) for e in events.values()} == {
        ("system", "req-42", None)
    }


@pytest.mark.django_db
def test_log_clients_viewed_still_writes_one_event_per_client() -> None:
    clients = factories.ClientFactory.create_batch(3)
    log_clients_viewed("care.caseload.viewed", [c.pk for c in clients], data={"filter": "all"})
    events = AuditEvent.objects.filter(action="care.caseload.viewed")
    assert sorted(e.client_id or 0 for e in events) == sorted(c.pk for c in clients)
    assert {e.actor_label for e in events} == {"system"}
    assert all(e.data == {"filter": "all"} for e in events)


def test_the_alert_recompute_audits_every_alert_it_raises(episode: Episode) -> None:
    _checkins(episode, RUPTURE_SERIES)
    alert_sync.sync([episode.pk])
    alerts = list(Alert.objects.all())
    assert alerts
    raised = AuditEvent.objects.filter(action="care.alert.raised")
    assert sorted(e.object_id for e in raised) == sorted(str(a.pk) for a in alerts)
    assert {e.client_id for e in raised} == {episode.client_id}
    assert {e.actor_label for e in raised} == {"system"}


def _columns(event: AuditEvent) -> dict[str, object]:
    return {
        f.attname: getattr(event, f.attname)
        for f in AuditEvent._meta.concrete_fields
        if f.attname not in ("id", "at")
    }


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [True, False], ids=["staff", "client link"])
def test_a_prepared_event_writes_what_log_event_writes(signed_in: bool) -> None:
    # prepare_event takes everything but the row's id before the row exists (a check-in submission
    # prepares its response's event outside the write transaction); written, it is log_event's row.
    first, second = factories.ClientFactory.create_batch(2)
    request = RequestFactory().get("/")
    staff = factories.UserFactory.create()
    request.user = staff if signed_in else AnonymousUser()
    token = request_context.set_current(
        request_context.RequestContext("req-7", "198.51.100.4", request)
    )
    try:
        prepared = prepare_event(
            "care.client.tagged", model=Client, client_id=first.pk, data={"tag": "x-1"}
        )
        tagged = AuditEvent.objects.filter(action="care.client.tagged")
        assert not tagged.exists()  # nothing written until write()
        prepared.write(first)
        log_event("care.client.tagged", obj=second, client_id=first.pk, data={"tag": "x-1"})
    finally:
        request_context.reset(token)
    ours, reference = tagged.order_by("pk")
    assert ours.object_id == str(first.pk) and reference.object_id == str(second.pk)
    assert _columns(ours) | {"object_id": ""} == _columns(reference) | {"object_id": ""}
    assert ours.actor_label == (staff.email if signed_in else "client link")
    assert ours.actor_id == (staff.pk if signed_in else None)
    assert (ours.request_id, ours.ip_address, ours.data) == (
        "req-7",
        "198.51.100.4",
        {"tag": "x-1"},
    )


@pytest.mark.django_db
def test_a_prepared_event_refuses_free_text_when_prepared() -> None:
    with pytest.raises(ValueError, match="free text"):
        prepare_event("care.client.tagged", model=Client, client_id=None, data={"n": "she said no"})
    assert not AuditEvent.objects.filter(action="care.client.tagged").exists()


def test_an_events_values_name_every_column_but_the_id() -> None:
    # The writer builds events as values by attname (no model instance); a field added to
    # AuditEvent without a value here would fail every insert, so say so at once.
    values = audit._event("care.client.viewed", actor=None, data={})
    assert set(values) == {f.attname for f in audit._fields()}
    assert {f.attname for f in audit._fields()} == {
        f.attname for f in AuditEvent._meta.concrete_fields if not f.primary_key
    }


# Values an event's fields meet: None, plain and subclassed ints and strs, datetimes, addresses,
# payloads. The writer's short way must give exactly what the field itself prepares.
class _Text(str):
    pass


class _Number(int):
    pass


_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=0, max_value=10**6).map(_Number),
    st.booleans(),
    st.text(max_size=40),
    st.text(max_size=40).map(_Text),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.ip_addresses().map(str),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(column=st.sampled_from([f.attname for f in audit._fields()]), value=_VALUES)
def test_prepared_values_are_what_the_field_prepares(column: str, value: object) -> None:
    field = next(f for f in audit._fields() if f.attname == column)
    try:
        expected = field.get_db_prep_save(value, connection)
    except (TypeError, ValueError, ValidationError) as refused:
        # What the field refuses, the short way must not quietly pass.
        with pytest.raises(type(refused)):
            prepared_value(field, value, connection)
        return
    got = prepared_value(field, value, connection)
    assert type(got) is type(expected)
    assert repr(got) == repr(expected)


@pytest.mark.django_db
@settings(max_examples=100, deadline=None)
@given(value=st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)))
def test_an_array_element_is_the_fields_value_or_the_same_plain_int(value: int | None) -> None:
    # In an array (the bulk INSERT over unnest, cast as a whole) a plain int needs no typing wrapper.
    field = AuditEvent._meta.get_field("client_id")
    expected = field.get_db_prep_save(value, connection)
    got = prepared_value(field, value, connection, element=True)
    assert got == expected and type(got) in (type(expected), int)
