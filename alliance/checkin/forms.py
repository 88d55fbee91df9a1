"""A client-facing form built from an instrument definition.

Not a Django Form: the fields come from the instrument file (alliance.measures), and messages must be
in the client's language. Posted values are kept verbatim so that a form re-shown after any problem
(a missing answer, a database hiccup, an expired CSRF token) carries every answer the client gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alliance.measures.model import Instrument, Item

FIELD_PREFIX = "q_"
MAX_TEXT_LENGTH = 2000


@dataclass
class ItemField:
    item: Item
    name: str
    label: str
    kind: str
    required: bool
    conditional: bool  # asked only in some cases (e.g. PHQ-9 item 10); shown always, optional
    options: list[tuple[str, str]] = field(default_factory=list)
    scale: list[str] = field(default_factory=list)
    anchor_low: str = ""
    anchor_high: str = ""
    value: str = ""
    error: str = ""
    number: int = 0

    @property
    def html_id(self) -> str:
        return f"item-{self.item.link_id}"


def _value_key(value: float) -> str:
    """Option values as stable strings ("2", not "2.0") for radio buttons."""
    return str(int(value)) if float(value).is_integer() else str(value)


class InstrumentForm:
    def __init__(
        self,
        instrument: Instrument,
        lang: str,
        copy: Mapping[str, str],
        data: Mapping[str, Any] | None = None,
        context: Mapping[str, str] | None = None,
    ) -> None:
        self.instrument = instrument
        self.lang = lang
        self.copy = copy
        self.data = data
        self.context = dict(context or {})
        self.fields = self._build_fields()
        self.answers: dict[str, Any] = {}

    def _asked(self, item: Item) -> bool:
        # Items templated with missing context (a GBO goal the client has not set) are not asked.
        return all(key in self.context for key in item.context_keys)

    def _build_fields(self) -> list[ItemField]:
        fields: list[ItemField] = []
        for item in self.instrument.items:
            if not self._asked(item):
                continue
            conditional = bool(item.enable_when)
            entry = ItemField(
                item=item,
                name=f"{FIELD_PREFIX}{item.link_id}",
                label=item.text(self.lang, **self.context),
                kind=item.kind,
                required=item.required and not conditional,
                conditional=conditional,
            )
            if item.kind == "choice":
                entry.options = [(_value_key(o.value), o.label(self.lang)) for o in item.options]
            elif (
                item.kind == "integer" and item.min_value is not None and item.max_value is not None
            ):
                entry.scale = [str(v) for v in range(item.min_value, item.max_value + 1)]
                entry.anchor_low = item.anchor_low(self.lang) or self.copy["scale_low"]
                entry.anchor_high = item.anchor_high(self.lang) or self.copy["scale_high"]
            if self.data is not None:
                entry.value = str(self.data.get(entry.name, "")).strip()
            fields.append(entry)
        for number, entry in enumerate((f for f in fields if f.kind != "text"), start=1):
            entry.number = number
        return fields

    def is_valid(self) -> bool:
        if self.data is None:
            return False
        answers: dict[str, Any] = {}
        for entry in self.fields:
            raw = entry.value
            if raw == "":
                if entry.required:
                    entry.error = self.copy["error_required"]
                continue
            if entry.kind == "text":
                answers[entry.item.link_id] = raw[:MAX_TEXT_LENGTH]
            elif entry.kind == "choice":
                if raw not in {key for key, _ in entry.options}:
                    entry.error = self.copy["error_range"]
                    continue
                answers[entry.item.link_id] = float(raw) if "." in raw else int(raw)
            elif entry.kind == "integer":
                if raw not in entry.scale:
                    entry.error = self.copy["error_range"]
                    continue
                answers[entry.item.link_id] = int(raw)
        # Drop answers to conditional items that do not apply (PHQ-9 item 10 when the total is 0).
        visible = {item.link_id for item in self.instrument.visible_items(answers)}
        answers = {key: value for key, value in answers.items() if key in visible}
        # The instrument has the last word on ranges and required items.
        for link_id in self.instrument.validate_answers(answers):
            found = next((f for f in self.fields if f.item.link_id == link_id), None)
            if found is None or found.error or not (found.required or link_id in answers):
                continue
            found.error = self.copy["error_range" if link_id in answers else "error_required"]
        self.answers = answers
        return not self.errors

    @property
    def flags_risk(self) -> bool:
        """Whether the answers read by is_valid (valid or not as a whole) include a risk answer, such
        as PHQ-9 item 9 above 0: the page then shows crisis help whatever else went wrong."""
        return bool(self.answers) and bool(self.instrument.score(self.answers).risk_flags)

    @property
    def errors(self) -> list[ItemField]:
        return [f for f in self.fields if f.error]

    @property
    def has_required(self) -> bool:
        return any(f.required for f in self.fields)
