"""The brief prints on one A4 page (issue 9, point 5), for the busiest clients of a simulated clinic:
those with the most open alerts, the most written answers and goals, printed by Chromium with the
page's print stylesheet, counted with pypdf. The PDFs go to test-artifacts/ to be looked at."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from pypdf import PdfReader

from alliance.accounts.models import User
from alliance.care import alert_sync
from alliance.care.models import Appointment, Episode
from alliance.demo.loader import load_clinic, settle_demo_history
from alliance.demo.simulate import simulate_clinic
from tests.browser.conftest import SCREENSHOTS, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_brief_of_the_busiest_clients_prints_on_one_a4_page(
    desktop: Any, live_server: Any
) -> None:
    load_clinic(simulate_clinic(2026, 40, 3, 9, timezone.localdate()))
    alert_sync.sync(refit=True)
    settle_demo_history()
    busiest = (
        Episode.objects.filter(status="active")
        .annotate(
            open_alerts=Count("alerts", filter=Q(alerts__resolved_at__isnull=True)),
            comments=Count("responses", filter=Q(responses__has_comment=True)),
        )
        .order_by("-open_alerts", "-comments")[:3]
    )
    folder = SCREENSHOTS / "brief-print"
    folder.mkdir(parents=True, exist_ok=True)
    checked = 0
    for episode in busiest:
        upcoming = (
            Appointment.objects.filter(episode=episode, attendance="scheduled")
            .order_by("scheduled_at")
            .first()
        )
        if upcoming is None:
            continue
        signed_in(desktop, live_server, User.objects.get(pk=episode.therapist_id))
        desktop.goto(f"{live_server.url}/appointments/{upcoming.pk}/brief/")
        desktop.emulate_media(media="print")
        pdf = desktop.pdf(format="A4", print_background=True)
        (folder / f"{episode.client.code}.pdf").write_bytes(pdf)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        assert pages == 1, f"the brief of {episode.client.code} prints on {pages} pages"
        checked += 1
    assert checked >= 2
