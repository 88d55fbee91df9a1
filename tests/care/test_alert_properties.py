"""Properties of the stored alerts over a generated episode history (issue 12, point 4 and "How we will
check it"), at the Django level: real rows, the therapist's actions through the pages, the recompute
through alert_sync.

- A recomputation never duplicates or loses an alert or its notes, whatever the therapist did in
  between (acknowledge, repair conversation, snooze, wake, close), and running it twice changes
  nothing the second time.
- Risk alerts are never grouped away, snoozed or delayed: a PHQ-9 item 9 answer above 0 gives an
  open urgent alert at once (before any recompute), awake, and on the caseload's "needs attention"
  list under the client, whatever snoozes exist.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from alliance.care import alert_sync
from alliance.care.alert_quiet import awake
from alliance.care.models import (
    Alert,
    AlertNote,
    Attendance,
    Episode,
    Respondent,
    ResponseSource,
)
from alliance.care.responses import record_response
from tests import factories
from tests.care.builders import http_as

SESSION = st.tuples(
    st.just("session"),
    st.sampled_from([9, 8, 8, 4, 2, 10]),  # the check-in total (each item): steady, and drops
    st.sampled_from([Attendance.ATTENDED] * 3 + [Attendance.NO_SHOW, Attendance.LATE_CANCEL]),
    st.sampled_from([0, 0, 0, 1, 3]),  # PHQ-9 item 9
)
ACT = st.tuples(
    st.just("act"),
    st.integers(0, 30),  # which alert (modulo how many there are)
    st.sampled_from(["acknowledge", "discuss_repair", "snooze", "unsnooze", "close"]),
)
SYNC = st.tuples(st.just("sync"))
HISTORY = st.lists(st.one_of(SESSION, SESSION, ACT, ACT, SYNC), min_size=6, max_size=20)


def _post(http: HttpClient, alert: Alert, action: str) -> None:
    submission = str(uuid.uuid4())
    if action == "snooze":
        http.post(
            reverse("alert_snooze", args=[alert.pk]),
            {"weeks": "2", "reason": "Seen; waiting a fortnight", "submission_id": submission},
        )
    elif action == "unsnooze":
        http.post(reverse("alert_unsnooze", args=[alert.pk]), {"submission_id": submission})
    else:
        http.post(
            reverse("alert_action", args=[alert.pk, action]),
            {"note": f"Note {submission[:8]}", "reason": "addressed", "submission_id": submission},
        )


def _session(episode: Episode, number: int, total: int, attendance: str, item9: int) -> Any:
    appointment = factories.AppointmentFactory.create(
        episode=episode,
        session_number=number,
        scheduled_at=timezone.now() - timedelta(days=7 * (40 - number)),
        attendance=attendance,
    )
    if attendance != Attendance.ATTENDED:
        return None
    record_response(
        episode=episode,
        appointment=appointment,
        instrument_id="checkin",
        answers={"bond": total, "goals": total, "tasks": total, "overall": total},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    )
    return record_response(
        episode=episode,
        appointment=appointment,
        instrument_id="phq9",
        answers={**{str(n): 2 for n in range(1, 9)}, "9": item9},
        respondent=Respondent.CLIENT,
        source=ResponseSource.CHECKIN,
    ).response


def _snapshot(episode: Episode) -> tuple[dict[int, tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
    alerts = {
        a.pk: (a.key, a.kind, a.severity, a.status, a.snoozed_until, a.session_number)
        for a in Alert.objects.filter(episode=episode)
    }
    notes = {
        n.pk: (n.alert_id, n.action, n.text, n.author_id)
        for n in AlertNote.objects.filter(alert__episode=episode)
    }
    return alerts, notes


def _check_nothing_lost_or_duplicated(
    episode: Episode, before: tuple[dict[int, Any], dict[int, Any]]
) -> None:
    alerts, notes = _snapshot(episode)
    assert set(before[0]) <= set(alerts), "an alert was lost"
    for pk, (key, kind, *_rest) in before[0].items():
        assert alerts[pk][:2] == (key, kind), "an alert changed identity"
    for pk, note in before[1].items():
        assert notes.get(pk) == note, "a note was lost or changed"
    # One live alert per key: a successor (<key>#2) only after the alert before it was closed.
    live: dict[str, int] = {}
    for key, _kind, _severity, status, *_ in alerts.values():
        if status != "closed":
            base = key.partition("#")[0]
            live[base] = live.get(base, 0) + 1
    assert all(n == 1 for n in live.values()), f"duplicated alerts: {live}"


def _attention_section(page: str) -> str:
    match = re.search(r'aria-labelledby="attention-heading">(.*?)</section>', page, re.S)
    return match.group(1) if match else ""


def _check_risk_at_once(episode: Episode, response: Any, http: HttpClient) -> None:
    """Right after the answer, before any recompute: open, urgent, awake, and on the caseload."""
    risk = Alert.objects.filter(episode=episode, kind="risk", key__endswith=f":r{response.pk}")
    alert = risk.get()
    assert alert.severity == "urgent" and alert.status == "open" and not alert.is_snoozed
    assert Alert.objects.filter(awake(), pk=alert.pk).exists()
    attention = _attention_section(http.get(reverse("caseload")).content.decode())
    item = re.search(
        rf'<li class="attention-item alert-(\w+)">((?:(?!</li>).)*{episode.client.code}.*?)</li>',
        attention,
        re.S,
    )
    assert item is not None, "the risk alert's client is not on the attention list"
    assert item.group(1) == "urgent" and "Risk" in item.group(2)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=HISTORY)
def test_recomputing_never_duplicates_or_loses_and_risk_is_never_quietened(
    db: None, history: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():
        episode = factories.EpisodeFactory.create()
        http = http_as(episode.therapist)
        number = 0
        for step in history:
            before = _snapshot(episode)
            if step[0] == "session":
                number += 1
                response = _session(episode, number, *step[1:])
                if response is not None and response.risk:
                    event("a risk answer")
                    alert_sync.raise_risk_alerts(response)
                    _check_risk_at_once(episode, response, http)
            elif step[0] == "act":
                # Live alerts first: acting on closed ones is refused anyway.
                alerts = list(
                    Alert.objects.filter(episode=episode).exclude(status="closed").order_by("pk")
                ) or list(Alert.objects.filter(episode=episode).order_by("pk"))
                if alerts:
                    alert = alerts[step[1] % len(alerts)]
                    _post(http, alert, step[2])
                    alert.refresh_from_db()
                    if alert.is_snoozed:
                        event("an alert snoozed")
                    event(f"acted on a {alert.kind} alert")
                    if alert.kind == "risk":
                        assert alert.snoozed_until is None, "a risk alert was snoozed"
            else:
                alert_sync.sync([episode.pk])
                if AlertNote.objects.filter(alert__episode=episode, action="auto_unsnoozed"):
                    event("a snoozed alert woken by the recompute")
            _check_nothing_lost_or_duplicated(episode, before)

        # The recomputation, run twice: the second changes nothing.
        before = _snapshot(episode)
        alert_sync.sync([episode.pk])
        _check_nothing_lost_or_duplicated(episode, before)
        settled = _snapshot(episode)
        again = alert_sync.sync([episode.pk])
        assert (again.created, again.updated) == (0, 0)
        assert _snapshot(episode) == settled
        # No risk alert is ever quiet, and every risk answer has its alert.
        risks = Alert.objects.filter(episode=episode, kind="risk")
        assert not any(a.is_snoozed for a in risks)
        risky = episode.responses.filter(risk=True).count()
        assert risks.count() >= min(risky, 1)
        transaction.set_rollback(True)
