"""What an export covers and who stands behind a pseudonym: the Django side shared by the export
views and `alliance report --format` (issue 11, point 6).

Decisions
  - **Scope** is a set of therapists (None: the whole clinic) and a period, read with
    `alliance.insights.records.clinic_data` once per therapist and merged: a supervisor's export is
    their supervisees' episodes (and their own, if they treat clients), a therapist's their own.
  - **Identities** (pseudonym -> client code, therapist email, `episode-<id>`) are built only for
    an identified export; nothing else in the exports knows a real identifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from alliance.analytics.records import ClinicData
from alliance.care.models import Episode
from alliance.insights.pseudonyms import Pseudonyms
from alliance.insights.records import Scope, clinic_data


def episodes_in(
    start: date | None, end: date | None, therapists: Sequence[int] | None
) -> QuerySet[Episode]:
    """The episodes an export covers: open at some time in the period, of those therapists."""
    q = Scope(start, end, None, timezone.get_current_timezone()).episodes()
    if therapists is not None:
        q &= Q(therapist_id__in=list(therapists))
    return Episode.objects.filter(q)


def scoped_data(
    start: date | None,
    end: date | None,
    therapists: Sequence[int] | None,
    names: Pseudonyms,
) -> ClinicData:
    if therapists is None:
        return clinic_data(start=start, end=end, pseudonyms=names)
    parts = [
        clinic_data(start=start, end=end, therapist=pk, pseudonyms=names)
        for pk in sorted(set(therapists))
    ]
    return ClinicData(
        episodes=tuple(e for p in parts for e in p.episodes),
        appointments=tuple(a for p in parts for a in p.appointments),
        # One time order across therapists, as a single query gives (a stable sort keeps ties).
        responses=tuple(
            sorted((r for p in parts for r in p.responses), key=lambda r: r.submitted_at)
        ),
        alerts=tuple(sorted((a for p in parts for a in p.alerts), key=lambda a: a.created_at)),
    )


def identities(episodes: QuerySet[Episode], names: Pseudonyms) -> dict[str, str]:
    """Pseudonym -> real identifier, for an identified export of these episodes."""
    found: dict[str, str] = {}
    for pk, client, code, therapist, email in episodes.values_list(
        "pk", "client_id", "client__code", "therapist_id", "therapist__email"
    ).iterator():
        found[names.episode(pk)] = f"episode-{pk}"
        found[names.client(client)] = code
        found[names.therapist(therapist)] = email
    return found
