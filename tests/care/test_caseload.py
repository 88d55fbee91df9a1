"""The caseload shows people, not alert rows (issue 9, point 11): one attention row per client, filters,
alert actions that always say why they failed, and calm 404/500 pages."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import User
from alliance.care import queries
from alliance.care.models import Alert, AlertNote, Episode, Respondent
from tests import factories
from tests.care.builders import http_as
from tests.conftest import Clinic


def _attention(html: str) -> list[str]:
    section = html.split('id="attention-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<li class="attention-item[^"]*">(.*?)</li>', section, re.S)


@pytest.fixture
def therapist(db: None) -> User:
    return factories.UserFactory.create()


def _episode(therapist: User, code: str) -> Episode:
    return factories.EpisodeFactory.create(
        therapist=therapist, client=factories.ClientFactory.create(code=code)
    )


def test_one_row_per_client_with_alerts_summarised_most_urgent_first(therapist: User) -> None:
    many = _episode(therapist, "C-MANY1")
    for kind in ("rupture", "rupture", "not_on_track", "disengagement", "perspective_gap"):
        factories.AlertFactory.create(episode=many, kind=kind, severity="red")
    urgent = _episode(therapist, "C-URG01")
    factories.AlertFactory.create(episode=urgent, kind="risk", severity="urgent")
    factories.AlertFactory.create(episode=urgent, kind="rupture", severity="yellow")
    quiet = _episode(therapist, "C-QUIET")
    factories.AlertFactory.create(episode=quiet, status="closed")

    rows = _attention(http_as(therapist).get(reverse("caseload")).content.decode())
    assert len(rows) == 2  # five alerts, one row; closed alerts are not attention
    assert "C-URG01" in rows[0] and "C-MANY1" in rows[1]
    # Urgent differs from red by word and icon, not only by colour.
    assert "sev-urgent" in rows[0] and "\u26a0" in rows[0] and "Urgent" in rows[0]
    assert "sev-red" in rows[1] and "\u26a0" not in rows[1] and ">Red<" in rows[1]
    assert "Rupture (2)" in rows[1] and "Not on track" in rows[1] and "5 open alerts" in rows[1]
    assert rows[0].index("Risk") < rows[0].index("Rupture")
    assert f"#alerts-{urgent.pk}" in rows[0]


def test_attention_list_ignores_other_therapists_and_ended_episodes(
    therapist: User,
) -> None:
    ended = _episode(therapist, "C-ENDED")
    factories.AlertFactory.create(episode=ended)
    Episode.objects.filter(pk=ended.pk).update(
        status="ended", ended_on=timezone.localdate(), end_reason="planned"
    )
    other = factories.EpisodeFactory.create()
    factories.AlertFactory.create(episode=other, severity="urgent")
    page = http_as(therapist).get(reverse("caseload")).content.decode()
    assert "Needs your attention" not in page and other.client.code not in page


@pytest.mark.django_db
def test_attention_groups_are_capped_and_ordered() -> None:
    therapist = factories.UserFactory.create()
    for n in range(queries.ATTENTION_CLIENTS + 3):
        episode = factories.EpisodeFactory.create(therapist=therapist)
        factories.AlertFactory.create(episode=episode, severity="red" if n % 2 else "yellow")
    groups = queries.attention_by_client(Alert.objects.all())
    assert len(groups) == queries.ATTENTION_CLIENTS
    assert [g.top for g in groups] == sorted(g.top for g in groups)


def _codes(http: HttpClient, query: str) -> set[str]:
    html = http.get(reverse("caseload") + query).content.decode()
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return set(re.findall(r"C-[A-Z0-9]{5}", table))


def test_filters_alerts_no_check_in_this_week_and_ending_soon(therapist: User) -> None:
    now = timezone.now()
    with_alert = _episode(therapist, "C-ALRT1")
    factories.AlertFactory.create(episode=with_alert)
    answered = _episode(therapist, "C-ANSWD")
    factories.ResponseFactory.create(episode=answered, submitted_at=now, respondent="client")
    ending = _episode(therapist, "C-ENDSN")
    factories.AppointmentFactory.create(episode=ending, session_number=1, attendance="attended")
    factories.AppointmentFactory.create(
        episode=ending, session_number=2, attendance="scheduled", scheduled_at=now + timedelta(7)
    )
    booked = _episode(therapist, "C-BOOKD")
    factories.AppointmentFactory.create(episode=booked, session_number=1, attendance="attended")
    for number in (2, 3):
        factories.AppointmentFactory.create(
            episode=booked,
            session_number=number,
            attendance="scheduled",
            scheduled_at=now + timedelta(days=7 * number),
        )
    http = http_as(therapist)
    everyone = {"C-ALRT1", "C-ANSWD", "C-ENDSN", "C-BOOKD"}
    assert _codes(http, "") == everyone
    assert _codes(http, "?alerts=on") == {"C-ALRT1"}
    assert _codes(http, "?quiet=on") == everyone - {"C-ANSWD"}
    assert _codes(http, "?ending=on") == {"C-ENDSN"}
    assert _codes(http, "?alerts=on&ending=on") == set()
    page = http.get(reverse("caseload") + "?ending=on").content.decode()
    assert "at most one session still booked ahead" in page  # the definition is on the page
    assert 'href="?status=ended&amp;ending=on"' in page or 'href="?status=ended&ending=on"' in page


def test_a_check_in_last_week_does_not_count_for_this_week(therapist: User) -> None:
    episode = _episode(therapist, "C-LASTW")
    wednesday = timezone.make_aware(datetime(2026, 12, 2, 10, 0))
    factories.ResponseFactory.create(
        episode=episode,
        respondent=Respondent.CLIENT,
        submitted_at=wednesday - timedelta(days=3),  # the Sunday before
    )
    with time_machine.travel(wednesday):
        assert _codes(http_as(therapist), "?quiet=on") == {"C-LASTW"}
        assert queries.week_start(wednesday).weekday() == 0


def test_a_bad_filter_value_falls_back_and_says_so(therapist: User) -> None:
    _episode(therapist, "C-ACTV1")
    page = http_as(therapist).get(reverse("caseload") + "?status=nonsense")
    assert page.status_code == 200
    assert "could not be read" in page.content.decode()
    assert "C-ACTV1" in page.content.decode()


# --- alert actions -----------------------------------------------------------------------------


def test_closing_without_a_reason_says_why(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    url = reverse("alert_action", args=[clinic.alert.pk, "close"])
    in_place = http.post(url, {"submission_id": str(uuid.uuid4())}, HTTP_HX_REQUEST="true")
    assert in_place.status_code == 200
    body = in_place.content.decode()
    assert "Choose a reason for closing the alert." in body and 'role="alert"' in body
    assert '<details class="close-alert" open>' in body
    followed = http.post(url, {"submission_id": str(uuid.uuid4())}, follow=True)
    assert followed.status_code == 200
    assert "Choose a reason for closing the alert." in followed.content.decode()
    clinic.alert.refresh_from_db()
    assert clinic.alert.status == "open"


def test_a_made_up_reason_is_refused_with_a_message(clinic: Clinic) -> None:
    page = http_as(clinic.owner).post(
        reverse("alert_action", args=[clinic.alert.pk, "close"]),
        {"reason": "bored"},
        follow=True,
    )
    assert "Choose one of the listed reasons." in page.content.decode()


def test_an_action_sent_twice_is_done_once_and_the_repeat_is_quiet(clinic: Clinic) -> None:
    http = http_as(clinic.owner)
    url = reverse("alert_action", args=[clinic.alert.pk, "close"])
    data = {"reason": "addressed", "note": "Talked it through.", "submission_id": str(uuid.uuid4())}
    http.post(url, data)
    repeat = http.post(url, data, follow=True)
    assert "not possible" not in repeat.content.decode()
    assert AlertNote.objects.filter(alert=clinic.alert, action="close").count() == 1
    clinic.alert.refresh_from_db()
    assert clinic.alert.status == "closed" and clinic.alert.close_reason == "addressed"


def test_the_client_page_alert_forms_carry_a_submission_id(clinic: Clinic) -> None:
    page = http_as(clinic.owner).get(reverse("client_detail", args=[clinic.client.code]))
    assert page.content.decode().count('name="submission_id"') >= 2


# --- status pages ------------------------------------------------------------------------------


def test_not_found_uses_the_calm_page(clinic: Clinic) -> None:
    page = http_as(clinic.colleague).get(reverse("client_detail", args=[clinic.client.code]))
    assert page.status_code == 404
    body = page.content.decode()
    assert "This page isn't here" in body and f'href="{reverse("home")}"' in body
    assert clinic.client.name not in body and clinic.client.code not in body
    assert "404.html" in [t.name for t in page.templates]


def test_server_error_page_renders_without_a_request() -> None:
    # Django renders 500.html with an empty context: nothing in it may need a request or a user.
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html and 'href="/"' in html
