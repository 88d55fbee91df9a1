"""`alliance report` on a small database clinic: the JSON's shape (issue 11, point 7), the round trip
database → per-response CSV → `alliance report --responses` (the same model to 1e-9), pseudonyms,
the filters, bad input, and no identifying or free text in the output."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.care.models import Response
from alliance.cli import main as alliance_main
from alliance.insights.pseudonyms import Pseudonyms
from tests.insights.builders import DbClinic, build_clinic

pytestmark = pytest.mark.django_db

TERMS = ("Intercept", "a_within", "a_between", "log_session")
PSEUDONYM = re.compile(r"^[TCE]-[0-9a-f]{16}$")


@pytest.fixture
def db_clinic() -> DbClinic:
    return build_clinic()


def report(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return json.loads(out.getvalue())


def pure_report(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "stdout", out), mock.patch.object(sys, "stderr", err):
        code = alliance_main(["report", *args])
    return code, (json.loads(out.getvalue()) if code == 0 else None), err.getvalue()


def test_the_report_has_every_part_point_7_names(db_clinic: DbClinic) -> None:
    result = report()
    for part in ("outcomes", "model", "therapists", "psychometrics", "alert_quality", "ruptures"):
        assert part in result, part
    model = result["model"]
    assert set(model["fixed_effects"]) == set(TERMS)
    for term in TERMS:
        effect = model["fixed_effects"][term]
        assert isinstance(effect["estimate"], float) and effect["se"] > 0
        assert effect["low"] < effect["estimate"] < effect["high"]
    assert set(model["variance_components"]) == {"therapist", "client", "residual"}
    assert all(v >= 0 for v in model["variance_components"].values())
    assert set(model["lagged"]["fixed_effects"]) == set(TERMS)
    assert model["n_therapists"] == len(db_clinic.therapists)
    # Four therapists: the estimates must be flagged unstable (fewer than 10).
    therapists = result["therapists"]
    assert therapists["unstable"] is True
    assert len(therapists["therapists"]) == 4
    for estimate in therapists["therapists"]:
        assert estimate["low"] <= estimate["estimate"] <= estimate["high"]
    # Rates travel with their denominators.
    dropout = result["outcomes"]["dropout"]
    ended = [e for e in db_clinic.episodes if e.ended_on is not None]
    assert dropout["denominator"] == len(ended)
    assert dropout["numerator"] == sum(e.end_reason == "dropout" for e in ended)
    # 36 clients with check-ins: psychometrics has figures, marked preliminary (< 100).
    psychometrics = result["psychometrics"]
    assert psychometrics["sample"]["clients"] == 36 and psychometrics["sample"]["preliminary"]
    assert 0 < psychometrics["internal_consistency"]["alpha"]["value"] <= 1
    # Alerts: the repaired rupture counts as repaired, the unresolved one as not.
    rupture = next(k for k in result["alert_quality"]["kinds"] if k["kind"] == "rupture")
    repaired = rupture["repair"]["repaired"]
    assert (repaired["numerator"], repaired["denominator"]) == (1, 2)
    assert rupture["repair"]["days_to_repair"]["median"] == pytest.approx(9.0)
    groups = {g["group"]: g["n"] for g in result["ruptures"]["repair"]["groups"]}
    assert groups["repaired"] == 1 and groups["unrepaired"] == 1
    with_change = sum(
        Response.objects.filter(episode=e, instrument="phq9", respondent="client").count() >= 2
        for e in db_clinic.episodes
    )
    assert groups["no rupture"] == with_change - 2
    json.dumps(result, allow_nan=False)  # strict JSON


def test_the_database_report_fits_the_rows_in_the_database(db_clinic: DbClinic) -> None:
    """The model's counts against the rows, counted here independently of the reader."""
    both: dict[tuple[int, int], set[str]] = {}
    for response in Response.objects.filter(respondent="client", appointment__isnull=False):
        assert response.appointment is not None
        key = (response.episode_id, response.appointment.session_number)
        both.setdefault(key, set()).add(response.instrument)
    complete = sum({"phq9", "checkin"} <= kinds for kinds in both.values())
    result = report()
    assert result["model"]["n_observations"] == complete
    assert result["model"]["n_clients"] == len(db_clinic.clients)
    assert result["model"]["n_dropped"] == len(both) - complete


def test_round_trip_database_csv_report_gives_the_same_model(
    db_clinic: DbClinic, tmp_path: Path
) -> None:
    export = tmp_path / "responses.csv"
    from_database = report("--export-responses", str(export))
    code, from_file, err = pure_report("--responses", str(export))
    assert code == 0, err
    assert from_file is not None
    for name in ("model", "therapists"):
        _assert_close(from_database[name], from_file[name], path=name)
    # The model has been fitted (a round trip of two "could not be fitted" would prove nothing).
    assert from_file["model"]["fixed_effects"]["a_within"]["se"] > 0
    assert from_file["source"] == "responses_csv" and from_database["source"] == "database"
    # The file carries the check-in's dimensions, so the CSV route reports psychometrics too.
    assert from_file["psychometrics"]["sample"]["clients"] == 36
    assert export.stat().st_mode & 0o077 == 0  # readable by its owner only


