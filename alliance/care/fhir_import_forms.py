"""Forms for the two FHIR import commands: every command-line input goes through a Django form,
as a page's would (the rule is the same whether the input is typed in a browser or a shell).

* `ResponsesImportForm`: `alliance responses import FILE [--client CODE] [--dry-run]`.
* `ScoringRulesForm`: the scoring-rule options of `alliance instruments import` (`--band`,
  `--cutoff`, `--reliable-change`, `--risk-item`), checked with the same parsers the pure
  command line uses (alliance.measures.import_rules), so both say the same thing about a bad option.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from alliance.measures.import_rules import (
    RuleError,
    RuleSpecs,
    check_bands,
    parse_band,
    parse_number,
    parse_risk,
)

_CLIENT_CODE = re.compile(r"^[A-Za-z0-9-]{1,16}$")


class ResponsesImportForm(forms.Form):
    file = forms.CharField(max_length=4096, strip=True)
    client = forms.CharField(max_length=16, required=False, strip=True)
    dry_run = forms.BooleanField(required=False)

    def clean_client(self) -> str | None:
        code: str = self.cleaned_data.get("client") or ""
        if not code:
            return None
        if not _CLIENT_CODE.match(code):
            raise ValidationError(
                _("%(code)s is not a client code (letters, digits and '-', like C-7KQ3F)"),
                params={"code": code},
            )
        return code


class ListField(forms.Field):
    """A repeatable option: a list of strings, each checked by ``parse``."""

    def __init__(self, parse: Callable[[str], Any], **kwargs: Any) -> None:
        self.parse = parse
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> list[Any]:
        if value in (None, "", []):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        parsed = []
        for text in values:
            if not isinstance(text, str) or len(text) > 500:
                raise ValidationError(_("each value must be a short piece of text"))
            try:
                parsed.append(self.parse(text))
            except RuleError as exc:
                raise ValidationError(str(exc)) from None
        return parsed


def _number(what: str, *, positive: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        return parse_number(text, what, positive=positive)

    return parse


class OptionalNumberField(forms.Field):
    def __init__(self, parse: Callable[[str], float], **kwargs: Any) -> None:
        self.parse = parse
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> float | None:
        if value in (None, ""):
            return None
        try:
            return self.parse(str(value)[:100])
        except RuleError as exc:
            raise ValidationError(str(exc)) from None


class ScoringRulesForm(forms.Form):
    band = ListField(parse_band)
    cutoff = OptionalNumberField(_number("--cutoff"))
    reliable_change = OptionalNumberField(_number("--reliable-change", positive=True))
    risk_item = ListField(parse_risk)

    def clean_band(self) -> list[Any]:
        bands: list[Any] = self.cleaned_data.get("band") or []
        try:
            check_bands(bands)
        except RuleError as exc:
            raise ValidationError(str(exc)) from None
        return bands

    def rules(self) -> RuleSpecs:
        data = self.cleaned_data
        return RuleSpecs(
            bands=tuple(data["band"]),
            cutoff=data["cutoff"],
            reliable_change=data["reliable_change"],
            risk=tuple(data["risk_item"]),
        )


def form_errors(form: forms.Form) -> list[str]:
    """The form's errors as lines for a terminal: ``--option: message``."""
    lines = []
    for name, errors in form.errors.items():
        option = "--" + name.replace("_", "-") if name != "__all__" else ""
        for error in errors:
            # The pure parsers' messages already name the option or the value they refuse.
            named = option and not str(error).startswith(("--", "band", "risk item"))
            lines.append(f"{option}: {error}" if named else str(error))
    return lines


def instrument_option_errors(argv: list[str]) -> list[str]:
    """`alliance instruments import ...`: the scoring-rule options checked by `ScoringRulesForm`
    before the pure command runs. Other usage errors are left to the command, which names them."""
    from alliance.measures.cli import UsageError, build_parser

    try:
        args = build_parser().parse_args(argv)
    except (UsageError, SystemExit):
        return []
    form = ScoringRulesForm(
        {
            "band": args.band or [],
            "cutoff": args.cutoff,
            "reliable_change": args.reliable_change,
            "risk_item": args.risk_item or [],
        }
    )
    return [] if form.is_valid() else form_errors(form)
