"""The client's own words: one module, display-ready, a fixed number of queries, on every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent
from alliance.care import words
from alliance.care.models import Appointment, Episode, Respondent, ResponseSource
from alliance.care.responses import record_response
from tests import factories
from tests.conftest import Clinic


def _session(episode: Episode, number: int, comment: str | None = None) -> Appointment:
    appointment = factories.AppointmentFactory.create(
        episode=episode,
        session_number=number,
        scheduled_at=timezone.now() - timedelta(days=7 * (60 - number)),
    )
    for instrument, answers in (
        ("phq9", {str(i): 1 for i in range(1, 10)} | {"10": 0}),
        ("checkin", {"bond": 7, "goals": 6, "tasks": 7, "overall": 7, "better": comment}),
    ):
        record_response(
            episode=episode,
            appointment=appointment,
            instrument_id=instrument,
            answers=answers,
            respondent=Respondent.CLIENT,
            source=ResponseSource.CHECKIN,
            submitted_at=appointment.scheduled_at + timedelta(hours=1),
        )
    return appointment


def test_item_answers_carry_the_question_and_the_chosen_option(clinic: Clinic) -> None:
    appointment = _session(clinic.episode, 2, "More time on my sister, please.")
    found = words.for_appointments([appointment.pk])[appointment.pk]
    phq9 = next(r for r in found if r.instrument == "phq9")
    first = phq9.items[0]
    assert first.text == "Little interest or pleasure in doing things"
    assert first.answer == "Several days (1)"
    item9 = next(i for i in phq9.items if i.link_id == "9")
    assert item9.risk  # above 0
    checkin = next(r for r in found if r.instrument == "checkin")
    assert checkin.part == "after" and phq9.part == "before"
    assert checkin.open_answers[0].question == "What could have been better today?"
    assert checkin.open_answers[0].text == "More time on my sister, please."
    assert next(i for i in checkin.items if i.link_id == "bond").answer == "7 of 10"


def test_comments_newest_first_with_session_numbers(clinic: Clinic) -> None:
    _session(clinic.episode, 2, "First thing I wrote.")
    _session(clinic.episode, 3)
    _session(clinic.episode, 4, "Second thing I wrote.")
    found = words.comments([clinic.episode.pk])
    assert [(c.session_number, c.text) for c in found] == [
        (4, "Second thing I wrote."),
        (2, "First thing I wrote."),
    ]
    assert [c.text for c in words.comments([clinic.episode.pk], limit=1)] == [
        "Second thing I wrote."
    ]


@pytest.mark.django_db
def test_one_query_whatever_the_number_of_appointments() -> None:
    episode = factories.EpisodeFactory.create()
    appointments = [_session(episode, n, f"note {n}") for n in range(1, 4)]
    with CaptureQueriesContext(connection) as small:
        words.for_appointments([a.pk for a in appointments])
        words.comments([episode.pk])
    appointments += [_session(episode, n, f"note {n}") for n in range(4, 20)]
    with CaptureQueriesContext(connection) as large:
        words.for_appointments([a.pk for a in appointments])
        words.comments([episode.pk])
    assert len(small) == len(large) == 2


def test_client_page_shows_recent_words_near_the_top_escaped(clinic: Clinic) -> None:
    for number in range(2, 10):
        _session(clinic.episode, number, f"Comment number {number} <b>bold</b>")
    http = HttpClient()
    http.force_login(clinic.owner)
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    words_at = page.index("In their own words")
    assert words_at < page.index("Sessions</h3>")
    assert "Comment number 9 &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page
    assert "Comment number 2 " not in page  # older ones are on the client's words page
    assert reverse("client_words", args=[clinic.client.code]) in page
    event = AuditEvent.objects.filter(action="care.responses.read").latest("pk")
    assert event.client_id == clinic.client.pk


def test_client_words_page_lists_everything_for_owner_and_supervisor(clinic: Clinic) -> None:
    for number in range(2, 10):
        _session(clinic.episode, number, f"Comment number {number}")
    for user in (clinic.owner, clinic.supervisor):
        http = HttpClient()
        http.force_login(user)
        response = http.get(reverse("client_words", args=[clinic.client.code]))
        page = response.content.decode()
        assert all(f"Comment number {n}" in page for n in range(2, 10))
        assert page.index("Comment number 9") < page.index("Comment number 2")
        assert "no-store" in response["Cache-Control"]
    outsider = HttpClient()
    outsider.force_login(clinic.colleague)
    assert outsider.get(reverse("client_words", args=[clinic.client.code])).status_code == 404
    assert AuditEvent.objects.filter(action="care.responses.read", client_id=clinic.client.pk)


@pytest.mark.django_db
def test_client_words_page_queries_do_not_grow() -> None:
    therapist = factories.UserFactory.create()
    episode = factories.EpisodeFactory.create(therapist=therapist)
    http = HttpClient()
    http.force_login(therapist)
    url = reverse("client_words", args=[episode.client.code])
    _session(episode, 1, "one")
    with CaptureQueriesContext(connection) as small:
        http.get(url)
    for n in range(2, 15):
        _session(episode, n, f"note {n}")
    with CaptureQueriesContext(connection) as large:
        http.get(url)
    assert len(small) == len(large)


def _ending(appointment: Appointment, take: str, know: str = "") -> None:
    record_response(
        episode=appointment.episode,
        appointment=appointment,
        instrument_id="ending",
        answers={"take": take, "know": know},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
        submitted_at=appointment.scheduled_at + timedelta(hours=2),
    )


def test_the_ending_answer_is_labelled_for_the_therapist_and_comes_after_the_session(
    clinic: Clinic,
) -> None:
    appointment = _session(clinic.episode, 12, "Nothing, it was good.")
    _ending(appointment, "Patience with myself <3", "You helped.")
    found = words.for_appointments([appointment.pk])[appointment.pk]
    ending = next(r for r in found if r.instrument == "ending")
    assert ending.part == "after" and ending.total is None and not ending.risk
    assert [(a.question, a.text) for a in ending.open_answers] == [
        ("What they will take with them", "Patience with myself <3"),
        ("What they would like their therapist to know", "You helped."),
    ]
    assert [a.text for a in words.ending_answers([clinic.episode.pk])] == [
        "Patience with myself <3",
        "You helped.",
    ]


def test_the_ending_answer_is_on_the_session_page_and_the_client_words_page(
    clinic: Clinic,
) -> None:
    appointment = _session(clinic.episode, 12, "Nothing, it was good.")
    _ending(appointment, "Patience with myself <3")
    for user in (clinic.owner, clinic.supervisor):
        http = HttpClient()
        http.force_login(user)
        session = http.get(reverse("appointment_detail", args=[appointment.pk])).content.decode()
        after = session[session.index("After the session") :]
        assert "What they will take with them" in after
        assert "Patience with myself &lt;3" in after and "<3" not in session
        listed = http.get(reverse("client_words", args=[clinic.client.code])).content.decode()
        assert "What they will take with them" in listed
        assert "Patience with myself &lt;3" in listed
    outsider = HttpClient()
    outsider.force_login(clinic.colleague)
    assert outsider.get(reverse("appointment_detail", args=[appointment.pk])).status_code == 404


def test_no_ending_answer_means_nothing_to_show(clinic: Clinic) -> None:
    appointment = _session(clinic.episode, 12, "Fine.")
    _ending(appointment, "", "")  # the client opened the form and wrote nothing
    assert words.ending_answers([clinic.episode.pk]) == ()


def test_client_page_shows_the_latest_sessions_answers_item_by_item(clinic: Clinic) -> None:
    clinic.appointment.responses.all().delete()
    _session(clinic.episode, 2)
    _session(clinic.episode, 3)
    http = HttpClient()
    http.force_login(clinic.owner)
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    latest = page.split('class="latest-answers"')[1].split("</details>")[0]
    assert "session 3" in latest
    assert "Little interest or pleasure in doing things" in latest
    assert "<strong>Several days (1)</strong>" in latest
    assert "7 of 10" in latest  # the check-in's dimensions too
    read = AuditEvent.objects.filter(action="care.responses.read", client_id=clinic.client.pk)
    assert read.get().data["responses"] == 2
