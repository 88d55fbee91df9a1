"""An acknowledged alert does not come back at the next session unless it got worse (issue 12, point 4),
proved end to end: real rows, the therapist's action through the page, the recompute through alert_sync.

The pure rule is reconcile()'s (alliance.alerts.lifecycle, brief A); these tests are the Django side.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.care import alert_sync
from alliance.care.models import Alert, Appointment, Attendance, Episode
from tests import factories
from tests.care.builders import http_as
from tests.care.test_alert_sync import RUPTURE_SERIES, _checkins

OPEN = "open"


@pytest.fixture
def episode(db: None) -> Episode:
    return factories.EpisodeFactory.create()


def _acknowledge(episode: Episode, alert: Alert) -> None:
    response = http_as(episode.therapist).post(
        reverse("alert_action", args=[alert.pk, "acknowledge"])
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged"


def _late_cancel(episode: Episode, number: int) -> Appointment:
    return factories.AppointmentFactory.create(
        episode=episode,
        session_number=number,
        scheduled_at=timezone.now() - timedelta(days=7 * (30 - number)),
        attendance=Attendance.LATE_CANCEL,
    )


def _state(episode: Episode, kind: str) -> list[tuple[str, str, str]]:
    return sorted(
        Alert.objects.filter(episode=episode, kind=kind).values_list("key", "severity", "status")
    )


def test_an_acknowledged_rupture_stays_acknowledged_when_the_next_sessions_are_no_worse(
    episode: Episode,
) -> None:
    _checkins(episode, RUPTURE_SERIES)
    alert_sync.sync([episode.pk])
    rupture = Alert.objects.get(episode=episode, kind="rupture")
    _acknowledge(episode, rupture)
    before = _state(episode, "rupture")

    _checkins(episode, [4], start=6)  # the next session: as low, not lower
    alert_sync.sync([episode.pk])
    alert_sync.sync([episode.pk])

    assert _state(episode, "rupture") == before
    assert not Alert.objects.filter(episode=episode, status=OPEN).exists()


def test_an_acknowledged_disengagement_does_not_come_back_as_a_new_alert(
    episode: Episode,
) -> None:
    """Two late cancellations raise it; the therapist acknowledges it; two more later, no worse,
    must not raise it again as a new open alert."""
    _checkins(episode, [8, 8, 8, 8])
    _late_cancel(episode, 5)
    _late_cancel(episode, 6)
    alert_sync.sync([episode.pk])
    [alert] = Alert.objects.filter(episode=episode, kind="disengagement")
    _acknowledge(episode, alert)
    severity = alert.severity

    _checkins(episode, [8], start=7)
    _late_cancel(episode, 8)
    _late_cancel(episode, 9)
    alert_sync.sync([episode.pk])

    after = Alert.objects.filter(episode=episode, kind="disengagement")
    reopened = [
        (a.key, a.severity, a.status) for a in after if a.status == OPEN and a.severity == severity
    ]
    assert reopened == [], f"an acknowledged alert came back no worse: {reopened}"


def test_an_acknowledged_alert_that_got_worse_comes_back(episode: Episode) -> None:
    """Acknowledged while yellow; the data now say red: the therapist must see it again, open."""
    _checkins(episode, RUPTURE_SERIES)
    alert_sync.sync([episode.pk])
    rupture = Alert.objects.get(episode=episode, kind="rupture")
    assert rupture.severity == "red"
    Alert.objects.filter(pk=rupture.pk).update(severity="yellow")  # as it was when acknowledged
    rupture.refresh_from_db()
    _acknowledge(episode, rupture)

    alert_sync.sync([episode.pk])

    worse = Alert.objects.filter(episode=episode, kind="rupture", severity="red", status=OPEN)
    assert worse.exists(), f"got worse but did not come back: {_state(episode, 'rupture')}"
    assert Alert.objects.filter(pk=rupture.pk).exists()  # nothing is ever deleted
