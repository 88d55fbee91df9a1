"""Reading the database into the plain inputs of the pure rules: one `EpisodeSeries` per episode.

Six bulk queries whatever the number of episodes; the alert rules themselves (alliance.alerts) never
see a model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import FloatField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from alliance.alerts import CheckinScore, EpisodeSeries, RiskSignal, Session
from alliance.care.models import Appointment, Episode, EpisodeStatus, Respondent, Response

OUTCOME_INSTRUMENTS = ("phq9", "gad7")
CHECKIN = "checkin"
THERAPIST_CHECKIN = "checkin-therapist"
DIMENSIONS = ("bond", "goals", "tasks", "overall")
CHUNK = 2000


def _checkin_score(
    total: float | None, dims: Sequence[float | None], has_comment: bool
) -> CheckinScore:
    present = {d: float(v) for d, v in zip(DIMENSIONS, dims, strict=True) if v is not None}
    return CheckinScore(total=total, dims=present, concern=has_comment)


# The four dimensions are read out of the JSON answers by the database (json_extract / ->>), which is
# several times faster than decoding every answers document in Python.
_DIMENSION_COLUMNS = {f"dim_{d}": Cast(KT(f"answers__{d}"), FloatField()) for d in DIMENSIONS}


def load_series(episode_ids: Iterable[int] | None = None) -> list[EpisodeSeries]:
    """One EpisodeSeries per episode, from six bulk queries."""
    episodes = Episode.objects.all()
    if episode_ids is not None:
        episodes = episodes.filter(pk__in=list(episode_ids))
    heads = {
        pk: (therapist_id, status == EpisodeStatus.ENDED)
        for pk, therapist_id, status in episodes.values_list("pk", "therapist_id", "status")
    }
    scope = Q(episode_id__in=list(heads)) if episode_ids is not None else Q()

    appointments: dict[int, list[tuple[int, int, Any, str]]] = defaultdict(list)
    for pk, episode_id, number, when, attendance in (
        Appointment.objects.filter(scope)
        .order_by("episode_id", "session_number")
        .values_list("pk", "episode_id", "session_number", "scheduled_at", "attendance")
        .iterator(chunk_size=CHUNK)
    ):
        appointments[episode_id].append((pk, number, when, attendance))

    responses = Response.objects.filter(scope, appointment__isnull=False)
    outcome: dict[int, dict[str, float]] = defaultdict(dict)
    for appointment_id, instrument, total in (
        responses.filter(
            instrument__in=OUTCOME_INSTRUMENTS, respondent=Respondent.CLIENT, scorable=True
        )
        .values_list("appointment_id", "instrument", "total")
        .iterator(chunk_size=CHUNK)
    ):
        if total is not None:
            outcome[appointment_id][instrument] = float(total)

    client_checkin: dict[int, CheckinScore] = {}
    therapist_checkin: dict[int, CheckinScore] = {}
    for appointment_id, instrument, total, has_comment, *dims in (
        responses.filter(instrument__in=(CHECKIN, THERAPIST_CHECKIN))
        .annotate(**_DIMENSION_COLUMNS)
        .values_list("appointment_id", "instrument", "total", "has_comment", *_DIMENSION_COLUMNS)
        .iterator(chunk_size=CHUNK)
    ):
        target = client_checkin if instrument == CHECKIN else therapist_checkin
        target[appointment_id] = _checkin_score(total, dims, has_comment)

    risk: dict[int, list[RiskSignal]] = defaultdict(list)
    for pk, appointment_id, instrument, score in responses.filter(risk=True).values_list(
        "pk", "appointment_id", "instrument", "score"
    ):
        for flag in (score or {}).get("risk_flags", []):
            risk[appointment_id].append(
                RiskSignal(instrument, str(flag.get("item")), float(flag.get("answer") or 0), pk)
            )
    # A risk answer stored without a session (an imported response from a day with no appointment,
    # alliance.care.fhir_responses) must still reach the therapist: the rules see it at the latest
    # session on or before it (the first session if it came earlier). Rare, so one small query.
    for pk, episode_id, instrument, score, when in Response.objects.filter(
        scope, appointment__isnull=True, risk=True
    ).values_list("pk", "episode_id", "instrument", "score", "submitted_at"):
        held = appointments.get(episode_id, [])
        if not held:
            continue
        before = [a for a in held if a[2] <= when]
        session_pk = (before[-1] if before else held[0])[0]
        for flag in (score or {}).get("risk_flags", []):
            risk[session_pk].append(
                RiskSignal(instrument, str(flag.get("item")), float(flag.get("answer") or 0), pk)
            )

    zone = (
        timezone.get_current_timezone()
    )  # once: looking it up per session was a tenth of the time
    series = []
    for episode_id, (therapist_id, completed) in heads.items():
        sessions = tuple(
            Session(
                number=number,
                date=when.astimezone(zone).date(),
                attendance=attendance,  # type: ignore[arg-type]  # the same five values as care.Attendance
                appointment_id=pk,
                outcome=outcome.get(pk, {}),
                risk=tuple(risk.get(pk, ())),
                client_checkin=client_checkin.get(pk),
                therapist_checkin=therapist_checkin.get(pk),
            )
            for pk, number, when, attendance in appointments.get(episode_id, [])
        )
        series.append(EpisodeSeries(episode_id, therapist_id, sessions, completed=completed))
    return series
