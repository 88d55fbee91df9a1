"""The caseload's prepared queries (alliance.core.prepared, queries.own_*) return exactly what the
ORM-built ones return, for every filter and for the owner, a colleague and a supervisor; and a
prepared query refuses a builder whose parameters it cannot track."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from alliance.accounts.models import Role, User
from alliance.care import access, queries
from alliance.care.models import AlertStatus, Attendance, Episode
from alliance.core.prepared import NotPreparable, PreparedQuery
from tests import factories

FILTERS = [
    queries.CaseloadFilter(status, with_alerts, quiet, ending)
    for status in ("active", "ended", "all")
    for with_alerts, quiet, ending in itertools.product((False, True), repeat=3)
]


def _episode(therapist: User, n: int, *, status: str = "active") -> Episode:
    episode = factories.EpisodeFactory.create(
        therapist=therapist,
        status=status,
        **(
            {"ended_on": timezone.localdate(), "end_reason": "planned"} if status == "ended" else {}
        ),
        client=factories.ClientFactory.create(code=f"C-Q{n:04d}", name=f"Client number {n}"),
    )
    now = timezone.now()
    # Varied histories: attended sessions, bookings ahead (0, 1 or 2), answers this week or not.
    for k in range(n % 4):
        factories.AppointmentFactory.create(
            episode=episode, scheduled_at=now - timedelta(days=7 * (k + 1) + n % 3)
        )
    for k in range(n % 3):
        factories.AppointmentFactory.create(
            episode=episode,
            scheduled_at=now + timedelta(days=k + 1, hours=n),
            attendance=Attendance.SCHEDULED,
        )
    if n % 2:
        for days, total in ((40, 18.0), (3 + n % 9, 10.0 + n % 5)):
            factories.ResponseFactory.create(
                episode=episode, total=total, submitted_at=now - timedelta(days=days)
            )
        factories.ResponseFactory.create(
            episode=episode, instrument="checkin", total=6.5 + n % 3, submitted_at=now
        )
    severities = ("urgent", "red", "yellow", "info")
    kinds = ("risk", "rupture", "not_on_track", "disengagement")
    statuses = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED)
    for k in range(n % 5):
        factories.AlertFactory.create(
            episode=episode,
            severity=severities[(n + k) % 4],
            kind=kinds[(n * k) % 4],
            status=statuses[(n + 2 * k) % 3],
        )
    return episode


@pytest.fixture
def people(db: None) -> dict[str, User]:
    owner = factories.UserFactory.create()
    colleague = factories.UserFactory.create()
    supervisor = factories.UserFactory.create(role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=owner)
    for n in range(23):
        _episode(owner, n, status="ended" if n % 7 == 3 else "active")
    for n in range(100, 106):
        _episode(colleague, n)
    _episode(supervisor, 200)
    # A client seen by two therapists: the attention list is per client, names per client.
    shared = _episode(owner, 301)
    factories.EpisodeFactory.create(client=shared.client, therapist=colleague)
    return {"owner": owner, "colleague": colleague, "supervisor": supervisor}


@pytest.mark.parametrize("role", ["owner", "colleague", "supervisor"])
def test_prepared_caseload_equals_the_orm_built_one(people: dict[str, User], role: str) -> None:
    user = people[role]
    own = access.episodes_visible_to(user).filter(therapist=user)
    now = timezone.now()
    for filters in FILTERS:
        expected = queries.caseload_order(own, filters=filters)
        places = queries.own_caseload_order(user.pk, filters, now)
        assert places == expected, filters
        for page in (places[:5], places[5:], places):
            assert queries.own_caseload_rows(user.pk, page, now) == queries.caseload_rows(own, page)
    active = queries.own_caseload_order(user.pk)
    prepared = queries.own_attention(user.pk, active)
    built = queries.attention_from(active, access.alerts_visible_to(user))
    assert prepared == built
    assert role != "owner" or len(prepared) > 5  # the comparison covered a real list


def test_a_prepared_query_serves_every_user_from_one_compilation(people: dict[str, User]) -> None:
    owner, colleague = people["owner"], people["colleague"]
    for user in (owner, colleague, owner):
        placed = queries.own_caseload_order(user.pk)
        assert [p.pk for p in placed] and {p.pk for p in placed} == set(
            Episode.objects.filter(therapist=user, status="active").values_list("pk", flat=True)
        )
    assert queries.own_caseload_rows(owner.pk, []) == []


def test_an_empty_in_list_returns_no_rows(people: dict[str, User]) -> None:
    prepared = PreparedQuery(
        lambda size, *, ids: Episode.objects.filter(pk__in=ids).values_list("pk")
    )
    assert prepared.rows(0, ids=()) == []
    some = list(Episode.objects.values_list("pk", flat=True)[:3])
    assert sorted(row[0] for row in prepared.rows(3, ids=tuple(some))) == sorted(some)


def test_a_value_derived_from_an_argument_is_refused(db: None) -> None:
    # `now + 1 day` lands in the SQL as a value no sentinel matches: running it would be wrong.
    prepared = PreparedQuery(
        lambda variant, *, now: Episode.objects.filter(
            appointments__scheduled_at__gte=now + timedelta(days=1)
        ).values_list("pk")
    )
    with pytest.raises(NotPreparable):
        prepared.rows(None, now=timezone.now())


def test_datetimes_come_back_aware_and_converted(people: dict[str, User]) -> None:
    owner = people["owner"]
    places = queries.own_caseload_order(owner.pk)
    rows = queries.own_caseload_rows(owner.pk, places)
    booked = [row["next_appointment_at"] for row in rows if row["next_appointment_at"]]
    assert booked and all(isinstance(when, datetime) and timezone.is_aware(when) for when in booked)
