"""A safe way to speak up: a concern goes to the supervisor and administrators, never the therapist."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import User
from alliance.checkin.models import Concern
from tests.checkin.conftest import Visit


def test_every_check_in_page_offers_the_concern_route_and_the_right_to_stop(
    visit: Visit, after_session: None
) -> None:
    for url in (visit.url(), visit.url("answer", "phq9"), visit.url("answer", "checkin")):
        body = HttpClient().get(url).content.decode()
        assert visit.url("concern") in body
        assert "pause or end therapy at any time" in body
        assert "Your therapist will not see this message" in body


def test_concern_reaches_supervisor_and_administrator_but_not_the_therapist(
    visit: Visit, django_capture_on_commit_callbacks: Any
) -> None:
    # The email goes through the outbox, delivered once the request's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        page = HttpClient().post(
            visit.url("concern"),
            {
                "text": "He makes comments about my weight.",
                "feels_unsafe": "on",
                "wants_contact": "on",
                "contact": "by email please",
            },
        )
    assert page.status_code == 200 and "reached the clinic" in page.content.decode()
    concern = Concern.objects.get()
    assert concern.feels_unsafe and concern.wants_contact and concern.episode == visit.episode
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["admin@clinic.test", "supervisor@clinic.test"]
    assert "weight" not in mail.outbox[0].body  # the text itself stays in Alliance

    therapist = User.objects.get(email="therapist@clinic.test")
    http = HttpClient()
    http.force_login(therapist)
    assert http.get(reverse("concern_list")).status_code == 404
    assert http.get(reverse("concern_detail", args=[concern.pk])).status_code == 404
    client_page = http.get(
        reverse("client_detail", args=[visit.episode.client.code])
    ).content.decode()
    assert "weight" not in client_page

    supervisor = HttpClient()
    supervisor.force_login(User.objects.get(email="supervisor@clinic.test"))
    detail = supervisor.get(reverse("concern_detail", args=[concern.pk])).content.decode()
    assert "comments about my weight" in detail and "feel unsafe" in detail
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', detail)
    assert submission_id
    supervisor.post(
        reverse("concern_update", args=[concern.pk]),
        {"status": "in_hand", "submission_id": submission_id.group(1)},
    )
    concern.refresh_from_db()
    assert concern.status == "in_hand"


def test_empty_concern_is_refused_with_a_message_and_nothing_is_stored(visit: Visit) -> None:
    page = HttpClient().post(visit.url("concern"), {"text": "  ", "contact": "07700 900000"})
    assert page.status_code == 400
    body = page.content.decode()
    assert "Please write a few words" in body and 'value="07700 900000"' in body
    assert not Concern.objects.exists()
