from __future__ import annotations

import csv
import io

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.audit import log_event
from alliance.accounts.models import AuditEvent
from tests import factories
from tests.conftest import Clinic


def test_viewing_a_client_writes_an_event_with_actor_and_request_id(clinic: Clinic) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)
    response = http.get(reverse("client_detail", args=[clinic.client.code]))
    event = AuditEvent.objects.filter(action="care.client.viewed").get()
    assert event.actor == clinic.owner
    assert event.client_id == clinic.client.pk
    assert event.request_id == response["X-Request-ID"]
    assert event.object_id == str(clinic.client.pk)


def test_caseload_view_writes_one_event_per_client_shown(clinic: Clinic) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)
    http.get(reverse("caseload"))
    events = AuditEvent.objects.filter(action="care.caseload.viewed")
    assert [e.client_id for e in events] == [clinic.client.pk]


@pytest.mark.django_db
def test_changes_write_events_without_the_free_text() -> None:
    reflection = factories.ReflectionFactory.create(
        text="A sentence that must never reach the audit trail"
    )
    reflection.shared_with_supervisor = True
    reflection.save(update_fields=["shared_with_supervisor"])
    actions = list(
        AuditEvent.objects.filter(object_type="reflection").values_list("action", flat=True)
    )
    assert "care.reflection.created" in actions and "care.reflection.changed" in actions
    for event in AuditEvent.objects.all():
        assert "must never" not in str(event.data)


@pytest.mark.django_db
def test_log_event_refuses_free_text() -> None:
    with pytest.raises(ValueError, match="free text"):
        log_event("care.note.saved", data={"note": "She said she feels unsafe at home"})


@pytest.mark.django_db
def test_audit_events_are_append_only() -> None:
    log_event("test.happened")
    event = AuditEvent.objects.get(action="test.happened")
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_administrator_filters_and_exports_the_trail(clinic: Clinic) -> None:
    owner = HttpClient()
    owner.force_login(clinic.owner)
    owner.get(reverse("client_detail", args=[clinic.client.code]))
    admin = HttpClient()
    admin.force_login(clinic.administrator)
    page = admin.get(
        reverse("audit_list"), {"client": clinic.client.code, "action": "care.client.viewed"}
    )
    assert page.status_code == 200
    assert "care.client.viewed" in page.content.decode()
    export = admin.get(reverse("audit_export"), {"action": "care.client.viewed"})
    rows = list(csv.DictReader(io.StringIO(export.getvalue().decode())))
    assert [(r["actor"], r["client"]) for r in rows] == [("owner@clinic.test", clinic.client.code)]
    assert AuditEvent.objects.filter(action="audit.exported", actor=clinic.administrator).exists()
