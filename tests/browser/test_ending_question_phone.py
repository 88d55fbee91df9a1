"""The last check-in's ending question on a 360 px phone, in English and in Spanish: after the
check-in, open questions only, axe-clean, no sideways scrolling; screenshots in test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.care.models import Response
from tests.browser.conftest import Shots, assert_accessible, assert_no_horizontal_scroll
from tests.checkin.conftest import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _final(visit: Visit, lang: str) -> None:
    visit.appointment.is_final = True
    visit.appointment.save(update_fields=["is_final"])
    client = visit.episode.client
    client.preferred_language = lang
    client.save(update_fields=["preferred_language"])


@pytest.mark.parametrize(
    ("lang", "send", "question"),
    [
        ("en", "Send my answers", "What will you take with you from our work together?"),
        ("es", None, "¿Qué se llevará usted de nuestro trabajo juntos?"),
    ],
    ids=["en", "es"],
)
def test_the_ending_question_on_a_phone(
    phone: Any,
    live_server: Any,
    visit: Visit,
    shots: Shots,
    lang: str,
    send: str | None,
    question: str,
    after_session: None,
) -> None:
    _final(visit, lang)
    phone.goto(live_server.url + visit.url("answer", "checkin"))
    for item in ("bond", "goals", "tasks", "overall"):
        phone.locator(f"input[name='q_{item}'][value='8']").check(force=True)
    phone.locator("button[type=submit]").click()
    phone.wait_for_url("**/answer/ending/")
    shots.take(phone, f"ending-question-{lang}")
    assert_accessible(phone)
    assert_no_horizontal_scroll(phone)
    phone.get_by_label(question).fill("Saying what I need, out loud.")
    if send:
        phone.get_by_role("button", name=send).click()
    else:
        phone.locator("button[type=submit]").click()
    phone.wait_for_url("**/thanks/")
    shots.take(phone, f"ending-thanks-{lang}")
    assert_accessible(phone)
    stored = Response.objects.get(instrument="ending")
    assert stored.open_answers == {"take": "Saying what I need, out loud."}
