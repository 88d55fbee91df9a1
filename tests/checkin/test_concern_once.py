"""The concern form is a Django form that stores once: a concern submitted twice (a double tap, a
browser resending) is stored and emailed once, and nothing the client wrote is lost on the way."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent, User
from alliance.checkin.models import Concern
from tests.checkin.conftest import Visit


def _submission_id(body: str) -> str:
    found = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', body)
    assert found, "the form carries a submission id"
    return found.group(1)


def _fresh_form(http: HttpClient, visit: Visit) -> str:
    return http.get(visit.url("concern")).content.decode()


def test_the_same_submission_twice_stores_and_emails_one_concern(
    visit: Visit, django_capture_on_commit_callbacks: Any
) -> None:
    http = HttpClient()
    data = {"text": "I felt judged.", "submission_id": _submission_id(_fresh_form(http, visit))}
    # The email goes through the outbox, delivered once the request's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        first = http.post(visit.url("concern"), data)
        again = http.post(visit.url("concern"), data)
    assert first.status_code == again.status_code == 200
    assert "reached the clinic" in again.content.decode()
    assert Concern.objects.count() == 1
    assert len(mail.outbox) == 1


def test_two_forms_store_two_concerns(visit: Visit) -> None:
    http = HttpClient()
    for text in ("First worry.", "Second worry."):
        sid = _submission_id(_fresh_form(http, visit))
        http.post(visit.url("concern"), {"text": text, "submission_id": sid})
    assert sorted(c.text for c in Concern.objects.all()) == ["First worry.", "Second worry."]


def test_every_render_has_a_new_submission_id(visit: Visit) -> None:
    http = HttpClient()
    assert _submission_id(_fresh_form(http, visit)) != _submission_id(_fresh_form(http, visit))


def test_a_refused_form_keeps_everything_and_its_id_then_stores_once(visit: Visit) -> None:
    http = HttpClient()
    sid = _submission_id(_fresh_form(http, visit))
    refused = http.post(
        visit.url("concern"),
        {"text": " ", "wants_contact": "on", "contact": "07700 900000", "submission_id": sid},
    )
    body = refused.content.decode()
    assert refused.status_code == 400 and "Please write a few words" in body
    assert 'value="07700 900000"' in body and _submission_id(body) == sid
    assert re.search(r'name="wants_contact" checked', body)
    assert not Concern.objects.exists()
    # The refusal stored nothing, so the corrected form with the same id is not taken for a repeat.
    data = {"text": "Now in words.", "contact": "07700 900000", "submission_id": sid}
    assert http.post(visit.url("concern"), data).status_code == 200
    http.post(visit.url("concern"), data)
    assert [c.text for c in Concern.objects.all()] == ["Now in words."]


def test_feeling_unsafe_alone_is_enough(visit: Visit) -> None:
    page = HttpClient().post(visit.url("concern"), {"feels_unsafe": "on"})
    assert page.status_code == 200
    assert Concern.objects.get().feels_unsafe


def test_an_overlong_text_is_shortened_not_refused(visit: Visit) -> None:
    page = HttpClient().post(visit.url("concern"), {"text": "x" * 5000, "contact": "y" * 300})
    assert page.status_code == 200
    concern = Concern.objects.get()
    assert len(concern.text) == 4000 and len(concern.contact) == 200


def test_an_expired_csrf_cookie_reshows_the_concern_with_its_words(visit: Visit) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    sid = _submission_id(_fresh_form(http, visit))
    http.cookies.clear()
    page = http.post(
        visit.url("concern"),
        {"text": "Words I must not lose.", "feels_unsafe": "on", "submission_id": sid},
    )
    body = page.content.decode()
    assert page.status_code == 403
    assert "Words I must not lose." in body and _submission_id(body) == sid
    assert re.search(r'name="feels_unsafe" checked', body)
    assert not Concern.objects.exists()


def _supervisor(visit: Visit) -> HttpClient:
    http = HttpClient()
    http.force_login(User.objects.get(email="supervisor@clinic.test"))
    return http


def test_the_status_form_stores_once_and_says_why_it_refuses(visit: Visit) -> None:
    HttpClient().post(visit.url("concern"), {"text": "Something felt off."})
    concern = Concern.objects.get()
    http = _supervisor(visit)
    detail = http.get(reverse("concern_detail", args=[concern.pk])).content.decode()
    data = {"status": "in_hand", "submission_id": _submission_id(detail)}
    update = reverse("concern_update", args=[concern.pk])
    assert http.post(update, data).status_code == 302
    http.post(update, data)
    concern.refresh_from_db()
    assert concern.status == "in_hand"
    changes = AuditEvent.objects.filter(action="checkin.concern.status_changed")
    assert changes.count() == 1

    refused = http.post(update, {"status": "nonsense"}, follow=True).content.decode()
    assert "The status was not changed" in refused
    concern.refresh_from_db()
    assert concern.status == "in_hand"


def test_a_colleague_cannot_change_the_status(visit: Visit) -> None:
    HttpClient().post(visit.url("concern"), {"text": "Something felt off."})
    concern = Concern.objects.get()
    therapist = HttpClient()
    therapist.force_login(User.objects.get(email="therapist@clinic.test"))
    sid = "8f0c3f5e-5a43-4c1c-9a43-6f0e2b1d9c11"
    page = therapist.post(
        reverse("concern_update", args=[concern.pk]), {"status": "closed", "submission_id": sid}
    )
    assert page.status_code == 404
    concern.refresh_from_db()
    assert concern.status != "closed"
