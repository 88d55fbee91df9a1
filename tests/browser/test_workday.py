"""A therapist's whole day on a fresh database (no demo data), as issue 9 asks to check it:

create a client and an episode with goals, book a weekly series, send the link (the email is captured),
answer as the client on a 360 px phone with an open answer, see the answer and the alert on the
therapist's pages, acknowledge it and record the repair, write a reflection and share it, see it as the
supervisor, end the episode, download both termination PDFs and find the scores in their text.

Time: the first session is booked a few minutes ahead; the test then moves the clock (time-machine
moves it for the live server's thread too) past the session's start, so that attendance can be recorded,
which Alliance refuses for a session that has not started. Every step leaves a screenshot in
test-artifacts/screenshots/test_workday/ and passes the axe-core check.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from alliance.accounts.models import Role
from alliance.care.models import Alert, Appointment, Client, Reflection, Response
from tests import factories
from tests.browser.conftest import PHONE, Shots, check_page, sign_in_with_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pdf_text(page: Any, url: str) -> str:
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert "no-store" in response.headers["cache-control"]
    reader = PdfReader(io.BytesIO(response.body()))
    return "\n".join(p.extract_text() for p in reader.pages)


def _choose(page: Any, item: str, value: int) -> None:
    page.locator(f"input[name='q_{item}'][value='{value}']").check(force=True)


def test_a_therapists_whole_day(browser: Any, live_server: Any, shots: Shots) -> None:
    therapist = factories.UserFactory.create(
        email="ada@clinic.test", first_name="Ada", last_name="Therapist"
    )
    supervisor = factories.UserFactory.create(
        email="sam@clinic.test", first_name="Sam", last_name="Supervisor", role=Role.SUPERVISOR
    )
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=therapist)
    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.set_default_timeout(20_000)

    # 1. A new client with goals in their own words.
    sign_in_with_form(desk, live_server, therapist.email)
    desk.get_by_role("link", name="Add a client").click()
    desk.get_by_label("Name", exact=True).fill("Philippa Ravensworth")
    desk.get_by_label("Email", exact=True).fill("philippa@example.com")
    desk.get_by_label("Agreed to receive check-in links by email").check()
    desk.get_by_label("Goal 1").fill("Say no to my sister without feeling guilty")
    desk.get_by_label("Goal 2").fill("Sleep before midnight most nights")
    check_page(desk, shots, "add-client")
    desk.get_by_role("button", name="Add the client").click()
    desk.get_by_text("with their first episode").wait_for()
    client = Client.objects.get(episodes__therapist=therapist)
    episode = client.episodes.get()
    assert client.code in desk.url and "Ravensworth" not in desk.url
    check_page(desk, shots, "client-page-new")

    # 2. A weekly series of four, the first a few minutes from now.
    first = timezone.localtime() + timedelta(minutes=3)
    desk.goto(f"{live_server.url}/episodes/{episode.pk}/book/")
    desk.get_by_label("Date", exact=True).fill(first.strftime("%Y-%m-%d"))
    desk.get_by_label("Time", exact=True).fill(first.strftime("%H:%M"))
    desk.get_by_label("Weekly").check()
    desk.get_by_label("Number of sessions").fill("4")
    check_page(desk, shots, "book-series")
    desk.get_by_role("button", name="Book").click()
    desk.wait_for_url(f"**/clients/{client.code}/")
    sessions = list(episode.appointments.order_by("scheduled_at"))
    assert [a.session_number for a in sessions] == [1, 2, 3, 4]
    assert sessions[1].scheduled_at - sessions[0].scheduled_at == timedelta(weeks=1)
    appointment = sessions[0]

    # 3. Send the check-in link by email: no name in the subject, the link in the body.
    desk.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    desk.get_by_role("button", name="Send the link by email").click()
    desk.wait_for_load_state()
    check_page(desk, shots, "link-sent")
    [email] = mail.outbox
    assert email.to == ["philippa@example.com"]
    assert "Philippa" not in email.subject and "Ravensworth" not in email.subject
    link = re.search(r"https?://\S+/c/[\w-]+/", str(email.body))
    assert link is not None, email.body

    # 4. The client answers on a 360 px phone, with an open answer.
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    ).new_page()
    phone.set_default_timeout(20_000)
    phone.goto(link.group(0))
    check_page(phone, shots, "client-landing", phone=True)
    assert "Ravensworth" not in phone.content()
    phone.get_by_role("link", name="PHQ-9").click()
    for item, value in zip(range(1, 10), [2, 2, 1, 1, 2, 1, 1, 1, 0], strict=True):
        _choose(phone, str(item), value)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/answer/gad7/")
    for item in range(1, 8):
        _choose(phone, str(item), 1)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/answer/gbo/")
    _choose(phone, "goal1", 3)
    _choose(phone, "goal2", 5)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/thanks/")
    # The session takes place; as it ends the client opens the link again for the check-in (it
    # opens only then: alliance.checkin.flow.after_session_opens_at).
    assert "Session check-in" not in phone.content()
    session_end = appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes)
    with time_machine.travel(session_end, tick=True):
        phone.goto(link.group(0))
        phone.get_by_role("link", name="Session check-in").click()
        for dimension, rating in (("bond", 6), ("goals", 4), ("tasks", 5), ("overall", 5)):
            _choose(phone, dimension, rating)
        words = "You moved on quickly when I talked about my sister & I felt <unheard>."
        phone.get_by_label("What could have been better today?").fill(words)
        check_page(phone, shots, "client-checkin", phone=True)
        phone.get_by_role("button", name="Send my answers").click()
        phone.wait_for_url("**/thanks/")
        check_page(phone, shots, "client-thanks", phone=True)
    phq9 = Response.objects.get(episode=episode, instrument="phq9")
    assert phq9.total == 11

    # 5. The therapist reads the words (escaped) and meets the alert.
    desk.goto(f"{live_server.url}/clients/{client.code}/")
    assert desk.get_by_text(words).first.is_visible()
    assert "<unheard>" not in desk.content()  # shown as text, never as markup
    rupture = Alert.objects.get(episode=episode, kind="rupture")
    card = desk.locator(f"#alert-{rupture.pk}")
    check_page(desk, shots, "client-page-alert")
    card.get_by_role("button", name="Acknowledge").click()
    desk.locator(f"#alert-{rupture.pk} .pill", has_text="Acknowledged").wait_for()
    desk.locator(f"#alert-{rupture.pk}").get_by_label("We talked about it in session:").fill(
        "Named that I rushed past her sister; agreed to slow down and check in."
    )
    desk.locator(f"#alert-{rupture.pk}").get_by_role(
        "button", name="Record the repair conversation"
    ).click()
    desk.locator(f"#alert-{rupture.pk} .pill", has_text="Repair discussed").wait_for()
    rupture.refresh_from_db()
    assert rupture.status == "repair_discussed"

    # 6. After the session: attendance, rating, then a shared reflection.
    with time_machine.travel(appointment.scheduled_at + timedelta(minutes=5), tick=True):
        desk.goto(f"{live_server.url}/appointments/{appointment.pk}/")
        assert desk.get_by_text(words).first.is_visible()
        desk.get_by_label("Attended").check()
        for scale in range(4):
            desk.locator(".scale").nth(scale).locator("input[value='8']").check()
        check_page(desk, shots, "session-form")
        desk.get_by_role("button", name="Save session").click()
        desk.wait_for_url(f"**/appointments/{appointment.pk}/reflection/")
        desk.locator("input[name='r_protective'][value='2']").check()
        desk.locator("input[name='r_anxious'][value='1']").check()
        reflection_text = "I hurried her when she spoke of her sister; my own family story?"
        desk.get_by_label("Your reflection").fill(reflection_text)
        desk.get_by_label("Share this reflection with my supervisor").check()
        check_page(desk, shots, "reflection")
        desk.get_by_role("button", name="Save reflection").click()
        desk.wait_for_url(f"**/clients/{client.code}/")
        assert Appointment.objects.get(pk=appointment.pk).attendance == "attended"
        reflection = Reflection.objects.get(appointment=appointment)
        assert reflection.shared_with_supervisor
        assert reflection.reactions == {"protective": 2, "anxious": 1}

        # 7. The supervisor reads the shared reflection.
        sup = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sup.set_default_timeout(20_000)
        sign_in_with_form(sup, live_server, supervisor.email)
        sup.goto(f"{live_server.url}/supervision/{therapist.pk}/")
        assert sup.get_by_text(reflection_text).is_visible()
        check_page(sup, shots, "supervisor")

        # 8. Ending well: end the episode and take both summaries.
        desk.goto(f"{live_server.url}/episodes/{episode.pk}/end/")
        desk.get_by_label("Reason").select_option("planned")
        check_page(desk, shots, "end-episode")
        desk.get_by_role("button", name="End the episode").click()
        desk.wait_for_load_state("networkidle")
        episode.refresh_from_db()
        assert episode.status == "ended" and episode.end_reason == "planned"
        # The rest of the series was cancelled with the ending.
        assert not episode.appointments.filter(attendance="scheduled").exists()
        record = _pdf_text(desk, f"{live_server.url}/episodes/{episode.pk}/termination/record.pdf")
        for_client = _pdf_text(
            desk, f"{live_server.url}/episodes/{episode.pk}/termination/client.pdf"
        )
    assert client.code in record and "11" in record  # the PHQ-9 total
    assert "Say no to my sister without feeling guilty" in for_client
    assert "11" in for_client
    assert reflection_text not in for_client and "Ravensworth" not in record
    for page in (desk, phone, sup):
        page.context.close()