def _assert_close(a: Any, b: Any, path: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for key in a:
            _assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{path}[{k}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), path
    else:
        assert a == b, path


def test_pseudonyms_are_stable_across_runs_and_never_a_client_code(db_clinic: DbClinic) -> None:
    first, second = report(), report()
    ids = [t["therapist"] for t in first["therapists"]["therapists"]]
    assert ids == [t["therapist"] for t in second["therapists"]["therapists"]]
    assert all(PSEUDONYM.match(i) and i.startswith("T-") for i in ids)
    names = Pseudonyms()
    assert sorted(ids) == sorted(names.therapist(u.pk) for u in db_clinic.therapists)
    text = json.dumps(first)
    for client in db_clinic.clients:
        assert client.code not in text
    assert first == second  # the whole report is deterministic for the same data and day


def test_no_name_email_or_free_text_reaches_the_report_or_the_export(
    db_clinic: DbClinic, tmp_path: Path
) -> None:
    export = tmp_path / "responses.csv"
    text = json.dumps(report("--export-responses", str(export)), ensure_ascii=False)
    csv_text = export.read_text()
    for needle in [*db_clinic.names, *db_clinic.secrets, *(c.code for c in db_clinic.clients)]:
        assert needle not in text, needle
        assert needle not in csv_text, needle
    for user in db_clinic.therapists:
        assert user.email not in text and user.last_name not in csv_text
    header = csv_text.splitlines()[0].split(",")
    assert "date" not in header and "day" in header  # relative days, not calendar dates
    assert not re.search(r"\d{4}-\d{2}-\d{2}", csv_text)


def test_therapist_option_keeps_one_therapists_data(db_clinic: DbClinic) -> None:
    chosen = db_clinic.therapists[1]
    by_email = report("--therapist", chosen.email)
    pseudonym = Pseudonyms().therapist(chosen.pk)
    assert by_email["therapist"] == pseudonym
    assert [t["therapist"] for t in by_email["therapists"]["therapists"]] == [pseudonym]
    theirs = [e for e in db_clinic.episodes if e.therapist_id == chosen.pk]
    assert by_email["outcomes"]["episodes"] == len(theirs)
    assert report("--therapist", pseudonym)["model"] == by_email["model"]


def test_period_selects_episodes_open_in_it(db_clinic: DbClinic) -> None:
    episodes = db_clinic.episodes
    # A period that only the active episodes and those ending in it overlap.
    start = max(e.ended_on for e in episodes if e.ended_on) - timedelta(days=30)
    result = report("--from", start.isoformat(), "--to", timezone.localdate().isoformat())
    open_in = [e for e in episodes if e.ended_on is None or e.ended_on >= start]
    assert result["outcomes"]["episodes"] == len(open_in) < len(episodes)
    assert result["period"] == {"start": start.isoformat(), "end": timezone.localdate().isoformat()}
    finished = [e for e in open_in if e.ended_on is not None]
    assert result["outcomes"]["counts"]["finished"] == len(finished)


def test_the_report_is_audited_with_codes_only(db_clinic: DbClinic, tmp_path: Path) -> None:
    report("--from", "2020-01-01", "--export-responses", str(tmp_path / "r.csv"))
    event = AuditEvent.objects.get(action="insights.report")
    assert event.data["start"] == "2020-01-01"
    assert event.data["episodes"] == len(db_clinic.episodes)
    assert event.data["exported_rows"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--from", "2025-02-01", "--to", "2025-01-01"),
            "--from 2025-02-01 is after --to 2025-01-01",
        ),
        (("--therapist", "nobody@clinic.test"), "no user with that email or pseudonym"),
        (("--therapist", "T-0000000000000000"), "no user with that email or pseudonym"),
        (("--output", "/nonexistent-dir/report.json"), "cannot write /nonexistent-dir/report.json"),
    ],
)
def test_bad_options_are_refused_with_status_2(
    db: None, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(message)) as caught:
        call_command("report", *args, stdout=io.StringIO())
    assert caught.value.returncode == 2


def test_a_bad_date_on_the_command_line_is_one_message_and_status_2(db: None) -> None:
    err = io.StringIO()
    with mock.patch.object(sys, "stderr", err), pytest.raises(SystemExit) as caught:
        alliance_main(["report", "--from", "2025-13-01"])
    assert caught.value.code == 2
    assert "argument --from: '2025-13-01' is not a date like 2025-01-31" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_an_empty_clinic_gives_not_enough_data_not_a_crash(db: None) -> None:
    result = report()
    assert result["model"]["fixed_effects"] == {}
    assert "could not be fitted" in result["model"]["sentences"][0]
    assert result["psychometrics"]["internal_consistency"]["status"] == "not_enough_data"
    assert result["outcomes"]["dropout"]["rate"] is None
    assert result["therapists"]["therapists"] == []
