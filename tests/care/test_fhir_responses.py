"""Importing FHIR QuestionnaireResponses (alliance.care.fhir_responses): matched to an instrument by
canonical, LOINC or linkIds, to a client by identifier or --client, to an episode and a session;
validated whole, stored once, and through the same path as a check-in (scores, risk alert, audit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.care.fhir_responses import import_responses
from alliance.care.models import Alert, AlertKind, Appointment, Response, ResponseSource
from alliance.measures import clear_cache, get_instrument
from alliance.measures.fhir import import_questionnaire
from tests import factories

FIXTURES = Path(__file__).resolve().parents[1] / "measures" / "fixtures"
SYSTEM = f"{settings.SITE_URL}/fhir/sid/client-code"
PHQ9_CANONICAL = f"{settings.SITE_URL}/fhir/Questionnaire/phq9"
LA = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
PHQ9_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]


def qr(
    rid: str,
    values: list[int],
    *,
    when: datetime | str,
    code: str | None = "C-T0001",
    questionnaire: str | None = PHQ9_CANONICAL,
    link_ids: list[str] | None = None,
    answer: str = "coding",
) -> dict[str, Any]:
    """A QuestionnaireResponse for the PHQ-9 (or anything with these linkIds)."""
    ids = link_ids or [str(n) for n in range(1, len(values) + 1)]
    items = []
    for link_id, value in zip(ids, values, strict=True):
        given: dict[str, Any] = (
            {"valueCoding": {"system": "http://loinc.org", "code": LA[value]}}
            if answer == "coding"
            else {"valueInteger": value}
        )
        items.append({"linkId": link_id, "answer": [given]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "status": "completed",
        "authored": when if isinstance(when, str) else when.isoformat(),
        "item": items,
    }
    if questionnaire:
        resource["questionnaire"] = questionnaire
    if code:
        resource["subject"] = {"identifier": {"system": SYSTEM, "value": code}}
    return resource


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


@pytest.fixture
def session(db: None) -> Appointment:
    """Client C-T0001's episode, with a session three days ago and one a week later."""
    client = factories.ClientFactory.create(code="C-T0001")
    episode = factories.EpisodeFactory.create(
        client=client, started_on=timezone.localdate() - timedelta(days=60)
    )
    factories.AppointmentFactory.create(
        episode=episode, session_number=1, scheduled_at=timezone.now() - timedelta(days=10)
    )
    return factories.AppointmentFactory.create(
        episode=episode, session_number=2, scheduled_at=timezone.now() - timedelta(days=3)
    )


def run(payload: Any, **kwargs: Any) -> Any:
    options = {"source": "test.json", "client_code": None, "actor": None, "dry_run": False}
    return import_responses(payload, **{**options, **kwargs})


# --- matching -------------------------------------------------------------------------------


def test_by_canonical_with_loinc_answer_codes(session: Appointment) -> None:
    values = [2, 2, 1, 1, 2, 1, 1, 0, 0]
    report = run(qr("qr-1", values, when=session.scheduled_at + timedelta(minutes=5)))
    assert report.ok, report.problems
    [outcome] = report.outcomes
    assert (outcome.status, outcome.instrument, outcome.client_code) == (
        "imported",
        "phq9",
        "C-T0001",
    )
    stored = Response.objects.get(pk=outcome.response_id)
    # Scored exactly as the shipped PHQ-9 scores the same answers (10: moderate, above the cut-off).
    expected = get_instrument("phq9").score({str(n): v for n, v in enumerate(values, 1)})
    assert stored.total == expected.total == 10 and stored.band == "moderate"
    assert stored.above_cutoff is True and stored.risk is False
    assert stored.appointment_id == session.pk and stored.episode_id == session.episode_id
    assert (stored.source, stored.import_source, stored.import_id) == (
        ResponseSource.IMPORT,
        "test.json",
        "qr-1",
    )
    assert stored.instrument_version == get_instrument("phq9").version


def test_by_loinc_panel_and_loinc_link_ids_with_ordinals(session: Appointment) -> None:
    # LHC-Forms style: the canonical ends in the LOINC panel, linkIds are "/<item LOINC code>".
    resource = qr(
        "lhc-1",
        [3, 3, 3, 3, 3, 3, 3, 3, 0],
        when=session.scheduled_at,
        questionnaire="http://loinc.org/q/44249-1",
        link_ids=[f"/{code}" for code in PHQ9_LOINC],
        answer="integer",
    )
    report = run(resource)
    assert report.ok, report.problems
    stored = Response.objects.get(import_id="lhc-1")
    assert stored.instrument == "phq9" and stored.total == 24 and stored.band == "severe"
    assert stored.answers["1"] == 3 and stored.answers["9"] == 0


