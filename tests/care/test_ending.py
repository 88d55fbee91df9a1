"""Ending an episode: the final-measures prompt, the checks on the date, what is cancelled and revoked,
submit-once, and "what we learned together" after the ending."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import AuditEvent, Role
from alliance.care import models as care
from alliance.checkin.links import create_link
from alliance.checkin.models import CheckinLink
from tests import factories
from tests.care.ending_data import History, history

pytestmark = pytest.mark.django_db


def _http(user: object) -> HttpClient:
    http = HttpClient()
    http.force_login(user)  # type: ignore[arg-type]
    return http


def _post(h: History, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "submission_id": str(uuid.uuid4()),
        "end_reason": "planned",
        "ended_on": timezone.localdate().isoformat(),
        "learned_together": "Small steps count.",
    }
    data.update(fields)
    return data


def test_ending_cancels_what_is_booked_and_revokes_its_links() -> None:
    h = history()
    link, _token = create_link(h.future, created_by=h.episode.therapist)
    url = reverse("episode_end", args=[h.episode.pk])
    response = _http(h.episode.therapist).post(url, _post(h), follow=True)
    assert response.status_code == 200
    h.episode.refresh_from_db()
    assert h.episode.status == "ended" and h.episode.end_reason == "planned"
    assert h.episode.ended_on == timezone.localdate()
    assert h.episode.learned_together == "Small steps count."
    h.future.refresh_from_db()
    assert h.future.attendance == care.Attendance.CANCELLED
    assert CheckinLink.objects.get(pk=link.pk).revoked_at is not None
    # Attended sessions keep their record.
    assert (
        care.Appointment.objects.filter(
            episode=h.episode, attendance=care.Attendance.ATTENDED
        ).count()
        == 4
    )
    page = response.content.decode()
    assert "1 booked session was cancelled and 1 check-in link was revoked" in page
    event = AuditEvent.objects.filter(action="care.episode.ended").get()
    assert event.data == {"reason": "planned", "cancelled_appointments": 1, "revoked_links": 1}


def test_a_double_submit_ends_once() -> None:
    h = history()
    http = _http(h.episode.therapist)
    url = reverse("episode_end", args=[h.episode.pk])
    data = _post(h)
    assert http.post(url, data).status_code == 302
    assert http.post(url, data).status_code == 302
    assert AuditEvent.objects.filter(action="care.episode.ended").count() == 1


def test_prompts_for_final_measures_when_the_last_session_has_none() -> None:
    h = history()
    last = factories.AppointmentFactory.create(
        episode=h.episode,
        session_number=7,
        scheduled_at=timezone.now() - timedelta(hours=3),
        attendance=care.Attendance.ATTENDED,
    )
    http = _http(h.episode.therapist)
    url = reverse("episode_end", args=[h.episode.pk])
    page = http.get(url).content.decode()
    assert "The last attended session (session 7) has no outcome measure" in page
    assert "Make session 6 the last one" in page  # the next booked one
    refused = http.post(url, _post(h))
    assert refused.status_code == 400
    assert "tick this box to end without it" in refused.content.decode()
    h.episode.refresh_from_db()
    assert h.episode.is_active
    assert http.post(url, _post(h, without_final_measures="on")).status_code == 302
    h.episode.refresh_from_db()
    assert not h.episode.is_active
    assert last.pk


def test_no_prompt_when_the_last_session_was_measured() -> None:
    h = history()
    page = _http(h.episode.therapist).get(reverse("episode_end", args=[h.episode.pk]))
    assert "has no outcome measure" not in page.content.decode()
    assert 'name="without_final_measures"' not in page.content.decode()


@pytest.mark.parametrize(
    ("offset", "message"),
    [(1, "The end cannot be in the future."), (-500, "The end cannot be before the episode")],
)
def test_end_date_is_checked(offset: int, message: str) -> None:
    h = history()
    day = timezone.localdate() + timedelta(days=offset)
    response = _http(h.episode.therapist).post(
        reverse("episode_end", args=[h.episode.pk]), _post(h, ended_on=day.isoformat())
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    h.episode.refresh_from_db()
    assert h.episode.is_active


def test_missing_reason_says_so() -> None:
    h = history()
    response = _http(h.episode.therapist).post(
        reverse("episode_end", args=[h.episode.pk]), _post(h, end_reason="")
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_only_the_treating_therapist_ends_an_episode() -> None:
    h = history()
    supervisor = factories.UserFactory.create(role=Role.SUPERVISOR)
    factories.SupervisionFactory.create(supervisor=supervisor, therapist=h.episode.therapist)
    url = reverse("episode_end", args=[h.episode.pk])
    for user in (supervisor, factories.UserFactory.create()):
        assert _http(user).post(url, _post(h)).status_code == 404
        assert _http(user).get(url).status_code == 404
    h.episode.refresh_from_db()
    assert h.episode.is_active


def test_learned_together_stays_editable_after_the_ending() -> None:
    h = history()
    http = _http(h.episode.therapist)
    url = reverse("episode_end", args=[h.episode.pk])
    http.post(url, _post(h))
    page = http.get(url).content.decode()
    assert "for the client (PDF)" in page and "Small steps count." in page
    data = {"submission_id": str(uuid.uuid4()), "learned_together": "Asking for help is a skill."}
    assert http.post(url, data).status_code == 302
    h.episode.refresh_from_db()
    assert h.episode.learned_together == "Asking for help is a skill."
    assert h.episode.status == "ended"


def test_marking_the_final_session() -> None:
    h = history()
    http = _http(h.episode.therapist)
    url = reverse("episode_final_session", args=[h.episode.pk])
    data = {"submission_id": str(uuid.uuid4()), "appointment": h.future.pk}
    response = http.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("appointment_detail", args=[h.future.pk])
    h.future.refresh_from_db()
    assert h.future.is_final
    other = history()
    bad = {"submission_id": str(uuid.uuid4()), "appointment": other.future.pk}
    assert http.post(url, bad).status_code == 302
    other.future.refresh_from_db()
    assert not other.future.is_final
