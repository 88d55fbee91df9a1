"""Insights exports (issue 11, point 6): CSV per episode and per response, the FHIR Bundle and the
PDF, de-identified by default; identified only for administrators, audited; per-client date shifts;
the download form's errors; `alliance report --format`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from pypdf import PdfReader

from alliance.accounts.models import AuditEvent, Role
from alliance.analytics.records import ClinicData, EpisodeRecord
from alliance.insights.exports import DateShifts, write_episodes_csv
from tests import factories
from tests.conftest import with_totp
from tests.insights.builders import DbClinic, build_clinic

pytestmark = pytest.mark.django_db
URL = "/insights/export/"


@pytest.fixture
def db_clinic() -> DbClinic:
    return build_clinic(episodes=12, therapists=2)


def signed_in(role: str, **extra: Any) -> tuple[HttpClient, Any]:
    user = factories.UserFactory.create(email=f"{role}@export.test", role=role, **extra)
    if role == Role.ADMINISTRATOR:
        with_totp(user)  # administrators must have a second factor before any page
    http = HttpClient()
    http.force_login(user)
    return http, user


def secrets_of(clinic: DbClinic) -> list[str]:
    return [*clinic.names, *clinic.secrets, *(c.code for c in clinic.clients)]


@pytest.mark.parametrize("fmt", ["csv-episodes", "csv-responses", "fhir"])
def test_deidentified_exports_carry_no_code_name_email_or_free_text(
    db_clinic: DbClinic, fmt: str
) -> None:
    http, _ = signed_in(Role.ADMINISTRATOR)
    response = http.get(URL, {"format": fmt, "dates": "shifted"})
    assert response.status_code == 200
    body = response.content.decode()
    assert len(body) > 500
    for secret in secrets_of(db_clinic):
        assert secret not in body, (fmt, secret)
    for therapist in db_clinic.therapists:
        assert therapist.email not in body
    events = AuditEvent.objects.filter(action="insights.export")
    assert events.count() == 1 and events.get().data["format"] == fmt
    assert not AuditEvent.objects.filter(action="insights.export.identified").exists()


def test_the_pdf_holds_the_reports_figures_and_no_identifier(db_clinic: DbClinic) -> None:
    http, _ = signed_in(Role.ADMINISTRATOR)
    response = http.get(URL, {"format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    episodes = len(db_clinic.episodes)
    ended = episodes - 4  # build_clinic leaves four active
    assert "Insights report" in text
    assert f"Finished {ended}" in text and f"Referrals {episodes}" in text
    dropouts = sum(1 for e in db_clinic.episodes if e.end_reason == "dropout")
    assert f"{dropouts} / {ended}" in text  # the dropout rate with its denominator
    # The model's terms by their labels, as on the Insights page (the JSON keeps the codes).
    words = " ".join(text.split())
    for term in ("(within client)", "(between clients)", "Session (log)"):
        assert term in words
    for secret in secrets_of(db_clinic):
        assert secret not in text


def test_only_an_administrator_gets_identified_data_and_it_is_audited(
    db_clinic: DbClinic,
) -> None:
    for role in (Role.THERAPIST, Role.SUPERVISOR):
        http, _ = signed_in(role)
        refused = http.get(URL, {"format": "csv-episodes", "identified": "on"})
        assert refused.status_code == 400
        assert "Only an administrator" in refused.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="insights.export").exists()

    http, admin = signed_in(Role.ADMINISTRATOR)
    response = http.get(URL, {"format": "csv-episodes", "identified": "on"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["client"] for r in rows} == {c.code for c in db_clinic.clients}
    assert {r["started_on"] for r in rows} == {e.started_on.isoformat() for e in db_clinic.episodes}
    identified = AuditEvent.objects.get(action="insights.export.identified")
    assert identified.actor == admin and identified.data["identified"] is True
    assert AuditEvent.objects.filter(action="insights.export").count() == 1


def test_a_therapist_exports_only_their_own_and_a_supervisor_their_supervisees(
    db_clinic: DbClinic,
) -> None:
    mine = db_clinic.therapists[0]
    own = sum(1 for e in db_clinic.episodes if e.therapist_id == mine.pk)
    http = HttpClient()
    http.force_login(mine)
    rows = list(
        csv.DictReader(io.StringIO(http.get(URL, {"format": "csv-episodes"}).content.decode()))
    )
    assert len(rows) == own and len({r["therapist"] for r in rows}) == 1

    supervisor_http, supervisor = signed_in(Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=mine)
    body = supervisor_http.get(URL, {"format": "csv-episodes"}).content.decode()
    assert len(list(csv.DictReader(io.StringIO(body)))) == own


def test_date_shifts_are_stable_per_client_and_differ_between_clients() -> None:
    shifts = DateShifts(secret="s" * 50)
    again = DateShifts(secret="s" * 50)
    clients = [f"C-{k:016x}" for k in range(200)]
    days = [shifts.days(c) for c in clients]
    assert days == [again.days(c) for c in clients]
    assert all(d != 0 and abs(d) <= 182 for d in days)
    assert len(set(days)) > 100  # spread over the range, not one shift for everyone
    assert DateShifts(secret="t" * 50).days(clients[0]) != days[0] or days[1:3] != [
        DateShifts(secret="t" * 50).days(c) for c in clients[1:3]
    ]


def test_shifted_dates_keep_intervals_within_a_client() -> None:
    shifts = DateShifts(secret="k" * 50)
    data = ClinicData(
        episodes=(
            EpisodeRecord(
                "E-1", "C-a", "T-1", date(2025, 1, 1), date(2025, 1, 6), date(2025, 3, 3), "planned"
            ),
            EpisodeRecord("E-2", "C-a", "T-1", date(2025, 5, 1), date(2025, 5, 5)),
            EpisodeRecord("E-3", "C-b", "T-1", date(2025, 1, 1), date(2025, 1, 6)),
        )
    )
    out = io.StringIO()
    write_episodes_csv(data, out, dates="shifted", shifts=shifts)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    started = [date.fromisoformat(r["started_on"]) for r in rows]
    assert started[1] - started[0] == date(2025, 5, 5) - date(2025, 1, 6)
    assert started[0] - date(2025, 1, 6) == started[0] - date(2025, 1, 6)
    assert (started[0] - date(2025, 1, 6)).days == shifts.days("C-a")
    assert (started[2] - date(2025, 1, 6)).days == shifts.days("C-b")
    relative = io.StringIO()
    write_episodes_csv(data, relative)
    rel = list(csv.DictReader(io.StringIO(relative.getvalue())))
    assert [r["started_day"] for r in rel] == ["0", "119", "0"]
    with pytest.raises(ValueError, match="identified"):
        write_episodes_csv(data, io.StringIO(), dates="real")


def test_the_fhir_bundle_parses_and_every_reference_resolves(db_clinic: DbClinic) -> None:
    from fhir.resources.R4B.bundle import Bundle

    from alliance.care.models import Response

    rated = Response.objects.filter(respondent="therapist").order_by("pk").first()
    assert rated is not None
    rated.submitted_by = rated.episode.therapist
    rated.save()
    http, _ = signed_in(Role.ADMINISTRATOR)
    bundle = json.loads(http.get(URL, {"format": "fhir"}).content)
    assert rated.episode.therapist.email not in json.dumps(bundle)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    urls = {e["fullUrl"] for e in bundle["entry"]}
    canonicals = {
        f"{e['resource']['url']}|{e['resource']['version']}"
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Questionnaire"
    }
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == len(db_clinic.clients)
    assert "Practitioner" in kinds and "QuestionnaireResponse" in kinds
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for key in ("subject", "author"):
            if key in resource:
                assert resource[key]["reference"] in urls
        for ref in resource.get("derivedFrom", []):
            assert ref["reference"] in urls
        if resource["resourceType"] == "QuestionnaireResponse":
            assert resource["questionnaire"] in canonicals
            assert all(
                "valueString" not in answer
                for item in resource["item"]
                for answer in item["answer"]
            )
        if resource["resourceType"] == "Patient":
            assert "name" not in resource
            assert resource["identifier"][0]["value"].startswith("C-")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"format": "xlsx"}, "Select a valid choice"),
        ({"format": "pdf", "start": "2025-13-01"}, "Enter a valid date"),
        ({"format": "pdf", "start": "2025-06-01", "end": "2025-01-01"}, "comes before"),
        ({"format": "csv-episodes", "dates": "real"}, "Select a valid choice"),
    ],
)
def test_bad_form_input_gives_a_clear_message_not_a_500(
    db: None, query: dict[str, str], message: str
) -> None:
    http, _ = signed_in(Role.ADMINISTRATOR)
    response = http.get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="insights.export").exists()


def test_the_form_page_is_offered_to_every_role(db: None) -> None:
    for role in (Role.THERAPIST, Role.SUPERVISOR, Role.ADMINISTRATOR):
        http, _ = signed_in(role)
        page = http.get(URL).content.decode()
        assert "Insights exports" in page
        assert ('type="checkbox"' in page) is (role == Role.ADMINISTRATOR)


def test_the_command_writes_each_format(db_clinic: DbClinic, tmp_path: Path) -> None:
    for fmt in ("csv-episodes", "csv-responses", "fhir", "pdf"):
        target = tmp_path / f"out.{fmt}"
        call_command("report", "--format", fmt, "--output", str(target))
        content = target.read_bytes()
        assert len(content) > 200, fmt
        assert (target.stat().st_mode & 0o777) == 0o600
        if fmt != "pdf":
            for secret in secrets_of(db_clinic):
                assert secret.encode() not in content
    assert AuditEvent.objects.filter(action="insights.export").count() == 4
    call_command("report", "--format", "csv-episodes", "--identified", "--output", str(target))
    assert db_clinic.clients[0].code.encode() in target.read_bytes()
    assert AuditEvent.objects.filter(action="insights.export.identified").count() == 1
    with pytest.raises(CommandError, match="needs --output"):
        call_command("report", "--format", "fhir")
