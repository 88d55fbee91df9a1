"""The reflection journal and the supervisor's page in a real browser, on a phone and on a laptop: write
a reflection with its checklist, see it on the client page, the reactions page and the journal, and as
the supervisor on the supervisee's page. Each page passes axe and fits 360 px."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alliance.care.models import Attendance, Reflection
from tests import factories
from tests.browser.conftest import Shots, check_page, signed_in
from tests.conftest import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_write_a_reflection_and_see_it_as_the_supervisor(
    request: pytest.FixtureRequest, device: str, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    page = request.getfixturevalue(device)
    on_phone = device == "phone"
    earlier = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=2,
        scheduled_at=timezone.now() - timedelta(days=14),
        attendance=Attendance.ATTENDED,
    )
    factories.ReflectionFactory.create(
        episode=clinic.episode,
        appointment=earlier,
        reactions={"frustrated": 3},
        shared_with_supervisor=True,
        text="Frustrated when the homework was not done.",
    )
    session = factories.AppointmentFactory.create(
        episode=clinic.episode,
        session_number=3,
        scheduled_at=timezone.now() - timedelta(days=7),
        attendance=Attendance.ATTENDED,
    )
    factories.ResponseFactory.create(
        episode=clinic.episode, appointment=session, instrument="checkin", total=5.5
    )
    signed_in(page, live_server, clinic.owner)
    page.goto(f"{live_server.url}/clients/{clinic.client.code}/")
    page.get_by_role("link", name="Write a reflection on session 3").click()
    page.wait_for_url("**/reflection/")
    check_page(page, shots, "reflection-form", phone=on_phone)

    # Nothing chosen and nothing written: the page says why.
    page.get_by_role("button", name="Save reflection").click()
    page.get_by_text("Choose at least one reaction").wait_for()
    check_page(page, shots, "reflection-empty-refused", phone=on_phone)

    page.get_by_role("group", name="Frustrated").get_by_label("3 · strongly").check()
    page.get_by_role("group", name="Moved").get_by_label("1 · a little").check()
    page.get_by_label("Your reflection").fill("Again I felt the pull to push harder.")
    page.get_by_label("Share this reflection with my supervisor").check()
    page.get_by_role("button", name="Save reflection").click()
    page.wait_for_url(f"**/clients/{clinic.client.code}/")
    page.get_by_text("consider bringing it to supervision").first.wait_for()
    check_page(page, shots, "client-page-with-suggestion", phone=on_phone)
    reflection = Reflection.objects.get(appointment=session)
    assert reflection.reactions == {"frustrated": 3, "moved": 1}
    assert reflection.shared_with_supervisor

    page.get_by_role("link", name="Reactions beside the client's ratings").first.click()
    page.wait_for_url("**/reactions/")
    page.get_by_text("Frustrated (strongly), Moved (a little)").wait_for()
    check_page(page, shots, "reactions-beside-ratings", phone=on_phone)

    page.goto(f"{live_server.url}/journal/")
    page.get_by_text("Strong frustration in 2 of your last").first.wait_for()
    check_page(page, shots, "journal", phone=on_phone)

    page.context.clear_cookies()
    signed_in(page, live_server, clinic.supervisor)
    page.goto(f"{live_server.url}/supervision/")
    page.get_by_role("link", name="Supervision page").first.click()
    page.get_by_text("Again I felt the pull to push harder.").wait_for()
    assert clinic.private_reflection.text not in page.content()
    page.get_by_label("Your note").fill("Talked about the pull to push; try staying with silence.")
    page.get_by_role("button", name="Add note").click()
    page.get_by_text("Supervision note saved").wait_for()
    check_page(page, shots, "supervisee-page", phone=on_phone)
