"""A therapist's day in Spanish, in Chromium, and not one English word left on a page (issue 13).

The therapist's browser asks for Spanish, so the sign-in page is Spanish; once in, she chooses Español
on her Language page (the form), and then opens every page of her day: caseload, agenda, a client page
with its open alert, the session, the brief, her reflection, the ending, the goals, the safety plan,
her journal and Insights. Her supervisor, whose account is set to Spanish, opens the supervision and
Insights pages. A client's pages follow the client's record, not the staff's choice (the last step).

What counts as "an English string": a whole word, in the page's visible text, from
tests.english_words.ENGLISH_WORDS — common words of Alliance's own English interface that are not
also Spanish words ("no", "plan", "total", "supervisor", "agenda", "has" are left out for that
reason). Before looking, the visible text loses what is not interface text:

- text people entered (client names, goals, answers, reflections, notes, concerns): every free-text
  value stored in the database is removed from the page text (`entered_text`), whatever its language;
- client codes, `<code>`, and anything marked in another language (`lang="en"`, e.g. "English" in a
  language switch);
- instrument names and items (`.item-text`): their wording lives with the instruments, not in the
  catalogs (docs/translating.md).

Alert titles and explanations are *not* removed: they are interface text, written by Alliance.
Failures list every page and the English words found there with a few words around each, so that the
missing translations can be found in the catalogs.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from alliance.accounts.models import User
from tests.browser.conftest import PASSWORD, Shots, check_page, signed_in
from tests.conftest import Clinic
from tests.english_words import english_in, entered_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Visible text without what people typed and what is not interface text (see the module docstring).
VISIBLE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll(
    'script, style, code, .code, .item-text, [lang]:not([lang="es"]), [hidden]'
  ).forEach((node) => node.remove());
  const holder = document.createElement('div');
  holder.style.position = 'absolute';
  holder.style.left = '-99999px';
  holder.appendChild(copy);
  document.body.appendChild(holder);
  const text = copy.innerText;
  holder.remove();
  return text;
}"""


def english_on(page: Any, entered: list[str]) -> list[str]:
    """The English words on the page, each with a few words around it."""
    return english_in(page.evaluate(VISIBLE_TEXT), entered)


def test_english_words_are_found_and_spanish_ones_are_not(browser: Any, live_server: Any) -> None:
    """The detector itself: it must flag an English sentence and pass a Spanish one."""
    page = browser.new_context().new_page()
    page.set_content(
        '<html lang="es"><body><p>Guardar la sesión</p><p lang="en">English</p>'
        "<p>Your caseload</p><code>the</code></body></html>"
    )
    hits = english_on(page, [])
    assert len(hits) == 2 and "'Your'" in hits[0] and "'caseload'" in hits[1]
    page.set_content(
        '<html lang="es"><body><p>Tus casos · Plan de seguridad · total</p></body></html>'
    )
    assert english_on(page, []) == []
    page.context.close()


def _visit(
    page: Any, url: str, found: dict[str, list[str]], entered: list[str], step: str, shots: Shots
) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "es", f"{url} is not lang=es"
    shots.take(page, step)
    if hits := english_on(page, entered):
        found[f"{step} ({url})"] = hits


def test_a_therapists_day_in_spanish_has_no_english_left(
    browser: Any, live_server: Any, clinic: Clinic, shots: Shots
) -> None:
    found: dict[str, list[str]] = {}
    base = live_server.url
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    desk = context.new_page()
    desk.set_default_timeout(20_000)
    desk.set_default_navigation_timeout(30_000)

    # Sign in: the browser asks for Spanish, so the sign-in page is Spanish.
    desk.goto(base + reverse("account_login"))
    assert desk.evaluate("document.documentElement.lang") == "es"
    entered = entered_text()
    if hits := english_on(desk, entered):
        found["sign-in"] = hits
    check_page(desk, shots, "sign-in")
    desk.get_by_label("Correo", exact=True).fill(clinic.owner.email)
    desk.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    desk.get_by_role("button", name="Acceder").click()
    desk.wait_for_url(lambda url: "/accounts/login/" not in url)

    # She chooses Spanish for good on her Language page.
    desk.goto(base + reverse("language_settings"))
    desk.get_by_label("Español").check()
    desk.get_by_role("button", name="Guardar").click()
    desk.wait_for_load_state()
    clinic.owner.refresh_from_db()
    assert clinic.owner.language == "es"

    c = clinic
    day = [
        ("language", reverse("language_settings")),
        ("caseload", reverse("caseload")),
        ("agenda", reverse("agenda")),
        ("client", reverse("client_detail", args=[c.client.code])),
        ("client-words", reverse("client_words", args=[c.client.code])),
        ("session", reverse("appointment_detail", args=[c.appointment.pk])),
        ("brief", reverse("appointment_brief", args=[c.appointment.pk])),
        ("reflection", reverse("reflection_edit", args=[c.appointment.pk])),
        ("reactions", reverse("client_reactions", args=[c.client.code])),
        ("goals", reverse("episode_goals", args=[c.episode.pk])),
        ("book", reverse("appointment_book", args=[c.episode.pk])),
        ("move", reverse("appointment_move", args=[c.appointment.pk])),
        ("cancel", reverse("appointment_cancel", args=[c.appointment.pk])),
        ("safety-plan", reverse("safety_plan", args=[c.episode.pk])),
        ("safety-plan-edit", reverse("safety_plan_edit", args=[c.episode.pk])),
        ("ending", reverse("episode_end", args=[c.episode.pk])),
        ("progress", reverse("episode_progress", args=[c.episode.pk])),
        ("charts", reverse("episode_charts", args=[c.episode.pk])),
        ("journal", reverse("journal")),
        ("insights", reverse("insights_mine")),
        ("email", reverse("email_settings")),
        ("calendar", reverse("calendar_settings")),
        ("new-client", reverse("client_create")),
    ]
    for step, path in day:
        _visit(desk, base + path, found, entered, step, shots)
    # The alert on the client page, with its actions, in Spanish.
    desk.goto(base + reverse("client_detail", args=[c.client.code]))
    card = desk.locator(f"#alert-{c.alert.pk}")
    card.get_by_role("button", name="Marcar como vista").click()
    desk.wait_for_load_state("networkidle")
    if hits := english_on(desk, entered):
        found["alert acknowledged"] = hits

    # The supervisor's pages, with Spanish chosen on her account.
    User.objects.filter(pk=c.supervisor.pk).update(language="es")
    sup = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sup.set_default_navigation_timeout(30_000)
    signed_in(sup, live_server, c.supervisor)
    for step, path in [
        ("supervision", reverse("supervision")),
        ("supervisee", reverse("supervisee_detail", args=[c.owner.pk])),
        ("concerns", reverse("concern_list")),
        ("concern", reverse("concern_detail", args=[c.concern.pk])),
        ("insights-outcomes", reverse("insights_outcomes")),
        ("insights-relationship", reverse("insights_relationship")),
        ("insights-alerts", reverse("insights_alerts")),
    ]:
        _visit(sup, base + path, found, entered, step, shots)

    # A client whose record says English gets English, even on this Spanish-speaking browser.
    desk.goto(base + reverse("checkin_landing", args=[c.token]))
    assert desk.evaluate("document.documentElement.lang") == "en"

    for page in (desk, sup):
        page.context.close()
    report = "\n".join(
        f"{where}:\n    "
        + "\n    ".join(hits[:12])
        + (f"\n    … {len(hits) - 12} more" if len(hits) > 12 else "")
        for where, hits in found.items()
    )
    assert not found, f"English left on {len(found)} pages:\n{report}"
