"""The therapist's agenda: their appointments for a day or a week, and whether each client's
before-session measures came in. Three queries whatever the number of appointments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import User
from alliance.alerts._text import INSTRUMENT_LABELS
from alliance.care.models import Appointment, Attendance, Respondent, Response
from alliance.care.scheduling import CANCELLATIONS
from alliance.care.words import reading_language
from alliance.checkin.flow import before_instruments
from alliance.measures import UnknownInstrument, get_instrument


@dataclass(frozen=True, slots=True)
class AgendaRow:
    pk: int
    client_id: int
    start: datetime
    end: datetime
    code: str
    name: str
    session_number: int
    attendance: str
    attendance_label: str
    moved_from: datetime | None
    # "all", "some" or "none" came in; "" when nothing is expected (cancelled, or no measures).
    measures: str
    measures_in: tuple[str, ...]
    measures_missing: tuple[str, ...]
    changeable: bool
    session_url: str
    client_url: str


@dataclass(frozen=True, slots=True)
class AgendaDay:
    day: date
    is_today: bool
    rows: list[AgendaRow]


def _bounds(first: date, days: int) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(first + timedelta(days=days), time.min))
    return start, end


def appointments(user: User, first: date, days: int) -> QuerySet[Appointment]:
    start, end = _bounds(first, days)
    return (
        Appointment.objects.filter(
            episode__therapist=user, scheduled_at__gte=start, scheduled_at__lt=end
        )
        .select_related("episode__client")
        # Only what a row shows: the client's other encrypted fields (email, phone) and the
        # episode's would otherwise be decrypted for every appointment of the week.
        .only(
            "scheduled_at",
            "session_number",
            "attendance",
            "duration_minutes",
            "moved_from",
            "episode__status",
            "episode__outcome_instruments",
            "episode__gbo_every",
            "episode__client__code",
            "episode__client__name",
        )
        .annotate(goal_count=Count("episode__goals"))
        .prefetch_related(
            Prefetch(
                "responses",
                queryset=Response.objects.filter(respondent=Respondent.CLIENT).only(
                    "appointment_id", "instrument"
                ),
                to_attr="client_responses",
            )
        )
        .order_by("scheduled_at", "pk")
    )


# Measures named by what staff call them in any language; the others by their title in the
# reader's language (alliance.alerts._text's labels are English).
_ABBREVIATED = frozenset({"phq9", "gad7"})


def _label(instrument: str) -> str:
    if instrument not in _ABBREVIATED:
        try:
            return get_instrument(instrument).title(reading_language())
        except UnknownInstrument:
            pass
    return INSTRUMENT_LABELS.get(instrument, instrument)


def rows(items: Iterable[Appointment], now: datetime | None = None) -> list[AgendaRow]:
    now = now or timezone.now()
    labels = {value: str(label) for value, label in Attendance.choices}
    # One reverse() per kind of link; ids and codes are URL-safe.
    session_url = reverse("appointment_detail", args=[0])
    client_url = reverse("client_detail", args=["C-CODE"])
    made = []
    for appointment in items:
        episode = appointment.episode
        answered = {r.instrument for r in appointment.client_responses}  # type: ignore[attr-defined]
        expected = before_instruments(appointment, appointment.goal_count)  # type: ignore[attr-defined]
        got = tuple(_label(i) for i in expected if i in answered)
        missing = tuple(_label(i) for i in expected if i not in answered)
        if appointment.attendance in CANCELLATIONS or not expected:
            state = ""
        else:
            state = "all" if not missing else ("some" if got else "none")
        made.append(
            AgendaRow(
                pk=appointment.pk,
                client_id=episode.client_id,
                start=timezone.localtime(appointment.scheduled_at),
                end=timezone.localtime(
                    appointment.scheduled_at + timedelta(minutes=appointment.duration_minutes)
                ),
                code=episode.client.code,
                name=episode.client.name,
                session_number=appointment.session_number,
                attendance=appointment.attendance,
                attendance_label=str(labels.get(appointment.attendance, appointment.attendance)),
                moved_from=timezone.localtime(appointment.moved_from)
                if appointment.moved_from
                else None,
                measures=state,
                measures_in=got,
                measures_missing=missing,
                changeable=appointment.attendance == Attendance.SCHEDULED
                and appointment.scheduled_at > now
                and episode.is_active,
                session_url=session_url.replace("/0/", f"/{appointment.pk}/"),
                client_url=client_url.replace("C-CODE", episode.client.code),
            )
        )
    return made


def by_day(first: date, days: int, agenda_rows: list[AgendaRow], today: date) -> list[AgendaDay]:
    grouped: dict[date, list[AgendaRow]] = {first + timedelta(days=i): [] for i in range(days)}
    for row in agenda_rows:
        grouped.setdefault(row.start.date(), []).append(row)
    return [AgendaDay(day, day == today, items) for day, items in grouped.items()]
