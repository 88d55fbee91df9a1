"""A supervisor's page per supervisee, private supervision notes, and the summary PDF."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from alliance.accounts.models import AuditEvent, User
from alliance.care import models as care
from tests import factories
from tests.conftest import Clinic


def _http(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _risk(clinic: Clinic, days: int, **kwargs: object) -> care.Alert:
    alert = factories.AlertFactory.create(
        episode=clinic.episode,
        kind=care.AlertKind.RISK,
        severity=care.AlertSeverity.URGENT,
        title=f"Risk answer {days} days ago",
        **kwargs,
    )
    care.Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(days=days))
    return alert


def test_supervisor_sees_the_supervisees_week(clinic: Clinic) -> None:
    _risk(clinic, 2)
    _risk(clinic, 5)
    _risk(clinic, 9, acknowledged_at=timezone.now())
    factories.AppointmentFactory.create(
        episode=clinic.episode, session_number=5, scheduled_at=timezone.now() - timedelta(hours=2)
    )
    response = _http(clinic.supervisor).get(reverse("supervisee_detail", args=[clinic.owner.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert clinic.owner.display_name in page
    # Unacknowledged risk, oldest first; the acknowledged one is not listed.
    assert page.index("Risk answer 5 days ago") < page.index("Risk answer 2 days ago")
    assert "Risk answer 9 days ago" not in page
    # One row per client with open alerts (four open alerts for one client).
    section = page.split("Clients with open alerts", 1)[1].split("Reflections shared with you")[0]
    assert section.count(reverse("client_detail", args=[clinic.client.code])) == 1
    assert "4 open" in section
    assert clinic.shared_reflection.text in page
    assert clinic.private_reflection.text not in page
    assert clinic.client.name not in page
    assert AuditEvent.objects.filter(
        action="care.supervisee.viewed", client_id=clinic.client.pk
    ).exists()


def test_supervision_page_links_to_each_supervisee(clinic: Clinic) -> None:
    page = _http(clinic.supervisor).get(reverse("supervision")).content.decode()
    assert reverse("supervisee_detail", args=[clinic.owner.pk]) in page


@pytest.mark.parametrize("role", ["owner", "colleague", "other_supervisor", "administrator"])
def test_everyone_else_gets_404(clinic: Clinic, role: str) -> None:
    http = _http(getattr(clinic, role))
    assert http.get(reverse("supervisee_detail", args=[clinic.owner.pk])).status_code == 404
    assert http.get(reverse("supervision_summary_pdf", args=[clinic.owner.pk])).status_code == 404
    response = http.post(
        reverse("supervisee_detail", args=[clinic.owner.pk]),
        {"submission_id": str(uuid.uuid4()), "met_on": "2026-11-30", "text": "x"},
    )
    assert response.status_code == 404
    assert not care.SupervisionNote.objects.exists()


def test_private_notes_are_stored_once_encrypted_and_read_only_by_their_author(
    clinic: Clinic,
) -> None:
    url = reverse("supervisee_detail", args=[clinic.owner.pk])
    http = _http(clinic.supervisor)
    form = {
        "submission_id": str(uuid.uuid4()),
        "met_on": timezone.localdate().isoformat(),
        "text": "Talked about her pull to rescue.",
    }
    assert http.post(url, form).status_code == 302
    assert http.post(url, form).status_code == 302  # a double click
    note = care.SupervisionNote.objects.get()
    assert (note.supervisor, note.therapist) == (clinic.supervisor, clinic.owner)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM care_supervisionnote WHERE id = %s", [note.pk])
        assert "rescue" not in cursor.fetchone()[0]
    assert "pull to rescue" in http.get(url).content.decode()
    # A second supervisor of the same therapist does not read the first one's notes.
    second = factories.UserFactory.create(role="supervisor")
    factories.SupervisionFactory.create(supervisor=second, therapist=clinic.owner)
    assert "pull to rescue" not in _http(second).get(url).content.decode()
    edit = reverse("supervision_note_edit", args=[clinic.owner.pk, note.pk])
    assert _http(second).get(edit).status_code == 404
    assert clinic.client.code not in "".join(
        str(e.data) for e in AuditEvent.objects.filter(action__startswith="care.supervision")
    )
    # Edit it.
    response = http.post(
        edit,
        {"submission_id": str(uuid.uuid4()), "met_on": note.met_on.isoformat(), "text": "Edited."},
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.text == "Edited."


def test_note_errors_are_explained(clinic: Clinic) -> None:
    response = _http(clinic.supervisor).post(
        reverse("supervisee_detail", args=[clinic.owner.pk]),
        {
            "submission_id": str(uuid.uuid4()),
            "met_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "text": "",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "meeting that took place" in page and "This field is required" in page


def test_summary_pdf(clinic: Clinic) -> None:
    factories.ReflectionFactory.create(
        episode=clinic.episode,
        appointment=factories.AppointmentFactory.create(
            episode=clinic.episode,
            session_number=4,
            scheduled_at=timezone.now() - timedelta(days=3),
        ),
        reactions={"helpless": 3},
        shared_with_supervisor=True,
        text="Shared helplessness note.",
    )
    care.SupervisionNote.objects.create(
        supervisor=clinic.supervisor, therapist=clinic.owner, text="Met about endings."
    )
    care.SupervisionNote.objects.create(
        supervisor=clinic.supervisor,
        therapist=clinic.owner,
        met_on=timezone.localdate() - timedelta(days=400),
        text="Long ago.",
    )
    response = _http(clinic.supervisor).get(
        reverse("supervision_summary_pdf", args=[clinic.owner.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert clinic.client.name.split()[0] not in response["Content-Disposition"]
    text = _text(response.content)
    assert "Supervision summary" in text
    assert clinic.client.code in text
    assert "Shared helplessness note." in text and clinic.shared_reflection.text in text
    assert "Helpless" in text
    assert "Met about endings." in text and "Long ago." not in text
    assert clinic.private_reflection.text not in text
    assert clinic.client.name not in text
    assert "Rupture" in text  # the fixture's alert, raised in the period
    assert AuditEvent.objects.filter(action="care.supervision_summary.downloaded").exists()
    assert AuditEvent.objects.filter(
        action="care.supervision_summary.included", client_id=clinic.client.pk
    ).exists()


def test_summary_period_is_checked(clinic: Clinic) -> None:
    url = reverse("supervision_summary_pdf", args=[clinic.owner.pk])
    http = _http(clinic.supervisor)
    response = http.get(url, {"start": "2026-11-01", "end": "2026-10-01"})
    assert response.status_code == 400
    assert "start of the period must be before its end" in response.content.decode()
    response = http.get(url, {"start": "yesterday"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    old = http.get(url, {"start": "2020-01-01", "end": "2020-03-31"})
    assert old.status_code == 200
    assert clinic.shared_reflection.text not in _text(old.content)


def test_supervisee_page_queries_do_not_grow(clinic: Clinic) -> None:
    http = _http(clinic.supervisor)
    url = reverse("supervisee_detail", args=[clinic.owner.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        return len(queries)

    def add_clients(n: int) -> None:
        for _ in range(n):
            episode = factories.EpisodeFactory.create(therapist=clinic.owner)
            for number in (1, 2):
                appointment = factories.AppointmentFactory.create(
                    episode=episode, session_number=number
                )
                factories.ReflectionFactory.create(
                    episode=episode,
                    appointment=appointment,
                    reactions={"anxious": 3},
                    shared_with_supervisor=True,
                )
            factories.AlertFactory.create(episode=episode, kind=care.AlertKind.RISK)
            factories.AlertFactory.create(episode=episode)
        care.SupervisionNote.objects.create(
            supervisor=clinic.supervisor, therapist=clinic.owner, text="n"
        )

    add_clients(1)
    small = count()
    add_clients(12)
    assert count() == small
