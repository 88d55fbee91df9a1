"""Output type: :class:`Finding`, plus kinds, severities and alert keys.

Severity mapping (documented in ``__init__``):

- ``urgent`` — risk items (PHQ-9 item 9 above 0): act today; the Django side escalates to the
  supervisor when unacknowledged for ``AlertSettings.risk_escalation_minutes``.
- ``red`` — act at or before the next session: a measurable alliance drop (rupture by the drop
  or floor rule), not on track at red (the client's own deviation above the red percentile, or
  one score far above the curve), reliable deterioration.
- ``yellow`` — look at it before the next session: rupture markers without a measured drop
  (concerns written, no-shows) at two appointments in a row, early weak alliance, not on track at
  yellow for two scores in a row, disengagement, a perspective gap seen in consecutive sessions.
- ``info`` — context worth knowing: a single-session perspective gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias, get_args

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None

Kind = Literal[
    "risk",
    "rupture",
    "early_weak_alliance",
    "perspective_gap",
    "not_on_track",
    "deterioration",
    "disengagement",
]
KINDS: Final[tuple[str, ...]] = get_args(Kind)

Severity = Literal["info", "yellow", "red", "urgent"]
SEVERITIES: Final[tuple[str, ...]] = get_args(Severity)
"""Ordered from least to most severe."""
SEVERITY_RANK: Final[dict[str, int]] = {s: i for i, s in enumerate(SEVERITIES)}


def worst(severities: Iterable[Severity]) -> Severity:
    """The most severe of ``severities`` (``info`` for none)."""
    result: Severity = "info"
    for severity in severities:
        if SEVERITY_RANK[severity] > SEVERITY_RANK[result]:
            result = severity
    return result


def make_key(kind: Kind, episode_id: int, *parts: str | int) -> str:
    """``make_key("rupture", 12, "s5")`` → ``"rupture:ep12:s5"``.

    A key names "the same alert" across recomputations. It never contains ``#``: the lifecycle
    uses ``<key>#<n>`` for a successor raised after a closed alert escalates.
    """
    if any("#" in str(p) for p in parts):
        raise ValueError("key parts must not contain '#'")
    return ":".join([kind, f"ep{episode_id}", *(str(p) for p in parts)])


@dataclass(frozen=True)
class Finding:
    """One alert-worthy observation about an episode, ready to show to the therapist.

    ``explanation`` states the numbers in plain words; it never contains client free text.
    ``evidence`` holds the same numbers as JSON-able data. ``session_number`` is the session at
    which the finding reached its current severity (for per-episode findings the latest numbers
    are in ``evidence``). ``pre_drop_level`` is, for a rupture, the client's check-in total at
    the previous check-in (``None`` if there was none); repair is judged per measure against
    ``evidence["repair_targets"]``. ``dimensions`` lists the check-in measures
    that fell (ruptures) or differed (perspective gaps).
    """

    kind: Kind
    severity: Severity
    key: str
    session_number: int | None
    appointment_id: int | None
    title: str
    explanation: str
    evidence: Mapping[str, JSON]
    suggestion: str
    pre_drop_level: float | None = None
    episode_id: int | None = None
    instrument: str | None = None
    dimensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        base, sep, generation = self.key.partition("#")
        if not base.startswith(self.kind + ":") or (sep and not generation.isdigit()):
            raise ValueError(f"malformed key {self.key!r}")

    def as_dict(self) -> dict[str, JSON]:
        """JSON-able form (what the Django side stores next to the alert)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "key": self.key,
            "session_number": self.session_number,
            "appointment_id": self.appointment_id,
            "title": self.title,
            "explanation": self.explanation,
            "evidence": _jsonable(self.evidence),
            "suggestion": self.suggestion,
            "pre_drop_level": self.pre_drop_level,
            "episode_id": self.episode_id,
            "instrument": self.instrument,
            "dimensions": list(self.dimensions),
        }

    def fingerprint(self) -> str:
        """Hash of the content shown to the therapist (not key, kind or severity).

        Stored with the alert so that a recomputation can tell "nothing changed" without
        comparing floats that went through a database.
        """
        content = self.as_dict()
        for name in ("key", "kind", "severity"):
            content.pop(name)
        blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def _jsonable(value: object) -> JSON:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    raise TypeError(f"not JSON-able: {value!r}")
