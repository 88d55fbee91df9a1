"""The Insights alert page says how often alerts were acted on (issue 12, point 4): from the therapist's
real actions through the pages, to the records, to the page; never the words of a note or snooze."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.care.models import AlertKind, AlertSeverity
from alliance.insights.records import clinic_data
from tests import factories
from tests.care.builders import http_as

pytestmark = pytest.mark.django_db
SNOOZE_REASON = "Snooze-ultramarine: waiting for the new job to settle"
REPAIR_NOTE = "Repair-ochre: we talked about the cancelled session"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def test_the_actions_reach_the_records_and_the_page() -> None:
    therapist = factories.UserFactory.create()
    supervisor = factories.UserFactory.create(role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=therapist)
    episode = factories.EpisodeFactory.create(
        therapist=therapist, started_on=timezone.localdate() - timedelta(days=30)
    )
    raised = timezone.now() - timedelta(days=3)

    def make(kind: str, severity: str = AlertSeverity.YELLOW) -> int:
        return int(
            factories.AlertFactory.create(
                episode=episode, kind=kind, severity=severity, created_at=raised
            ).pk
        )

    snoozed, discussed, closed = (
        make(AlertKind.NOT_ON_TRACK),
        make(AlertKind.RUPTURE),
        make(AlertKind.RUPTURE),
    )
    make(AlertKind.DISENGAGEMENT)  # nobody touches it
    risk = make(AlertKind.RISK, AlertSeverity.URGENT)
    http = http_as(therapist)
    once = {"submission_id": str(uuid.uuid4())}
    http.post(
        reverse("alert_snooze", args=[snoozed]), {"weeks": "1", "reason": SNOOZE_REASON, **once}
    )
    http.post(reverse("alert_action", args=[discussed, "discuss_repair"]), {"note": REPAIR_NOTE})
    http.post(reverse("alert_action", args=[closed, "close"]), {"reason": "duplicate"})
    http.post(reverse("alert_action", args=[risk, "acknowledge"]))

    records = {(a.kind, a.status): a for a in clinic_data().alerts}
    assert records[("not_on_track", "acknowledged")].snoozed
    assert records[("rupture", "repair_discussed")].repair_discussed
    assert records[("rupture", "closed")].close_reason == "duplicate"
    assert records[("disengagement", "open")].first_action_at is None
    first = records[("risk", "acknowledged")].first_action_at
    assert first is not None and first > raised

    page = http_as(supervisor).get(reverse("insights_alerts"), {"start": "", "end": ""})
    assert page.status_code == 200
    tables = page.context["acted_on"]
    [risk_row] = tables.risk
    assert (risk_row.acted_on.counts, risk_row.snoozed) == ("1 of 1", None)
    by_kind = {row.kind: row for row in tables.others}
    assert by_kind["rupture"].acted_on.counts == "2 of 2"
    assert by_kind["rupture"].repair_discussed.counts == "1 of 2"
    assert by_kind["rupture"].closed == "Duplicate of another alert 1"
    assert by_kind["not_on_track"].snoozed.counts == "1 of 1"
    assert by_kind["all_but_risk"].acted_on.counts == "3 of 4"
    assert by_kind["all_but_risk"].snoozed.counts == "1 of 4"
    body = page.content.decode()
    assert "Acted on" in body and "Time to first action" in body and "never (risk)" in body
    for secret in (SNOOZE_REASON, REPAIR_NOTE, "ultramarine", "ochre"):
        assert secret not in body
