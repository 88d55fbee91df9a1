"""Who a page's figures are about, reading them, and keeping them for a few minutes.

Decisions
  - **Audience.** An administrator's outcomes and alert pages cover the whole clinic; a supervisor's
    cover their supervisees' episodes (not their own caseload: that is on their own page); every
    clinician's own page (`/insights/mine/`) covers only their own episodes. A therapist filter
    narrows within that, never beyond (the form offers only therapists in the audience).
  - **The relationship model and the check-in's psychometrics use the whole clinic.** A mixed model
    with therapist random effects needs every therapist to estimate the spread, and a therapist's
    shrunk estimate is only defined relative to the clinic's mean. What each reader then *sees* of
    the therapist part is cut down in the view (alliance.insights.views): an administrator sees
    every therapist's estimate, a supervisor their supervisees', a therapist only their own beside
    the clinic's spread. The fixed effects, ruptures and perspective-gap comparisons are clinic
    aggregates of numbers: no client's record or words.
  - **Cache.** Computing a clinic's figures can take seconds. The result (plain JSON) is kept in
    Django's default cache for CACHE_SECONDS, under a key of the page, the audience, the filters
    and a *data stamp*: the highest ids of responses, appointments, alerts, alert notes and
    episodes, and the latest change of an episode or alert. New data therefore shows at once; a
    change that leaves all of those alone (an appointment's attendance recorded later: appointments
    carry no change time) shows when the entry expires. The stamp costs six indexed aggregate
    queries. The page says when its figures were computed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from alliance.accounts.models import Role, Supervision, User
from alliance.analytics.records import ClinicData
from alliance.care.models import Alert, AlertNote, Appointment, Episode, Response
from alliance.insights.pseudonyms import Pseudonyms
from alliance.insights.records import clinic_data

CACHE_SECONDS = 5 * 60
CACHE_VERSION = 1
Kind = Literal["clinic", "supervisees", "own"]


@dataclass(frozen=True)
class Audience:
    """Whose episodes a page reads: `therapists` None means the whole clinic."""

    kind: Kind
    therapists: tuple[int, ...] | None

    def narrowed(self, therapist: int | None) -> Audience:
        if therapist is None:
            return self
        if self.therapists is not None and therapist not in self.therapists:
            raise ValueError("therapist outside the audience")  # the form prevents it
        return Audience(self.kind, (therapist,))


def clinic_audience() -> Audience:
    return Audience("clinic", None)


def supervisees_audience(user: User) -> Audience:
    ids = Supervision.objects.filter(supervisor=user).values_list("therapist_id", flat=True)
    return Audience("supervisees", tuple(sorted(set(ids))))


def own_audience(user: User) -> Audience:
    return Audience("own", (user.pk,))


def therapist_choices(audience: Audience) -> list[tuple[int, str]]:
    """The clinicians a reader may filter by, in id order."""
    users = User.objects.filter(role__in=(Role.THERAPIST, Role.SUPERVISOR), is_active=True)
    if audience.therapists is not None:
        users = users.filter(pk__in=audience.therapists)
    return [(u.pk, u.display_name) for u in users.order_by("pk")]


def therapist_names(ids: Iterable[int] | None) -> dict[str, str]:
    """Export pseudonym → display name for the given clinicians (all clinicians when None)."""
    names = Pseudonyms()
    users = User.objects.filter(role__in=(Role.THERAPIST, Role.SUPERVISOR))
    if ids is not None:
        users = users.filter(pk__in=list(ids))
    return {names.therapist(u.pk): u.display_name for u in users}


def load(audience: Audience, start: date | None, end: date | None) -> ClinicData:
    """The records of the audience's episodes open in the period."""
    if audience.therapists is None:
        return clinic_data(start=start, end=end)
    parts = [clinic_data(start=start, end=end, therapist=pk) for pk in audience.therapists]
    if len(parts) == 1:
        return parts[0]
    # Each part is in time order; the merged lists must be too (the analytics keep the last
    # response of a session). sorted() is stable, so equal times keep their order.
    return ClinicData(
        episodes=tuple(e for p in parts for e in p.episodes),
        appointments=tuple(a for p in parts for a in p.appointments),
        responses=tuple(
            sorted((r for p in parts for r in p.responses), key=lambda r: r.submitted_at)
        ),
        alerts=tuple(sorted((a for p in parts for a in p.alerts), key=lambda a: a.created_at)),
    )


def data_stamp() -> tuple[Any, ...]:
    """Changes whenever a response, appointment, alert, note or episode is added, or an episode
    or alert changes (see the module docstring for what it misses)."""
    return (
        Response.objects.aggregate(m=Max("pk"))["m"],
        Appointment.objects.aggregate(m=Max("pk"))["m"],
        AlertNote.objects.aggregate(m=Max("pk"))["m"],
        *Alert.objects.aggregate(m=Max("pk"), u=Max("updated_at")).values(),
        *Episode.objects.aggregate(m=Max("pk"), u=Max("updated_at")).values(),
    )


@dataclass(frozen=True)
class Computed:
    figures: dict[str, Any]
    computed_at: str  # ISO time, the clinic's zone
    seconds: float  # how long computing took when it was computed
    from_cache: bool


def cached(
    page: str, audience: Audience, filters: tuple[Any, ...], compute: Callable[[], dict[str, Any]]
) -> Computed:
    """`compute()` once per (page, audience, filters, data stamp) for CACHE_SECONDS."""
    key_source = repr((CACHE_VERSION, page, audience, filters, tuple(map(repr, data_stamp()))))
    key = "insights:" + hashlib.sha256(key_source.encode()).hexdigest()
    found = cache.get(key)
    if isinstance(found, dict) and "figures" in found:
        return Computed(found["figures"], found["computed_at"], found["seconds"], True)
    began = time.perf_counter()
    figures = compute()
    seconds = time.perf_counter() - began
    computed_at = timezone.localtime().isoformat(timespec="seconds")
    cache.set(
        key,
        {"figures": figures, "computed_at": computed_at, "seconds": seconds},
        CACHE_SECONDS,
    )
    return Computed(figures, computed_at, seconds, False)
