"""Turn answers into a ScoreResult: totals, subscales, band, cut-off, risk, missing data.

Safety rule first: risk items are evaluated before anything else, from every
valid answer, so a risk flag is raised even when the response cannot be
scored (too many missing items, or another answer is invalid).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from alliance.measures.errors import InvalidAnswers
from alliance.measures.text import LocalizedText

if TYPE_CHECKING:
    from alliance.measures.model import Answers, Instrument, Item


@dataclass(frozen=True)
class RiskFlag:
    item: str
    answer: int | float
    level: str
    message: str
    messages: LocalizedText
    caveat: LocalizedText | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "answer": self.answer,
            "level": self.level,
            "message": self.message,
            "messages": self.messages.as_dict(),
        }


@dataclass(frozen=True)
class BandResult:
    key: str
    label: str
    labels: LocalizedText

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "labels": self.labels.as_dict()}


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    version: str
    lang: str
    scorable: bool
    reason: str | None
    total: int | float | None
    subscales: Mapping[str, int | float | None]
    band: BandResult | None
    above_cutoff: bool | None
    clinical: bool | None
    cutoff: float | None
    risk_flags: tuple[RiskFlag, ...]
    risk_unanswered: tuple[str, ...]
    missing: tuple[str, ...]
    prorated: bool
    proration: str | None
    answered_sum: int | float
    total_range: tuple[float, float] | None  # None when the instrument has no score (method "none")
    direction: str | None
    invalid: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_risk(self) -> bool:
        return bool(self.risk_flags)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, stored with the response."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "lang": self.lang,
            "scorable": self.scorable,
            "reason": self.reason,
            "total": _json_number(self.total),
            "total_range": (
                [_json_number(x) for x in self.total_range] if self.total_range else None
            ),
            "direction": self.direction,
            "subscales": {k: _json_number(v) for k, v in self.subscales.items()},
            "band": self.band.as_dict() if self.band else None,
            "above_cutoff": self.above_cutoff,
            "clinical": self.clinical,
            "cutoff": _json_number(self.cutoff),
            "risk_flags": [flag.as_dict() for flag in self.risk_flags],
            "risk_unanswered": list(self.risk_unanswered),
            "missing": list(self.missing),
            "prorated": self.prorated,
            "proration": self.proration,
            "answered_sum": _json_number(self.answered_sum),
            "invalid": dict(self.invalid),
        }


def _json_number(value: float | None) -> int | float | None:
    if value is None:
        return None
    if float(value).is_integer():
        return int(value)
    return round(float(value), 4)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def round_half_up(value: float) -> int:
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def normalise(item: Item, value: Any) -> tuple[int | float | str | None, str | None]:
    """Return (canonical value, problem). Missing answers give (None, None)."""
    if _is_missing(value):
        return None, None
    if isinstance(value, bool):
        return None, "a yes/no value is not a valid answer here"
    if item.kind == "choice":
        option = item.option_for(value)
        if option is None:
            allowed = ", ".join(str(_plain(o.value)) for o in item.options)
            return None, f"{value!r} is not one of the options ({allowed})"
        return _plain(option.value), None
    if item.kind == "integer":
        number: float
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                return None, f"{value!r} is not a whole number"
        elif isinstance(value, int | float):
            number = float(value)
        else:
            return None, f"{value!r} is not a whole number"
        if not number.is_integer():
            return None, f"{value!r} is not a whole number"
        if item.min_value is not None and number < item.min_value:
            return None, f"{_plain(number)} is below the minimum {item.min_value}"
        if item.max_value is not None and number > item.max_value:
            return None, f"{_plain(number)} is above the maximum {item.max_value}"
        return int(number), None
    if not isinstance(value, str):
        return None, f"{value!r} is not text"
    return value, None


def _score_of(item: Item, canonical: int | float | str) -> float:
    # Only choice/integer items can be scored (checked when the file loads).
    assert not isinstance(canonical, str)
    return float(canonical)


def is_enabled(instrument: Instrument, item: Item, answers: Answers) -> bool:
    """FHIR enableWhen. An unanswered (or itself hidden) question makes every
    condition false except ``exists = false``."""
    if not item.enable_when:
        return True
    results: list[bool] = []
    for cond in item.enable_when:
        question = instrument.item(cond.question)
        raw = answers.get(cond.question)
        canonical, problem = normalise(question, raw)
        answered = canonical is not None and problem is None
        if answered and not is_enabled(instrument, question, answers):
            answered = False
        if cond.operator == "exists":
            results.append(answered == bool(cond.answer))
            continue
        if not answered:
            results.append(False)
            continue
        results.append(_compare(canonical, cond.operator, cond.answer))
    return any(results) if item.enable_behavior == "any" else all(results)


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "=":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    try:
        if operator == ">":
            return bool(left > right)
        if operator == "<":
            return bool(left < right)
        if operator == ">=":
            return bool(left >= right)
        if operator == "<=":
            return bool(left <= right)
    except TypeError:
        return False
    return False


def check_answers(
    instrument: Instrument, answers: Answers, context: Mapping[str, str] | None = None
) -> dict[str, str]:
    problems: dict[str, str] = {}
    for link_id in answers:
        if not instrument.has_item(link_id):
            problems[link_id] = "not an item of this instrument"
    for item in instrument.items:
        _, problem = normalise(item, answers.get(item.link_id))
        if problem:
            problems[item.link_id] = problem
    visible = {i.link_id for i in instrument.visible_items(answers, context)}
    for item in instrument.items:
        if (
            item.required
            and item.link_id in visible
            and item.link_id not in problems
            and _is_missing(answers.get(item.link_id))
        ):
            problems[item.link_id] = "an answer is required"
    return problems


def _describe_items(link_ids: list[str] | tuple[str, ...]) -> str:
    word = "item" if len(link_ids) == 1 else "items"
    return f"{word} {', '.join(link_ids)}"


def _aggregate(
    values: dict[str, float],
    wanted: tuple[str, ...],
    method: str,
    max_missing: int,
    rounding: str,
) -> tuple[float | None, list[str], bool]:
    """Sum or mean over ``wanted`` with proration. Returns (value, missing, prorated)."""
    missing = [k for k in wanted if k not in values]
    answered = [values[k] for k in wanted if k in values]
    if len(missing) > max_missing or not answered:
        return None, missing, False
    mean = sum(answered) / len(answered)
    if method == "mean":
        return mean, missing, bool(missing)
    if not missing:
        return sum(answered), missing, False
    prorated = mean * len(wanted)
    return (float(round_half_up(prorated)) if rounding == "half_up" else prorated), missing, True


def score_answers(
    instrument: Instrument, answers: Answers, lang: str = "en", *, strict: bool = False
) -> ScoreResult:
    rules = instrument.rules
    canonical: dict[str, int | float | str] = {}
    invalid: dict[str, str] = {}
    for link_id in answers:
        if not instrument.has_item(link_id):
            invalid[link_id] = "not an item of this instrument"
    for item in instrument.items:
        value, problem = normalise(item, answers.get(item.link_id))
        if problem:
            invalid[item.link_id] = problem
        elif value is not None:
            canonical[item.link_id] = value
    if invalid and strict:
        raise InvalidAnswers(instrument.id, invalid)

    flags: list[RiskFlag] = []
    unanswered: list[str] = []
    for rule in instrument.risk_rules:
        if rule.item not in canonical:
            if rule.item not in unanswered:
                unanswered.append(rule.item)
            continue
        answer = _score_of(instrument.item(rule.item), canonical[rule.item])
        if rule.triggered_by(answer):
            flags.append(
                RiskFlag(
                    item=rule.item,
                    answer=_plain(answer),
                    level=rule.level,
                    message=rule.messages.get(lang),
                    messages=rule.messages,
                    caveat=rule.caveat,
                )
            )

    scores: dict[str, float] = {}
    for link_id, value in canonical.items():
        item = instrument.item(link_id)
        if not item.scored:
            continue
        score = _score_of(item, value)
        if link_id in rules.reversed:
            lo, hi = item.score_range or (0.0, 0.0)
            score = lo + hi - score
        scores[link_id] = score

    answered_sum = _plain(sum(scores.get(k, 0.0) for k in rules.items))
    missing = tuple(k for k in rules.items if k not in scores)
    base: dict[str, Any] = {
        "instrument": instrument.id,
        "version": instrument.version,
        "lang": lang,
        "risk_flags": tuple(flags),
        "risk_unanswered": tuple(unanswered),
        "missing": missing,
        "answered_sum": answered_sum,
        "total_range": rules.total_range,
        "direction": rules.direction,
        "invalid": invalid,
    }

    subscales: dict[str, int | float | None] = {}
    for sub in rules.subscales:
        value, _, _ = _aggregate(scores, sub.items, sub.method, sub.max_missing, "none")
        subscales[sub.id] = None if value is None else _plain(value)

    if invalid:
        return ScoreResult(
            scorable=False,
            reason="invalid answers: " + "; ".join(f"item {k}: {v}" for k, v in invalid.items()),
            total=None,
            subscales=subscales,
            band=None,
            above_cutoff=None,
            clinical=None,
            cutoff=rules.cutoff.value if rules.cutoff else None,
            prorated=False,
            proration=None,
            **base,
        )

    if rules.method == "none":
        return ScoreResult(
            scorable=False,
            reason="no score: this instrument asks open questions only",
            total=None,
            subscales=subscales,
            band=None,
            above_cutoff=None,
            clinical=None,
            cutoff=None,
            prorated=False,
            proration=None,
            **base,
        )

    total, _, prorated = _aggregate(
        scores, rules.items, rules.method, rules.missing.max_missing, rules.missing.rounding
    )
    n = len(rules.items)
    if total is None:
        allowed = rules.missing.max_missing
        reason = (
            f"{len(missing)} of {n} scored items missing ({_describe_items(missing)}); "
            f"at most {allowed} may be missing for a total"
        )
        return ScoreResult(
            scorable=False,
            reason=reason,
            total=None,
            subscales=subscales,
            band=None,
            above_cutoff=None,
            clinical=None,
            cutoff=rules.cutoff.value if rules.cutoff else None,
            prorated=False,
            proration=None,
            **base,
        )

    proration = None
    if missing:
        answered_n = n - len(missing)
        source = rules.missing.source or "instrument rule"
        if rules.missing.unverified:
            source += ", UNVERIFIED"
        if rules.method == "mean":
            proration = (
                f"{len(missing)} of {n} scored items missing ({_describe_items(missing)}); "
                f"total is the mean of the {answered_n} answered items ({source})"
            )
        else:
            exact = sum(scores.values()) / answered_n * n
            rounded = (
                ", rounded half up" if rules.missing.rounding == "half_up" else ", not rounded"
            )
            proration = (
                f"{len(missing)} of {n} scored items missing ({_describe_items(missing)}); "
                f"total prorated as mean of the {answered_n} answered items x {n} = "
                f"{exact:.3f}{rounded} to {_plain(total)} ({source})"
            )

    band = None
    for candidate in rules.bands:
        if candidate.min <= total:
            band = candidate
    cutoff = rules.cutoff
    return ScoreResult(
        scorable=True,
        reason=None,
        total=_plain(total),
        subscales=subscales,
        band=BandResult(band.key, band.label(lang), band.labels) if band else None,
        above_cutoff=(total >= cutoff.value) if cutoff else None,
        clinical=cutoff.is_clinical(total) if cutoff else None,
        cutoff=cutoff.value if cutoff else None,
        prorated=prorated,
        proration=proration,
        **base,
    )
