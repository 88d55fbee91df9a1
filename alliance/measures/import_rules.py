"""Scoring rules given to an imported Questionnaire: bands, cut-off, reliable change, risk items.

They come from two places, both read into the same :class:`RuleSpecs`:

* the command line (``--band minimal:0-4:None-minimal``, ``--cutoff 10``, ``--reliable-change 6``,
  ``--risk-item 9>0``), parsed by :func:`parse_band`, :func:`parse_number` and :func:`parse_risk`;
* Alliance's own extensions on the Questionnaire (:func:`rules_from_extensions`). FHIR has no
  standard extension for score bands, cut-offs, reliable change or risk items (neither the core
  extension registry nor SDC defines one), so Alliance defines its own, identified by the end of
  the URL so that a file exported by any Alliance clinic (``https://<clinic>/fhir/StructureDefinition/
  alliance-band``) reads the same anywhere:

  - ``…/alliance-band``: complex, sub-extensions ``key`` (valueCode), ``min`` and ``max``
    (valueDecimal or valueInteger), ``label`` (valueString, optional);
  - ``…/alliance-cutoff``: valueDecimal/valueInteger; the clinical range lies on the worse side;
  - ``…/alliance-reliable-change``: valueDecimal/valueInteger, the smallest change that counts;
  - ``…/alliance-risk``: complex, ``item`` (valueString, a linkId), ``operator`` (valueCode: ``>``,
    ``>=``, ``=``, ``!=``; default ``>``), ``value`` (valueDecimal/valueInteger).

Command-line options win over the file's extensions, kind by kind. Pure: no Django.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

EXTENSION_SUFFIX = "/StructureDefinition/alliance-"
BAND, CUTOFF, RELIABLE_CHANGE, RISK = "band", "cutoff", "reliable-change", "risk"
Operator = Literal[">", ">=", "=", "!="]
OPERATORS: tuple[Operator, ...] = (">=", "!=", ">", "=")

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_NUMBER = r"-?\d+(?:\.\d+)?"
_BAND = re.compile(rf"^(?P<key>[^:]+):(?P<min>{_NUMBER})-(?P<max>{_NUMBER})(?::(?P<label>.*))?$")
_RISK = re.compile(rf"^(?P<item>[^<>=!]+)(?P<op>>=|!=|>|=)(?P<value>{_NUMBER})$")

# The message a risk flag shows when the rule came from an import: the importer knows the item,
# not its wording, so it says what happened and what to do.
_RISK_MESSAGE = {
    "en": "The answer to item {item} met the risk rule set when this questionnaire was imported "
    "({rule}). Review risk today.",
    "es": "La respuesta al ítem {item} cumple la regla de riesgo fijada al importar este "
    "cuestionario ({rule}). Revise el riesgo hoy.",
}


class RuleError(ValueError):
    """An option or extension that cannot be a scoring rule; the message says which and why."""


@dataclass(frozen=True)
class BandSpec:
    key: str
    min: float
    max: float
    label: str


@dataclass(frozen=True)
class RiskSpec:
    item: str
    operator: Operator
    value: float


@dataclass(frozen=True)
class RuleSpecs:
    bands: tuple[BandSpec, ...] = ()
    cutoff: float | None = None
    reliable_change: float | None = None
    risk: tuple[RiskSpec, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == RuleSpecs()

    def kinds(self) -> tuple[str, ...]:
        """The kinds of rule given, for messages ("bands, cut-off")."""
        named = [
            ("bands", bool(self.bands)),
            ("cut-off", self.cutoff is not None),
            ("reliable change", self.reliable_change is not None),
            ("risk items", bool(self.risk)),
        ]
        return tuple(name for name, given in named if given)

    def over(self, base: RuleSpecs) -> RuleSpecs:
        """These rules, with ``base`` filling in every kind not given here."""
        return RuleSpecs(
            bands=self.bands or base.bands,
            cutoff=self.cutoff if self.cutoff is not None else base.cutoff,
            reliable_change=(
                self.reliable_change if self.reliable_change is not None else base.reliable_change
            ),
            risk=self.risk or base.risk,
        )


# --- parsing --------------------------------------------------------------------------------


def parse_number(text: str, what: str, *, positive: bool = False) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise RuleError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise RuleError(f"{what}: {text!r} is not a finite number")
    if positive and value <= 0:
        raise RuleError(f"{what}: {text!r} must be above 0")
    return value


def parse_band(text: str) -> BandSpec:
    """``KEY:MIN-MAX`` or ``KEY:MIN-MAX:LABEL``, e.g. ``mild:5-9:Mild``."""
    match = _BAND.match(text.strip())
    if match is None:
        raise RuleError(
            f"band {text!r}: write it as KEY:MIN-MAX or KEY:MIN-MAX:LABEL (mild:5-9:Mild)"
        )
    key = match["key"].strip()
    if not _KEY.match(key):
        raise RuleError(f"band {text!r}: the key may hold only letters, digits, '_' and '-'")
    low, high = float(match["min"]), float(match["max"])
    if low > high:
        raise RuleError(f"band {text!r}: {low:g} is above {high:g}")
    label = (match["label"] or "").strip() or key
    return BandSpec(key, low, high, label)


def parse_risk(text: str) -> RiskSpec:
    """``LINKID>VALUE`` (also ``>=``, ``=``, ``!=``), e.g. ``9>0``."""
    match = _RISK.match(text.strip())
    if match is None:
        raise RuleError(f"risk item {text!r}: write it as LINKID>VALUE (also >=, =, !=), e.g. 9>0")
    item = match["item"].strip()
    if not item:
        raise RuleError(f"risk item {text!r}: the linkId is missing")
    op = next(o for o in OPERATORS if o == match["op"])  # the pattern allows only these four
    return RiskSpec(item, op, float(match["value"]))


def check_bands(bands: Sequence[BandSpec]) -> None:
    keys = [b.key for b in bands]
    if len(set(keys)) != len(keys):
        raise RuleError(f"bands: a key is used twice ({', '.join(keys)})")
    ordered = sorted(bands, key=lambda b: b.min)
    if list(bands) != ordered:
        raise RuleError("bands: give them from the lowest score to the highest")


# --- extensions -----------------------------------------------------------------------------


def _kind(url: Any) -> str | None:
    if not isinstance(url, str) or EXTENSION_SUFFIX not in url:
        return None
    return url.rsplit(EXTENSION_SUFFIX, 1)[1]


def _value(ext: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in ext:
            return ext[key]
    return None


def _ext_number(ext: Mapping[str, Any], what: str) -> float:
    value = _value(ext, "valueDecimal", "valueInteger")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise RuleError(f"{what}: needs valueDecimal or valueInteger")
    number = float(value)
    if not math.isfinite(number):
        raise RuleError(f"{what}: not a finite number")
    return number


def _parts(ext: Mapping[str, Any], what: str) -> dict[str, Mapping[str, Any]]:
    subs = ext.get("extension")
    if not isinstance(subs, list):
        raise RuleError(f"{what}: needs sub-extensions")
    found: dict[str, Mapping[str, Any]] = {}
    for sub in subs:
        if isinstance(sub, Mapping) and isinstance(sub.get("url"), str):
            found[sub["url"]] = sub
    return found


def rules_from_extensions(extensions: Iterable[Any]) -> RuleSpecs:
    """Alliance's rule extensions on a Questionnaire (see the module docstring)."""
    bands: list[BandSpec] = []
    risk: list[RiskSpec] = []
    cutoff = reliable = None
    for index, ext in enumerate(extensions):
        if not isinstance(ext, Mapping):
            continue
        kind = _kind(ext.get("url"))
        where = f"extension[{index}] ({ext.get('url')})"
        if kind == BAND:
            parts = _parts(ext, where)
            key = _value(parts.get("key", {}), "valueCode", "valueString")
            if not isinstance(key, str) or not _KEY.match(key):
                raise RuleError(f"{where}: 'key' needs a valueCode of letters, digits, '_', '-'")
            low = _ext_number(parts.get("min", {}), f"{where} min")
            high = _ext_number(parts.get("max", {}), f"{where} max")
            if low > high:
                raise RuleError(f"{where}: min {low:g} is above max {high:g}")
            label = _value(parts.get("label", {}), "valueString")
            bands.append(BandSpec(key, low, high, label if isinstance(label, str) else key))
        elif kind == CUTOFF:
            cutoff = _ext_number(ext, where)
        elif kind == RELIABLE_CHANGE:
            reliable = _ext_number(ext, where)
            if reliable <= 0:
                raise RuleError(f"{where}: must be above 0")
        elif kind == RISK:
            parts = _parts(ext, where)
            item = _value(parts.get("item", {}), "valueString", "valueCode")
            if not isinstance(item, str) or not item:
                raise RuleError(f"{where}: 'item' needs a valueString (the linkId)")
            given = _value(parts.get("operator", {}), "valueCode", "valueString") or ">"
            op = next((o for o in OPERATORS if o == given), None)
            if op is None:
                raise RuleError(f"{where}: operator {given!r} is not one of > >= = !=")
            value = _ext_number(parts.get("value", {}), f"{where} value")
            risk.append(RiskSpec(item, op, value))
        elif kind is not None:
            raise RuleError(f"{where}: Alliance has no extension 'alliance-{kind}'")
    check_bands(bands)
    return RuleSpecs(tuple(bands), cutoff, reliable, tuple(risk))


