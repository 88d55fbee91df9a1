"""The Insights pages: the figures on the page are the analytics' figures on the same records
(and one rate is recounted independently from the rows), the filters narrow what they should,
each reader sees only what they may (no client's name or words anywhere), bad filters answer 400
with a message, every read is audited, and the cache gives way to new data."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent, Role, User
from alliance.analytics.outcomes import outcomes_report
from alliance.care import models as care
from alliance.insights.forms import default_period
from alliance.insights.pseudonyms import Pseudonyms
from alliance.insights.records import clinic_data
from tests import factories
from tests.conftest import with_totp
from tests.insights.builders import DbClinic, build_clinic

pytestmark = pytest.mark.django_db

PAGES = (
    "insights_outcomes",
    "insights_mine",
    "insights_relationship",
    "insights_checkin",
    "insights_alerts",
)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


@pytest.fixture
def db_clinic() -> DbClinic:
    return build_clinic(episodes=36, therapists=4, seed=7)


def _as(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _admin() -> User:
    # Administrators must have a second factor before any page opens.
    return with_totp(
        factories.UserFactory.create(email="admin@insights.test", role=Role.ADMINISTRATOR)
    )


def _supervisor_of(therapist: User) -> User:
    supervisor = factories.UserFactory.create(email="sup@insights.test", role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=therapist)
    return supervisor


def _ended_in(episodes: list[care.Episode], start: Any, end: Any) -> list[care.Episode]:
    return [e for e in episodes if e.ended_on is not None and start <= e.ended_on <= end]


def test_the_page_shows_the_analytics_figures_and_an_independent_dropout_count(
    db_clinic: DbClinic,
) -> None:
    response = _as(_admin()).get(reverse("insights_outcomes"))
    assert response.status_code == 200
    start, end = default_period()
    shown = response.context["outcomes"]
    expected = outcomes_report(
        clinic_data(start=start, end=end), start, end, as_of=timezone.localdate()
    ).as_dict()
    assert shown["nhs"]["recovery"]["numerator"] == expected["nhs"]["recovery"]["numerator"]
    assert shown["nhs"]["recovery"]["denominator"] == expected["nhs"]["recovery"]["denominator"]
    assert shown["effect_sizes"]["phq9"]["d"] == pytest.approx(
        expected["effect_sizes"]["phq9"]["d"]
    )

    # Dropout counted here from the rows themselves, not through the analytics.
    ended = _ended_in(db_clinic.episodes, start, end)
    dropouts = sum(1 for e in ended if e.end_reason == "dropout")
    assert ended and shown["dropout"]["denominator"] == len(ended)
    assert shown["dropout"]["numerator"] == dropouts
    page = response.content.decode()
    assert f"{dropouts} of {len(ended)}" in page
    assert "<svg" in page and 'role="img"' in page
    assert "Data completeness" in page and "95% interval" in page


def test_filters_narrow_the_episodes(db_clinic: DbClinic) -> None:
    http = _as(_admin())
    start, end = default_period()
    query = {"start": start.isoformat(), "end": end.isoformat(), "end_reason": "dropout"}
    shown = http.get(reverse("insights_outcomes"), query).context["outcomes"]
    dropouts = [e for e in _ended_in(db_clinic.episodes, start, end) if e.end_reason == "dropout"]
    assert shown["dropout"]["numerator"] == shown["dropout"]["denominator"] == len(dropouts)

    one = db_clinic.therapists[1]
    query = {"start": start.isoformat(), "end": end.isoformat(), "therapist": str(one.pk)}
    shown = http.get(reverse("insights_outcomes"), query).context["outcomes"]
    own_ended = [e for e in _ended_in(db_clinic.episodes, start, end) if e.therapist_id == one.pk]
    assert shown["counts"]["finished"] == len(own_ended)

    # An open period (both dates cleared) counts every ended episode.
    shown = http.get(reverse("insights_outcomes"), {"start": "", "end": "", "language": ""}).context
    assert shown["outcomes"]["counts"]["finished"] == sum(
        1 for e in db_clinic.episodes if e.ended_on is not None
    )


def test_a_therapist_sees_only_their_own(db_clinic: DbClinic) -> None:
    me, other = db_clinic.therapists[0], db_clinic.therapists[1]
    http = _as(me)
    assert http.get(reverse("insights_outcomes")).status_code == 404
    assert http.get(reverse("insights_alerts")).status_code == 404
    assert http.get(reverse("insights_checkin")).status_code == 404
    response = http.get(reverse("insights_mine"), {"start": "", "end": ""})
    mine = [e for e in db_clinic.episodes if e.therapist_id == me.pk]
    assert response.context["outcomes"]["counts"]["referrals"] == len(mine)
    # A therapist filter is not theirs to use: it is ignored (not a field of their form).
    response = http.get(
        reverse("insights_mine"), {"start": "", "end": "", "therapist": str(other.pk)}
    )
    assert response.context["outcomes"]["counts"]["referrals"] == len(mine)

    page = http.get(reverse("insights_relationship"))
    assert page.status_code == 200
    assert "therapist_rows" not in page.context
    own = page.context["own_view"]
    assert own["therapist"] == Pseudonyms().therapist(me.pk)
    body = page.content.decode()
    estimates = page.context["variation"]["therapists"]
    others = [t for t in estimates if t["therapist"] != own["therapist"]]
    assert others, "the fit must hold other therapists for this test to mean anything"
    for t in others:
        assert t["therapist"] not in body
    assert "therapist_chart" not in page.context
    assert other.display_name not in body


def test_a_supervisor_sees_their_supervisees_only(db_clinic: DbClinic) -> None:
    supervisee, outsider = db_clinic.therapists[0], db_clinic.therapists[2]
    http = _as(_supervisor_of(supervisee))
    response = http.get(reverse("insights_outcomes"), {"start": "", "end": ""})
    theirs = [e for e in db_clinic.episodes if e.therapist_id == supervisee.pk]
    assert response.context["outcomes"]["counts"]["referrals"] == len(theirs)
    # Choosing a therapist they do not supervise is refused, not shown.
    refused = http.get(reverse("insights_outcomes"), {"therapist": str(outsider.pk)})
    assert refused.status_code == 400
    assert "outcomes" not in refused.context

    page = http.get(reverse("insights_relationship"))
    names = [t["name"] for t in page.context["therapist_rows"]]
    assert names == [supervisee.display_name]
    assert outsider.display_name not in page.content.decode()


def test_administrators_see_aggregates_never_a_clients_name_or_words(db_clinic: DbClinic) -> None:
    http = _as(_admin())
    for name in PAGES:
        if name == "insights_mine":
            assert http.get(reverse(name)).status_code == 404
            continue
        response = http.get(reverse(name), {"start": "", "end": ""})
        assert response.status_code == 200, name
        body = response.content.decode()
        for secret in (*db_clinic.names, *db_clinic.secrets):
            assert secret not in body, (name, secret)
        for client in db_clinic.clients:
            assert client.code not in body, name


def test_the_relationship_page_shows_every_therapist_in_id_order_to_an_administrator(
    db_clinic: DbClinic,
) -> None:
    page = _as(_admin()).get(reverse("insights_relationship"), {"start": "", "end": ""})
    rows = page.context["therapist_rows"]
    fitted = page.context["variation"]["therapists"]
    assert [r["therapist"] for r in rows] == [t["therapist"] for t in fitted]
    assert len(rows) == 4
    # Never sorted by estimate (the analytics' id order is kept even when it is not sorted).
    body = page.content.decode()
    assert "unstable" in body  # four therapists: the warning is shown
    assert page.context["model"]["fixed_effects"]["a_within"]["estimate"] is not None
    assert (
        "Check-in above the client&#x27;s own usual" in body
        or "Check-in above the client's own usual" in body
    )


def test_the_check_in_page_says_not_validated_and_not_enough_data(db_clinic: DbClinic) -> None:
    # 36 episodes, fewer than the psychometrics' minimum of 30 clients in a short period.
    admin = _admin()
    start = timezone.localdate() - timedelta(days=20)
    response = _as(admin).get(reverse("insights_checkin"), {"start": start.isoformat()})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Not yet validated" in body
    assert "Not enough data" in body


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2025-05-01", "end": "2025-04-01"},
        {"start": "not a date"},
        {"end": "1850-01-01"},
        {"intake_band": "catastrophic"},
        {"therapist": "999999"},
    ],
)
def test_bad_filters_answer_400_with_a_message(db_clinic: DbClinic, query: dict[str, str]) -> None:
    http = _as(_admin())
    for name in ("insights_outcomes", "insights_alerts"):
        if name == "insights_alerts" and "intake_band" in query:
            continue
        response = http.get(reverse(name), query)
        assert response.status_code == 400, (name, query)
        assert b'role="alert"' in response.content
        assert b"cannot be used" in response.content


def test_every_read_is_audited_with_codes_only(db_clinic: DbClinic) -> None:
    admin = _admin()
    before = AuditEvent.objects.count()
    _as(admin).get(reverse("insights_alerts"), {"start": "2024-01-01", "end": ""})
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == before + 1
    assert event is not None and event.action == "insights.alerts.viewed"
    assert event.actor == admin and event.data["start"] == "2024-01-01"


def test_the_cache_keeps_figures_until_the_data_changes(db_clinic: DbClinic) -> None:
    http = _as(_admin())
    query = {"start": "", "end": ""}
    first = http.get(reverse("insights_outcomes"), query)
    assert first.context["from_cache"] is False
    again = http.get(reverse("insights_outcomes"), query)
    assert again.context["from_cache"] is True
    assert again.context["computed_at"] == first.context["computed_at"]
    # A new response changes the data stamp: the figures are computed again.
    episode = db_clinic.episodes[0]
    factories.ResponseFactory.create(
        episode=episode,
        instrument="phq9",
        total=9.0,
        submitted_at=datetime.combine(episode.started_on, time(8), tzinfo=UTC),
    )
    assert http.get(reverse("insights_outcomes"), query).context["from_cache"] is False


def test_an_empty_clinic_says_nobody_to_count() -> None:
    http = _as(_admin())
    page = http.get(reverse("insights_outcomes"))
    assert page.status_code == 200
    assert "no one to count" in page.content.decode()
    assert http.get(reverse("insights_relationship")).status_code == 200