def test_by_link_ids_alone(session: Appointment) -> None:
    report = run(qr("ids-1", [1] * 9, when=session.scheduled_at, questionnaire=None))
    assert report.ok and report.outcomes[0].instrument == "phq9"
    # Seven answers fit both the PHQ-9 and the GAD-7: refused, naming both.
    ambiguous = run(qr("ids-2", [1] * 7, when=session.scheduled_at, questionnaire=None))
    assert not ambiguous.ok
    assert "fit several (gad7, phq9)" in ambiguous.problems[0].message


def test_gad7_by_loinc_code_of_a_bundled_questionnaire(session: Appointment) -> None:
    questionnaire = {
        "resourceType": "Questionnaire",
        "url": "http://ehr.example/Questionnaire/anx",
        "status": "active",
        "code": [{"system": "http://loinc.org", "code": "69737-5"}],
    }
    resource = qr(
        "gad-1",
        [1, 1, 1, 1, 1, 1, 1],
        when=session.scheduled_at,
        questionnaire="http://ehr.example/Questionnaire/anx",
    )
    report = run(
        {**bundle(resource), "entry": [{"resource": questionnaire}, {"resource": resource}]}
    )
    assert report.ok, report.problems
    assert report.outcomes[0].instrument == "gad7" and report.outcomes[0].total == 7


def test_the_instruments_own_codes_and_ordinals(session: Appointment) -> None:
    resource = qr("own-1", [0] * 9, when=session.scheduled_at)
    resource["item"][0]["answer"] = [{"valueInteger": 2}]
    resource["item"][1]["answer"] = [{"valueDecimal": 1.0}]
    report = run(resource)
    assert report.ok, report.problems
    assert Response.objects.get(import_id="own-1").total == 3


# --- the client, the episode, the session --------------------------------------------------------


def test_client_option_for_a_file_without_subject(session: Appointment) -> None:
    anonymous = qr("anon-1", [0] * 9, when=session.scheduled_at, code=None)
    refused = run(anonymous)
    assert not refused.ok and "or give --client CODE" in refused.problems[0].message
    assert refused.problems[0].path == "QuestionnaireResponse.subject"
    assert run(anonymous, client_code="C-T0001").ok


def test_client_option_contradicted_by_the_subject(session: Appointment) -> None:
    factories.ClientFactory.create(code="C-T0002")
    report = run(qr("x-1", [0] * 9, when=session.scheduled_at), client_code="C-T0002")
    assert not report.ok
    assert "is client C-T0001, but the import is for C-T0002" in report.problems[0].message


def test_subject_through_a_patient_in_the_bundle(session: Appointment) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": SYSTEM, "value": "C-T0001"}],
    }
    resource = qr("via-patient", [0] * 9, when=session.scheduled_at, code=None)
    resource["subject"] = {"reference": "Patient/p1"}
    report = run(
        {"resourceType": "Bundle", "entry": [{"resource": patient}, {"resource": resource}]}
    )
    assert report.ok, report.problems


def test_subject_as_a_reference_to_this_clinics_own_patient(session: Appointment) -> None:
    resource = qr("ours", [0] * 9, when=session.scheduled_at, code=None)
    resource["subject"] = {"reference": f"{settings.SITE_URL}/fhir/Patient/C-T0001"}
    assert run(resource).ok
    # A relative reference could be any server's Patient: not taken as a client code.
    resource = qr("theirs", [0] * 9, when=session.scheduled_at, code=None)
    resource["subject"] = {"reference": "Patient/C-T0001"}
    assert not run(resource).ok


def test_a_day_without_a_session_is_stored_without_one(session: Appointment) -> None:
    report = run(qr("between", [1] * 9, when=session.scheduled_at + timedelta(days=1)))
    assert report.ok
    stored = Response.objects.get(import_id="between")
    assert stored.appointment is None
    assert any("no session on" in note for note in report.outcomes[0].notes)


def test_a_session_that_already_has_the_instrument_keeps_it(session: Appointment) -> None:
    first = run(qr("first", [1] * 9, when=session.scheduled_at))
    second = run(qr("second", [2] * 9, when=session.scheduled_at))
    assert first.ok and second.ok
    assert Response.objects.get(import_id="first").appointment_id == session.pk
    assert Response.objects.get(import_id="second").appointment_id is None


def test_a_date_outside_every_episode_is_refused(session: Appointment) -> None:
    report = run(qr("old", [0] * 9, when="2001-02-03"))
    assert not report.ok
    assert "2001-02-03 is in none of client C-T0001's episodes" in report.problems[0].message


