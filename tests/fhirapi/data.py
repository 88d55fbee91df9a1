"""A small clinic with answers that exercise every mapping: a risk answer, a typed answer, a
therapist's own rating, a response stored under an older instrument version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from alliance.accounts.models import User
from alliance.care.models import Client, Episode, Respondent, Response, ResponseSource
from alliance.care.responses import record_response
from tests import factories

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TYPED = "Less rushing, Marguerite says"


@dataclass
class ApiClinic:
    therapist: User
    client: Client
    other: Client
    episode: Episode
    risk: Response  # PHQ-9 with item 9 above 0
    calm: Response  # PHQ-9, no risk
    checkin: Response  # with a typed answer
    rated: Response  # the therapist's own check-in


def phq9(values: list[int]) -> dict[str, object]:
    answers: dict[str, object] = {str(n): v for n, v in enumerate(values, 1)}
    answers["10"] = 1
    return answers


def make_clinic() -> ApiClinic:
    therapist = factories.UserFactory.create(
        email="olive.owner@clinic.test", first_name="Olive", last_name="Owner"
    )
    client = factories.ClientFactory.create(
        code="C-APK3F",
        name="Marguerite Quillfeather",
        email="mq@example.com",
        phone="+447700900123",
    )
    other = factories.ClientFactory.create(
        code="C-XTW7Q", name="Bartholomew Inkwright", email="bi@example.com", phone="+447700900456"
    )
    episode = factories.EpisodeFactory.create(
        client=client, therapist=therapist, started_on=date(2025, 3, 1)
    )
    other_episode = factories.EpisodeFactory.create(
        client=other, therapist=therapist, started_on=date(2025, 3, 1)
    )

    def store(
        ep: Episode, instrument: str, answers: dict[str, object], days: int, **kw: object
    ) -> Response:
        return record_response(
            episode=ep,
            instrument_id=instrument,
            answers=answers,
            respondent=kw.pop("respondent", Respondent.CLIENT),  # type: ignore[arg-type]
            source=ResponseSource.CHECKIN,
            submitted_at=START + timedelta(days=days),
            **kw,  # type: ignore[arg-type]
        ).response

    # A session for an imported response to belong to (tests/fhirapi/test_import_api.py).
    factories.AppointmentFactory.create(
        episode=episode, session_number=1, scheduled_at=datetime(2025, 4, 1, 10, tzinfo=UTC)
    )
    risk = store(episode, "phq9", phq9([2, 2, 3, 1, 2, 1, 2, 1, 2]), 0)
    calm = store(episode, "phq9", phq9([1, 1, 1, 0, 1, 0, 1, 0, 0]), 14)
    checkin = store(
        episode,
        "checkin",
        {"bond": 7, "goals": 8, "tasks": 6, "overall": 7, "better": TYPED},
        0,
    )
    rated = store(
        episode,
        "checkin-therapist",
        {"bond": 6, "goals": 7, "tasks": 7, "overall": 6},
        0,
        respondent=Respondent.THERAPIST,
        submitted_by=therapist,
    )
    store(other_episode, "gad7", {str(n): 1 for n in range(1, 8)}, 7)
    # A response stored under an older version of the instrument file.
    Response.objects.filter(pk=calm.pk).update(instrument_version="0.9.0")
    calm.refresh_from_db()
    return ApiClinic(therapist, client, other, episode, risk, calm, checkin, rated)


def make_more_responses(clinic: ApiClinic, count: int) -> None:
    for day in range(count):
        record_response(
            episode=clinic.episode,
            instrument_id="phq9",
            answers=phq9([1, 1, 1, 1, 1, 1, 1, 1, day % 2]),
            respondent=Respondent.CLIENT,
            source=ResponseSource.CHECKIN,
            submitted_at=START + timedelta(days=20 + day),
        )
