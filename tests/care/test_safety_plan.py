"""The therapist's side of the safety plan: the form in the client's language, submit-once, encryption
at rest, who may read and write it, the audit trail (never the text), and where it is offered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent, FormSubmission, User
from alliance.care import safety_plan
from alliance.care.models import AlertKind, AlertSeverity, SafetyPlan
from alliance.care.safety_plan_forms import SECTION_MAX_LENGTH, SafetyPlanForm
from tests import factories
from tests.conftest import Clinic

pytestmark = pytest.mark.django_db

WARNING = "I stop answering messages and stay in bed"
HELPS = "Walking the dog round the park"
PROFESSIONALS = "Dr Amara Okafor 020 7946 0958 (weekdays)"


def _http(user: User | None) -> HttpClient:
    http = HttpClient()
    if user is not None:
        http.force_login(user)
    return http


def _data(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "submission_id": str(uuid.uuid4()),
        "warning_signs": WARNING,
        "what_helps": HELPS,
        "people_and_places": "",
        "professionals": PROFESSIONALS,
        "safer_surroundings": "",
        "reasons_for_living": "",
        "show_to_client": "on",
    }
    data.update(fields)
    return data


def _edit_url(clinic: Clinic) -> str:
    return reverse("safety_plan_edit", args=[clinic.episode.pk])


def _raw(column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM care_safetyplan WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def test_owner_writes_the_plan_and_it_is_stored_encrypted(clinic: Clinic) -> None:
    response = _http(clinic.owner).post(_edit_url(clinic), _data())
    assert response.status_code == 302
    assert response["Location"] == reverse("safety_plan", args=[clinic.episode.pk])
    plan = SafetyPlan.objects.get(episode=clinic.episode)
    assert (plan.warning_signs, plan.what_helps) == (WARNING, HELPS)
    assert plan.created_by == clinic.owner
    for column, clear in (
        ("warning_signs", "answering"),
        ("what_helps", "dog"),
        ("professionals", "7946"),
    ):
        raw = _raw(column, plan.pk)
        assert clear not in raw
        assert raw.startswith("gAAAAA")  # a Fernet token


def test_the_same_form_sent_twice_saves_once(clinic: Clinic) -> None:
    http = _http(clinic.owner)
    data = _data()
    first = http.post(_edit_url(clinic), data)
    second = http.post(_edit_url(clinic), {**data, "what_helps": "A second, different text"})
    assert first["Location"] == second["Location"]
    assert SafetyPlan.objects.get(episode=clinic.episode).what_helps == HELPS
    assert AuditEvent.objects.filter(action="care.safety_plan.created").count() == 1
    assert AuditEvent.objects.filter(action="care.safety_plan.changed").count() == 0
    assert FormSubmission.objects.filter(form="care.safety_plan.save").count() == 1


def test_an_empty_plan_is_refused_and_nothing_is_stored(clinic: Clinic) -> None:
    response = _http(clinic.owner).post(
        _edit_url(clinic), _data(warning_signs="  ", what_helps="", professionals="")
    )
    assert response.status_code == 400
    assert "Write at least one section" in response.content.decode()
    assert not SafetyPlan.objects.exists()
    assert not FormSubmission.objects.exists()  # a corrected resend is not taken for a repeat


def test_a_section_longer_than_the_limit_is_refused(clinic: Clinic) -> None:
    form = SafetyPlanForm(_data(what_helps="x" * (SECTION_MAX_LENGTH + 1)), lang="en")
    assert not form.is_valid()
    assert "what_helps" in form.errors


def test_the_form_speaks_the_clients_language(clinic: Clinic) -> None:
    clinic.client.preferred_language = "es"
    clinic.client.save()
    page = _http(clinic.owner).get(_edit_url(clinic)).content.decode()
    assert "Cuando las cosas empiezan a ponerse difíciles, noto…" in page
    assert "Mi plan de seguridad" in page
    english = _http(clinic.owner).get(_edit_url(clinic) + "?lang=en").content.decode()
    assert "When things start to get hard, I notice…" in english


def test_every_section_has_a_prompt_in_every_language() -> None:
    for lang in ("en", "es"):
        sections = safety_plan.sections(lang)
        assert [s.field for s in sections] == list(safety_plan.FIELDS)
        assert all(s.title and len(s.prompt) > 40 for s in sections)
    assert {f.name for f in SafetyPlan._meta.get_fields()} >= set(safety_plan.FIELDS)


def test_changes_are_audited_by_section_name_never_by_text(clinic: Clinic) -> None:
    http = _http(clinic.owner)
    http.post(_edit_url(clinic), _data())
    http.post(_edit_url(clinic), _data(what_helps="Calling my sister"))
    http.post(_edit_url(clinic), _data(what_helps="Calling my sister"))  # gone through, unchanged
    actions = list(
        AuditEvent.objects.filter(action__startswith="care.safety_plan.")
        .exclude(action="care.safety_plan.viewed")
        .order_by("id")
        .values_list("action", "data", "client_id")
    )
    assert actions == [
        (
            "care.safety_plan.created",
            {"sections": ["warning_signs", "what_helps", "professionals"], "show_to_client": True},
            clinic.client.pk,
        ),
        (
            "care.safety_plan.changed",
            {"sections": ["what_helps"], "show_to_client": True},
            clinic.client.pk,
        ),
        ("care.safety_plan.reviewed", {"sections": [], "show_to_client": True}, clinic.client.pk),
    ]
    everything = str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert "dog" not in everything and "sister" not in everything


def test_reading_the_plan_is_audited(clinic: Clinic) -> None:
    _http(clinic.owner).post(_edit_url(clinic), _data())
    before = AuditEvent.objects.filter(action="care.safety_plan.viewed").count()
    page = _http(clinic.supervisor).get(reverse("safety_plan", args=[clinic.episode.pk]))
    assert WARNING in page.content.decode()
    event = AuditEvent.objects.filter(action="care.safety_plan.viewed").latest("id")
    assert AuditEvent.objects.filter(action="care.safety_plan.viewed").count() == before + 1
    assert (event.actor, event.client_id, event.object_type) == (
        clinic.supervisor,
        clinic.client.pk,
        "safetyplan",
    )


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("owner", 200, 200),
        ("supervisor", 200, 404),
        ("colleague", 404, 404),
        ("other_supervisor", 404, 404),
        ("administrator", 404, 404),
    ],
)
def test_who_reads_and_who_writes_an_existing_plan(
    clinic: Clinic, role: str, read: int, write: int
) -> None:
    _http(clinic.owner).post(_edit_url(clinic), _data())
    http = _http(clinic.user(role))
    page = http.get(reverse("safety_plan", args=[clinic.episode.pk]))
    assert page.status_code == read
    assert (WARNING in page.content.decode()) == (read == 200)
    assert http.get(_edit_url(clinic)).status_code == write
    posted = http.post(_edit_url(clinic), _data(what_helps="Changed by " + role))
    assert posted.status_code == (302 if write == 200 else 404)
    expected = "Changed by owner" if role == "owner" else HELPS
    assert SafetyPlan.objects.get(episode=clinic.episode).what_helps == expected


def test_the_supervisor_reads_without_an_edit_button(clinic: Clinic) -> None:
    _http(clinic.owner).post(_edit_url(clinic), _data())
    page = _http(clinic.supervisor).get(reverse("safety_plan", args=[clinic.episode.pk]))
    assert _edit_url(clinic) not in page.content.decode()
    own = _http(clinic.owner).get(reverse("safety_plan", args=[clinic.episode.pk]))
    assert _edit_url(clinic) in own.content.decode()


def test_the_page_says_when_and_by_whom_it_last_changed(clinic: Clinic) -> None:
    with time_machine.travel(datetime(2025, 3, 4, 10, 0, tzinfo=UTC), tick=False):
        _http(clinic.owner).post(_edit_url(clinic), _data())
    page = _http(clinic.supervisor).get(reverse("safety_plan", args=[clinic.episode.pk]))
    text = page.content.decode()
    assert "Last changed on Tue 4 Mar 2025, 10:00 by Olive Owner." in text
    assert page["Cache-Control"].count("no-store") == 1


def test_the_printed_plan_has_tap_to_call_numbers_and_the_clinics_crisis_lines(
    clinic: Clinic,
) -> None:
    _http(clinic.owner).post(_edit_url(clinic), _data())
    page = _http(clinic.owner).get(reverse("safety_plan", args=[clinic.episode.pk]))
    text = page.content.decode()
    assert 'href="tel:+442079460958"' in text
    assert 'href="tel:116123"' in text  # from the default crisis resources
    assert "alliance/safety-plan.css" in text
    assert " style=" not in text and "<script>" not in text


def test_a_missing_plan_offers_to_write_one(clinic: Clinic) -> None:
    page = _http(clinic.owner).get(reverse("safety_plan", args=[clinic.episode.pk]))
    assert "No safety plan has been written" in page.content.decode()
    assert _edit_url(clinic) in page.content.decode()
    event = AuditEvent.objects.filter(action="care.safety_plan.viewed").latest("id")
    assert event.data == {"exists": False}
    assert event.client_id == clinic.client.pk


def _risk_alert(clinic: Clinic) -> None:
    factories.AlertFactory.create(
        episode=clinic.episode,
        appointment=clinic.appointment,
        kind=AlertKind.RISK,
        severity=AlertSeverity.URGENT,
        key=f"risk:ep{clinic.episode.pk}:test",
    )


def test_an_open_risk_alert_offers_the_plan_on_the_client_page_and_the_brief(
    clinic: Clinic,
) -> None:
    client_url = reverse("client_detail", args=[clinic.client.code])
    brief_url = reverse("appointment_brief", args=[clinic.appointment.pk])
    offer = "Write or review the safety plan with the client"
    assert offer not in _http(clinic.owner).get(client_url).content.decode()
    assert offer not in _http(clinic.owner).get(brief_url).content.decode()
    _risk_alert(clinic)
    page = _http(clinic.owner).get(client_url).content.decode()
    assert offer in page and _edit_url(clinic) in page
    brief = _http(clinic.owner).get(brief_url).content.decode()
    assert offer in brief and "No safety plan yet." in brief
    # The supervisor is offered a read, not the form.
    supervised = _http(clinic.supervisor).get(client_url).content.decode()
    assert "Read the client's safety plan" in supervised
    assert _edit_url(clinic) not in supervised


def test_the_brief_and_client_page_show_when_the_plan_was_last_reviewed(clinic: Clinic) -> None:
    with time_machine.travel(datetime(2025, 3, 4, 10, 0, tzinfo=UTC), tick=False):
        _http(clinic.owner).post(_edit_url(clinic), _data())
    brief_url = reverse("appointment_brief", args=[clinic.appointment.pk])
    assert (
        "Safety plan last reviewed 4 Mar 2025."
        in _http(clinic.owner).get(brief_url).content.decode()
    )
    client_url = reverse("client_detail", args=[clinic.client.code])
    assert "(last reviewed 4 Mar 2025)" in _http(clinic.owner).get(client_url).content.decode()