def test_a_date_without_time_takes_the_sessions_time(session: Appointment) -> None:
    day = timezone.localtime(session.scheduled_at).date().isoformat()
    report = run(qr("day-only", [0] * 9, when=day))
    assert report.ok, report.problems
    stored = Response.objects.get(import_id="day-only")
    assert stored.appointment_id == session.pk and stored.submitted_at == session.scheduled_at


def test_the_episode_covering_the_date_not_the_open_one(session: Appointment) -> None:
    earlier = factories.EpisodeFactory.create(
        client=session.episode.client,
        started_on=timezone.localdate() - timedelta(days=400),
        ended_on=timezone.localdate() - timedelta(days=300),
        status="ended",
        end_reason="planned",
    )
    when = timezone.now() - timedelta(days=350)
    factories.AppointmentFactory.create(episode=earlier, session_number=1, scheduled_at=when)
    report = run(qr("then", [0] * 9, when=when))
    assert report.ok and report.outcomes[0].episode_id == earlier.pk


# --- the whole file, once ------------------------------------------------------------------------


def test_one_bad_resource_rejects_the_whole_bundle_with_a_report(session: Appointment) -> None:
    good = qr("good", [1] * 9, when=session.scheduled_at)
    bad = qr("bad", [1] * 9, when=session.scheduled_at)
    bad["status"] = "in-progress"
    bad["item"][3]["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "LA9999-9"}}]
    future = qr("future", [1] * 9, when=timezone.now() + timedelta(days=2))
    report = run(bundle(good, bad, future))
    assert not report.ok and not report.outcomes
    assert Response.objects.count() == 0
    found = {(p.index, p.resource_id, p.path) for p in report.problems}
    assert (1, "bad", "Bundle.entry[1].resource.status") in found
    assert (1, "bad", "Bundle.entry[1].resource.item[3].answer[0].valueCoding") in found
    assert (2, "future", "Bundle.entry[2].resource.authored") in found
    message = next(p.message for p in report.problems if p.path.endswith("valueCoding"))
    assert "'LA9999-9' is not one of item 4's answers" in message


def test_import_twice_stores_once(session: Appointment) -> None:
    payload = bundle(qr("once", [1] * 9, when=session.scheduled_at))
    assert run(payload).count("imported") == 1
    again = run(payload)
    assert again.ok and again.count("imported") == 0 and again.count("already_imported") == 1
    # Another file bringing the same resource id: reported as already imported, from where.
    other = run(qr("once", [3] * 9, when=session.scheduled_at), source="other.json")
    assert other.outcomes[0].status == "already_imported"
    assert "imported before, from test.json" in other.outcomes[0].notes[0]
    assert Response.objects.filter(import_id="once").count() == 1


def test_the_database_itself_refuses_a_second_copy(session: Appointment) -> None:
    run(qr("unique", [1] * 9, when=session.scheduled_at))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ResponseFactory.create(episode=session.episode, import_id="unique")


def test_the_same_id_twice_in_one_file_is_a_problem(session: Appointment) -> None:
    report = run(
        bundle(
            qr("dup", [1] * 9, when=session.scheduled_at),
            qr("dup", [0] * 9, when=session.scheduled_at),
        )
    )
    assert not report.ok and "the same id as resource 0" in report.problems[0].message


def test_dry_run_stores_nothing(session: Appointment) -> None:
    report = run(qr("dry", [1] * 9, when=session.scheduled_at), dry_run=True)
    assert report.ok and report.outcomes[0].status == "would_import"
    assert not Response.objects.exists()


# --- like a check-in: risk, alerts, audit ------------------------------------------------------


def test_a_risk_answer_raises_the_urgent_alert_at_once(session: Appointment) -> None:
    report = run(qr("risk-1", [1, 1, 1, 1, 1, 1, 1, 1, 2], when=session.scheduled_at))
    assert report.ok and report.outcomes[0].risk
    alert = Alert.objects.get(episode=session.episode, kind=AlertKind.RISK)
    assert alert.severity == "urgent" and alert.appointment_id == session.pk
    assert alert.evidence["response_id"] == report.outcomes[0].response_id


def test_a_risk_answer_on_a_day_without_session_still_reaches_the_therapist(
    session: Appointment,
) -> None:
    report = run(qr("risk-2", [0] * 8 + [3], when=session.scheduled_at + timedelta(days=1)))
    assert report.ok and Response.objects.get(import_id="risk-2").appointment is None
    alert = Alert.objects.get(episode=session.episode, kind=AlertKind.RISK)
    # Shown at the latest session before the answer.
    assert alert.session_number == 2 and alert.severity == "urgent"


def test_a_risk_answer_with_no_session_at_all_is_refused(db: None) -> None:
    client = factories.ClientFactory.create(code="C-T0001")
    factories.EpisodeFactory.create(client=client)
    report = run(qr("risk-3", [0] * 8 + [1], when=timezone.now() - timedelta(days=1)))
    assert not report.ok and "a risk answer (item 9 = 1)" in report.problems[0].message
    assert not Response.objects.exists()


def test_the_import_is_audited_per_client(session: Appointment) -> None:
    run(qr("audited", [0] * 9, when=session.scheduled_at))
    event = AuditEvent.objects.get(action="care.responses.imported")
    assert event.client_id == session.episode.client_id
    assert event.data["resources"] == ["audited"] and event.data["source"] == "test.json"


# --- real files -------------------------------------------------------------------------------


@pytest.fixture
def sdc_phq9(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The HL7 SDC PHQ-9 Questionnaire imported as the clinic's own, with item 9 as a risk item."""
    from alliance.measures.import_rules import RiskSpec, RuleSpecs

    folder = tmp_path / "instruments"
    folder.mkdir()
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(folder))
    data = json.loads((FIXTURES / "hl7-sdc-phq9-contained-valueset.R4.json").read_text())
    imported = import_questionnaire(
        data, instrument_id="sdc-phq9", rules=RuleSpecs(risk=(RiskSpec("H1/T1/Q9", ">", 0),))
    )
    (folder / "sdc-phq9.json").write_text(json.dumps(imported.document), encoding="utf-8")
    clear_cache()
    yield "sdc-phq9"
    clear_cache()


def test_the_hl7_sdc_example_response(session: Appointment, sdc_phq9: str) -> None:
    resource = json.loads(
        (FIXTURES / "fhir" / "hl7-sdc-questionnaireresponse-phq9.R4.json").read_text()
    )
    # Its subject is an example Patient elsewhere: --client says whose it is. It is dated 2019.
    resource["authored"] = session.scheduled_at.isoformat()
    report = run(resource, client_code="C-T0001")
    assert report.ok, report.problems
    stored = Response.objects.get(import_id="questionnaireresponse-sdc-profile-example-PHQ9")
    # 0+0+0+1+2+1+3+2+1; the file's own total item (H1/TS says 13) is not a question, so not used.
    assert stored.instrument == "sdc-phq9" and stored.total == 10 and stored.risk
    assert any("H1/TS" in note for note in report.outcomes[0].notes)
    assert Alert.objects.filter(episode=session.episode, kind=AlertKind.RISK).count() == 1


def test_the_spezi_questionnaire_response(session: Appointment, sdc_phq9: str) -> None:
    resource = json.loads((FIXTURES / "fhir" / "spezi-phq9-response-sdc.R4.json").read_text())
    resource["authored"] = session.scheduled_at.isoformat()
    report = run(resource, client_code="C-T0001")
    assert report.ok, report.problems
    stored = Response.objects.get(import_id="FC9C73DF-7F18-499A-A740-EB7529FB3B54")
    assert stored.total == 27 and stored.band == "" and stored.risk


# --- the command ---------------------------------------------------------------------------


def test_command_reads_ndjson_and_reports(session: Appointment, tmp_path: Path) -> None:
    lines = [
        qr("nd-1", [0] * 9, when=session.scheduled_at),
        qr(
            "nd-2",
            [1] * 7,
            when=session.scheduled_at,
            questionnaire=f"{settings.SITE_URL}/fhir/Questionnaire/gad7",
        ),
    ]
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    call_command("responses", "import", str(path), "--dry-run")
    assert not Response.objects.exists()
    call_command("responses", "import", str(path))
    assert set(Response.objects.values_list("import_id", flat=True)) == {"nd-1", "nd-2"}
    assert set(Response.objects.values_list("import_source", flat=True)) == {"export.ndjson"}


def test_command_rejects_a_bad_file_with_exit_code_2(session: Appointment, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(qr("b", [9] * 9, when=session.scheduled_at, answer="integer")))
    with pytest.raises(CommandError) as raised:
        call_command("responses", "import", str(path))
    assert raised.value.returncode == 2 and "nothing stored" in str(raised.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("responses", "import", str(broken))
    with pytest.raises(CommandError, match="not a client code"):
        call_command("responses", "import", str(path), "--client", "<script>")
    assert not Response.objects.exists()


def test_command_output_names_the_session_and_the_risk(
    session: Appointment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(qr("out-1", [0] * 8 + [1], when=session.scheduled_at)))
    call_command("responses", "import", str(path))
    out = capsys.readouterr().out
    assert "Imported 1 response(s) from one.json; 0 already imported." in out
    assert "phq9 for C-T0001" in out and "session 2, total 1" in out
    assert "RISK: the urgent risk alert is raised" in out
    call_command("responses", "import", str(path), "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["already_imported"] == 1 and report["responses"][0]["session"] == 2