# --- applying them to a scoring block ---------------------------------------------------------


def _in_languages(text: str, languages: Sequence[str]) -> dict[str, str]:
    return {lang: text for lang in languages}


def risk_message(
    item: str, operator: str, value: float, languages: Sequence[str]
) -> dict[str, str]:
    rule = f"{item} {operator} {value:g}"
    return {
        lang: _RISK_MESSAGE.get(lang, _RISK_MESSAGE["en"]).format(item=item, rule=rule)
        for lang in languages
    }


def apply_rules(block: Mapping[str, Any], specs: RuleSpecs, *, source: str) -> dict[str, Any]:
    """A copy of ``block`` (an ``alliance`` block as a dict) with these rules in place of its own.

    Whether the rules fit the questionnaire (bands covering the score range, a cut-off inside it,
    risk items that are scored) is checked by the loader when the instrument is built, with the
    file's name in every message."""
    out = {**block, "scoring": dict(block["scoring"])}
    languages: list[str] = list(block["languages"])
    scoring = out["scoring"]
    higher_is_better = scoring.get("direction") == "higher_is_better"
    if specs.bands:
        scoring["bands"] = [
            {"key": b.key, "min": b.min, "max": b.max, "label": _in_languages(b.label, languages)}
            for b in specs.bands
        ]
    if specs.cutoff is not None:
        scoring["cutoff"] = {
            "value": specs.cutoff,
            "clinical": "at_or_below" if higher_is_better else "at_or_above",
            "source": f"set at import ({source})",
        }
    if specs.reliable_change is not None:
        scoring["reliable_change"] = {
            "threshold": specs.reliable_change,
            "source": f"set at import ({source})",
            "unverified": True,
        }
    if specs.risk:
        out["risk"] = [
            {
                "item": r.item,
                "operator": r.operator,
                "value": r.value,
                "level": "urgent",
                "message": risk_message(r.item, r.operator, r.value, languages),
            }
            for r in specs.risk
        ]
    notes = list(out.get("notes") or [])
    notes.append(f"Set at import from {source}: {', '.join(specs.kinds())}.")
    out["notes"] = notes
    return out
