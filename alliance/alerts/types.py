"""Input types: one episode of care as a time series of sessions.

These are the only shapes the Django side has to build (see ``alliance/care/alert_sync.py``).
Everything is a frozen dataclass; mappings are treated as read-only.
Validation happens at construction so that the rules can trust their input.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

Attendance = Literal["attended", "cancelled", "late_cancel", "no_show", "scheduled"]
"""``cancelled`` = with notice; ``late_cancel`` = too late to reuse the slot; ``no_show`` = no
notice at all; ``scheduled`` = in the future or not recorded yet."""

ATTENDANCE: Final[tuple[str, ...]] = get_args(Attendance)
CHECKIN_DIMENSIONS: Final[tuple[str, ...]] = ("bond", "goals", "tasks", "overall")
CHECKIN_MIN: Final = 0.0
CHECKIN_MAX: Final = 10.0


def _finite(value: object) -> bool:
    """A real, finite number (not a bool). Written for speed: a whole-clinic recompute checks
    about a million values."""
    kind = type(value)
    if kind is float or kind is int:
        return math.isfinite(value)  # type: ignore[arg-type]
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_finite(value: float, what: str) -> None:
    if not _finite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class CheckinScore:
    """One relationship check-in (client's or therapist's), every value on 0-10.

    ``total`` is the mean of the four dimensions (``None`` when the check-in could not be
    scored). ``concern`` is true when the client wrote something in "What could have been better
    today?"; the text itself never reaches this package, so it can never leak into an alert.
    """

    total: float | None
    dims: Mapping[str, float] = field(default_factory=dict)
    concern: bool = False

    def __post_init__(self) -> None:
        values = dict(self.dims)
        if self.total is not None:
            values["total"] = self.total
        for name, value in values.items():
            if _finite(value) and CHECKIN_MIN <= value <= CHECKIN_MAX:
                continue
            _check_finite(value, f"check-in {name}")
            raise ValueError(f"check-in {name} must be within 0-10, got {value!r}")

    def value(self, measure: str) -> float | None:
        """The total (``measure == "total"``) or one dimension; ``None`` when absent."""
        if measure == "total":
            return self.total
        return self.dims.get(measure)


@dataclass(frozen=True)
class RiskSignal:
    """A risk item answered above its safe value, e.g. PHQ-9 item 9 (see docs/clinical.md#phq-9-item-9)."""

    instrument: str
    item: str
    answer: float
    response_id: int | None = None


@dataclass(frozen=True)
class Session:
    """One appointment of an episode, attended or not.

    ``outcome`` maps an instrument id (``phq9``, ``gad7``; higher = worse) to its total.
    ``number`` is the appointment's ordinal in the episode, starting at 1; it is also the time
    axis of the expected-recovery curve (``log(number)``).
    """

    number: int
    date: dt.date
    attendance: Attendance
    appointment_id: int | None = None
    outcome: Mapping[str, float] = field(default_factory=dict)
    risk: tuple[RiskSignal, ...] = ()
    client_checkin: CheckinScore | None = None
    therapist_checkin: CheckinScore | None = None

    def __post_init__(self) -> None:
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise ValueError(f"session number must be an integer >= 1, got {self.number!r}")
        if self.attendance not in ATTENDANCE:
            raise ValueError(f"attendance must be one of {ATTENDANCE}, got {self.attendance!r}")
        for instrument, value in self.outcome.items():
            _check_finite(value, f"outcome {instrument}")
        if not isinstance(self.risk, tuple):
            object.__setattr__(self, "risk", tuple(self.risk))

    @property
    def took_place(self) -> bool:
        """Attended, or evidently took place (a client check-in exists for it)."""
        return self.attendance == "attended" or self.client_checkin is not None


@dataclass(frozen=True)
class EpisodeSeries:
    """One episode of care: its sessions in order of ``number``.

    ``intake`` holds pre-treatment scores by instrument; when absent (or an instrument is
    missing from it) the first outcome score of that instrument in the series is the intake.
    """

    episode_id: int
    therapist_id: int
    sessions: tuple[Session, ...]
    completed: bool = False
    intake: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sessions, tuple):
            object.__setattr__(self, "sessions", tuple(self.sessions))
        numbers = [s.number for s in self.sessions]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise ValueError(
                f"episode {self.episode_id}: sessions must be sorted by strictly increasing "
                f"number, got {numbers}"
            )
        for instrument, value in (self.intake or {}).items():
            _check_finite(value, f"intake {instrument}")

    def intake_score(self, instrument: str) -> tuple[float, int | None] | None:
        """``(score, session_number)`` of the intake for ``instrument``.

        ``session_number`` is ``None`` for an explicit pre-treatment intake; otherwise it is the
        session whose score serves as intake (later comparisons start after it).
        """
        if self.intake is not None and instrument in self.intake:
            return float(self.intake[instrument]), None
        for session in self.sessions:
            if instrument in session.outcome:
                return float(session.outcome[instrument]), session.number
        return None

    def outcome_after_intake(self, instrument: str) -> list[tuple[Session, float]]:
        """Sessions with a score for ``instrument`` after the intake, with that score."""
        intake = self.intake_score(instrument)
        if intake is None:
            return []
        after = intake[1] or 0
        return [
            (s, float(s.outcome[instrument]))
            for s in self.sessions
            if s.number > after and instrument in s.outcome
        ]
