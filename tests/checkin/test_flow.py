"""The client's path through a check-in link (server side; tests/browser walks it in Chromium)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail, signing
from django.db import OperationalError
from django.test import Client as HttpClient
from django.utils import timezone

from alliance.care.models import Alert, Response
from alliance.care.responses import PendingResponse
from alliance.checkin import tokens
from alliance.checkin.links import LATE_SUBMISSION_GRACE
from alliance.checkin.models import CheckinLink
from alliance.checkin.page_forms import STARTED_SALT
from tests.checkin.conftest import Visit, checkin, phq9

GAD7_ALL_ONE = {f"q_{n}": "1" for n in range(1, 8)}


def _started(moment: datetime | None = None) -> str:
    signer = signing.TimestampSigner(salt=STARTED_SALT)
    return signer.sign((moment or timezone.now()).isoformat())


def test_landing_lists_both_parts_and_reveals_no_client_data(visit: Visit) -> None:
    page = HttpClient().get(visit.url())
    body = page.content.decode()
    assert page.status_code == 200
    assert "Before your session" in body and "After your session" in body
    assert "PHQ-9" in body and "GAD-7" in body
    for secret in ("Rosalind", "Pemberton", "C-VIS01", "rpv@example.com"):
        assert secret not in body
    assert re.search(r"<title>Your check-in</title>", body)
    assert "no-store" in page["Cache-Control"]


def test_token_is_long_random_and_stored_only_as_a_digest(visit: Visit) -> None:
    link = CheckinLink.objects.get()
    assert len(visit.token) == 43  # 32 random bytes, URL-safe base64
    assert link.token_digest == tokens.digest(visit.token) != visit.token
    assert visit.token not in str(list(CheckinLink.objects.values()))


def test_link_expires_72_hours_after_the_appointment_by_default(visit: Visit) -> None:
    link = CheckinLink.objects.get()
    assert link.expires_at == visit.appointment.scheduled_at + timedelta(hours=72)


def test_missing_answers_reshow_the_form_with_every_given_answer(visit: Visit) -> None:
    data = phq9([2, 1, 3, 0, 1, 2, 0, 1]) | {"started": _started()}  # item 9 missing
    page = HttpClient().post(visit.url("answer", "phq9"), data)
    body = page.content.decode()
    assert page.status_code == 400
    assert Response.objects.count() == 0
    assert 'id="error-summary"' in body and 'href="#item-9"' in body
    for item, value in enumerate([2, 1, 3, 0, 1, 2, 0, 1], start=1):
        assert f'name="q_{item}" value="{value}" checked' in body
    assert 'name="q_9" value="0" checked' not in body
    assert 'aria-invalid="true"' in body


def test_valid_outcome_measure_is_scored_stored_and_leads_to_the_next(
    visit: Visit, after_session: None
) -> None:
    http = HttpClient()
    page = http.post(
        visit.url("answer", "phq9"),
        phq9([2, 1, 3, 0, 1, 2, 0, 1, 0], item10=1) | {"started": _started()},
    )
    assert page.status_code == 302 and page["Location"] == visit.url("answer", "gad7")
    response = Response.objects.get(instrument="phq9")
    assert response.total == 10 and response.band == "moderate" and not response.risk
    assert response.instrument_version and response.source == "checkin"
    assert response.appointment == visit.appointment
    page = http.post(
        visit.url("answer", "gad7"), GAD7_ALL_ONE | {"q_8": "0", "started": _started()}
    )
    # Session 1 with a goal: Goal-Based Outcomes follow.
    assert page["Location"] == visit.url("answer", "gbo")
    page = http.get(visit.url("answer", "gbo"))
    assert "Go back to swimming" in page.content.decode()
    page = http.post(visit.url("answer", "gbo"), {"q_goal1": "3", "started": _started()})
    assert page["Location"] == visit.url("thanks")
    thanks = http.get(page["Location"]).content.decode()
    assert "Thank you" in thanks and "Session check-in" in thanks
    assert (
        "10" not in re.sub(r"<[^>]+>", "", thanks).split("Thank you", 1)[1][:200]
    )  # no score shown


def test_double_submit_stores_exactly_one_response(visit: Visit, after_session: None) -> None:
    http = HttpClient()
    data = checkin(better="Felt rushed at the end") | {"started": _started()}
    first = http.post(visit.url("answer", "checkin"), data)
    second = http.post(visit.url("answer", "checkin"), data)
    assert first.status_code == second.status_code == 302
    assert Response.objects.filter(instrument="checkin").count() == 1
    stored = Response.objects.get(instrument="checkin")
    assert stored.total == 7.5 and stored.open_answers == {"better": "Felt rushed at the end"}


def test_submission_begun_before_expiry_is_accepted_just_after(visit: Visit) -> None:
    link = CheckinLink.objects.get()
    started = _started(link.expires_at - timedelta(minutes=5))
    with time_machine.travel(link.expires_at + timedelta(minutes=20)):
        page = HttpClient().post(visit.url("answer", "checkin"), checkin() | {"started": started})
    assert page.status_code == 302
    assert Response.objects.filter(instrument="checkin").count() == 1


@pytest.mark.parametrize("case", ["begun_after_expiry", "beyond_grace", "forged_start"])
def test_late_submissions_outside_the_rule_are_refused_without_revealing_anything(
    visit: Visit, case: str
) -> None:
    link = CheckinLink.objects.get()
    started = {
        "begun_after_expiry": _started(link.expires_at + timedelta(minutes=1)),
        "beyond_grace": _started(link.expires_at - timedelta(minutes=5)),
        "forged_start": (link.expires_at - timedelta(minutes=5)).isoformat() + ":forged",
    }[case]
    arrival = link.expires_at + (
        LATE_SUBMISSION_GRACE + timedelta(minutes=1)
        if case == "beyond_grace"
        else timedelta(minutes=10)
    )
    with time_machine.travel(arrival):
        page = HttpClient().post(visit.url("answer", "checkin"), checkin() | {"started": started})
    assert page.status_code == 410
    assert "no longer active" in page.content.decode()
    assert "C-VIS01" not in page.content.decode()
    assert Response.objects.count() == 0


def test_expired_link_shows_a_friendly_page(visit: Visit) -> None:
    link = CheckinLink.objects.get()
    with time_machine.travel(link.expires_at + timedelta(seconds=1)):
        page = HttpClient().get(visit.url())
    assert page.status_code == 410
    body = page.content.decode()
    assert "This link is no longer active" in body and "Rosalind" not in body


def test_database_error_keeps_the_answers_on_screen(visit: Visit, after_session: None) -> None:
    data = checkin(bond=3, better="The exercise felt pointless") | {"started": _started()}
    with mock.patch.object(
        PendingResponse, "store", side_effect=OperationalError("database is locked")
    ):
        page = HttpClient().post(visit.url("answer", "checkin"), data)
    body = page.content.decode()
    assert page.status_code == 503
    assert "couldn&#x27;t save your answers" in body or "couldn't save your answers" in body
    assert 'name="q_bond" value="3" checked' in body
    assert "The exercise felt pointless" in body
    assert Response.objects.count() == 0
    # And the retry succeeds.
    assert HttpClient().post(visit.url("answer", "checkin"), data).status_code == 302
    assert Response.objects.count() == 1


def test_expired_csrf_cookie_reshows_the_form_instead_of_losing_answers(
    visit: Visit, after_session: None
) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    data = checkin(bond=4, better="I wasn't sure why we did the breathing again") | {
        "started": _started()
    }
    page = http.post(visit.url("answer", "checkin"), data)
    body = page.content.decode()
    assert page.status_code == 403
    assert "press the button once more" in body
    assert 'name="q_bond" value="4" checked' in body and "breathing again" in body
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert found is not None
    token = found.group(1)
    assert (
        http.post(visit.url("answer", "checkin"), data | {"csrfmiddlewaretoken": token}).status_code
        == 302
    )


def test_risk_answer_shows_crisis_resources_and_raises_an_urgent_alert(
    visit: Visit, django_capture_on_commit_callbacks: Any
) -> None:
    http = HttpClient()
    # The therapist's email goes through the outbox, delivered once the request commits.
    with django_capture_on_commit_callbacks(execute=True):
        page = http.post(
            visit.url("answer", "phq9"),
            phq9([1, 1, 1, 1, 1, 1, 1, 1, 1]) | {"started": _started()},
        )
    assert page.status_code == 302 and page["Location"].startswith(visit.url("support"))
    support = http.get(page["Location"]).content.decode()
    assert (
        "You don&#x27;t have to face this alone" in support
        or "You don't have to face this alone" in support
    )
    assert "emergency" in support
    assert f'href="{visit.url("answer", "gad7")}"' in support  # can carry on with the questions
    alert = Alert.objects.get(kind="risk")
    assert alert.severity == "urgent" and alert.episode == visit.episode and alert.status == "open"
    assert [m.to for m in mail.outbox] == [["therapist@clinic.test"]]
    assert "Rosalind" not in f"{mail.outbox[0].subject} {mail.outbox[0].body}"


def test_crisis_resources_are_the_clinics_own_when_configured(visit: Visit) -> None:
    from alliance.care.models import ClinicSettings

    settings_row = ClinicSettings.load()
    settings_row.crisis_resources_en = "Call the Riverside crisis team on 0800 000 111."
    settings_row.save()
    support = HttpClient().get(visit.url("support")).content.decode()
    assert "Riverside crisis team" in support


def test_spanish_client_gets_spanish_and_can_switch(visit: Visit) -> None:
    client = visit.episode.client
    client.preferred_language = "es"
    client.save()
    http = HttpClient()
    page = http.get(visit.url()).content.decode()
    assert '<html lang="es">' in page and "Antes de la sesión" in page
    switched = http.get(visit.url() + "?lang=en")
    assert "Before your session" in switched.content.decode()
    assert http.get(visit.url()).content.decode().count("Before your session") == 1  # remembered
    form = http.get(visit.url("answer", "phq9") + "?lang=es").content.decode()
    assert "Poco interés o placer en hacer cosas" in form
    goals = http.get(visit.url("answer", "gbo")).content.decode()
    assert "Su objetivo: “Go back to swimming”" in goals and "Ningún avance" in goals
    assert "How close are you" not in goals


# The guessing limit (failed lookups only; valid links always open): tests/checkin/test_guessing_limit.py


def test_revoked_link_is_not_found(visit: Visit) -> None:
    from alliance.checkin.links import revoke

    revoke(CheckinLink.objects.get())
    assert HttpClient().get(visit.url()).status_code == 404


def test_risk_alert_is_raised_even_if_the_request_could_not(
    visit: Visit, django_capture_on_commit_callbacks: Any
) -> None:
    data = phq9([1, 1, 1, 1, 1, 1, 1, 1, 2]) | {"started": _started()}
    with (
        mock.patch(
            "alliance.checkin.views.raise_risk_alerts", side_effect=OperationalError("locked")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = HttpClient().post(visit.url("answer", "phq9"), data)
    # The answer was stored and the client still sees the crisis resources straight away.
    assert first.status_code == 302 and "/support/" in first["Location"]
    assert Response.objects.filter(instrument="phq9", risk=True).count() == 1
    # The background recompute (inline in tests) raised the alert even though the request could not.
    assert Alert.objects.filter(kind="risk").count() == 1
    again = HttpClient().post(visit.url("answer", "phq9"), data)
    assert again.status_code == 302
    assert Alert.objects.filter(kind="risk").count() == 1
