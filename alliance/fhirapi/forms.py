"""Every input of the API goes through a form: search parameters, the token request, $export's.

A parameter the server does not know is refused (400) rather than ignored: a search that silently
dropped a filter would return more than its caller believes it asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from django import forms
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

MAX_COUNT = 100
DEFAULT_COUNT = 50
_PREFIXED = re.compile(r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?(?P<value>\d.*)$")
#: Parameters any search or read may carry: the format (JSON only) and a cache-buster.
ALWAYS_ALLOWED = frozenset({"_format"})
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})


@dataclass(frozen=True)
class DateBound:
    """One ``date=ge2025-01-01`` condition: `start <= instant < end` is the value's own range."""

    prefix: str
    start: datetime
    end: datetime


def parse_date(text: str) -> DateBound:
    """A FHIR date search value with its prefix; ValueError says what is wrong."""
    match = _PREFIXED.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime")
    prefix = match["prefix"] or "eq"
    if prefix not in ("eq", "gt", "lt", "ge", "le"):
        raise ValueError(
            f"the prefix {prefix!r} is not supported on dates (use eq, gt, lt, ge, le)"
        )
    value = match["value"]
    try:
        if re.fullmatch(r"\d{4}", value):
            start = datetime(int(value), 1, 1, tzinfo=UTC)
            end = datetime(int(value) + 1, 1, 1, tzinfo=UTC)
        elif re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = int(value[:4]), int(value[5:])
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            start = datetime.combine(day, time.min, tzinfo=UTC)
            end = start + timedelta(days=1)
        else:
            parsed = parse_datetime(value.replace(" ", "+"))
            if parsed is None:
                raise ValueError
            if parsed.tzinfo is None:
                raise ValueError(f"{text!r}: a dateTime needs a time zone (Z or +01:00)")
            start = parsed
            end = parsed + timedelta(seconds=1)
    except ValueError as exc:
        if str(exc).startswith(repr(text)):
            raise
        raise ValueError(f"{text!r} is not a valid date") from exc
    return DateBound(prefix, start, end)


class RepeatedField(forms.Field):
    """A parameter that may be given more than once (``date=ge...&date=le...``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return [str(v) for v in value]


class DateField(RepeatedField):
    def clean(self, value: Any) -> list[DateBound]:
        bounds = []
        for text in self.to_python(value):
            try:
                bounds.append(parse_date(text))
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return bounds


def _reference(value: str, kind: str) -> str:
    """``Patient/C-7KQ3F``, a full URL ending so, or the bare id ``C-7KQ3F`` -> the id."""
    text = value.strip()
    if "/" in text:
        parts = text.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != kind:
            raise forms.ValidationError(f"{value!r} is not a reference to a {kind}")
        text = parts[-1]
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", text):
        raise forms.ValidationError(f"{value!r} is not a {kind} id")
    return text


class SearchForm(forms.Form):
    """What every search takes. Subclasses add their resource's own parameters."""

    _count = forms.IntegerField(min_value=1, max_value=MAX_COUNT, required=False)
    _offset = forms.IntegerField(min_value=0, required=False)
    _id = forms.CharField(required=False, max_length=64)
    _lastUpdated = DateField(required=False)
    _format = forms.CharField(required=False)

    resource_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data: QueryDict) -> None:
        super().__init__(data)
        self.unknown = sorted(set(data) - set(self.fields))

    def clean__format(self) -> str:
        value = str(self.cleaned_data.get("_format") or "")
        if value and value not in JSON_FORMATS:
            raise forms.ValidationError("only JSON is served (_format=json)")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.unknown:
            raise forms.ValidationError(
                f"unknown search parameter(s): {', '.join(self.unknown)}; this server supports "
                f"{', '.join(sorted(self.fields))}"
            )
        return cleaned

    def problems(self) -> str:
        messages: list[str] = []
        for field, errors in self.errors.items():
            where = "" if field == "__all__" else f"{field}: "
            messages.extend(f"{where}{error}" for error in errors)
        return "; ".join(messages)

    @property
    def count(self) -> int:
        return int(self.cleaned_data.get("_count") or DEFAULT_COUNT)

    @property
    def offset(self) -> int:
        return int(self.cleaned_data.get("_offset") or 0)


class PatientSearchForm(SearchForm):
    identifier = forms.CharField(required=False, max_length=300)


class PractitionerSearchForm(SearchForm):
    identifier = forms.CharField(required=False, max_length=300)


class QuestionnaireSearchForm(SearchForm):
    url = forms.CharField(required=False, max_length=500)
    code = forms.CharField(required=False, max_length=300)


class _SubjectForm(SearchForm):
    patient = forms.CharField(required=False, max_length=300)
    subject = forms.CharField(required=False, max_length=300)

    def clean_patient(self) -> str:
        value = self.cleaned_data.get("patient") or ""
        return _reference(value, "Patient") if value else ""

    def clean_subject(self) -> str:
        value = self.cleaned_data.get("subject") or ""
        return _reference(value, "Patient") if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        patient, subject = cleaned.get("patient"), cleaned.get("subject")
        if patient and subject and patient != subject:
            raise forms.ValidationError("patient and subject name different patients")
        cleaned["patient"] = patient or subject
        return cleaned


class QuestionnaireResponseSearchForm(_SubjectForm):
    questionnaire = forms.CharField(required=False, max_length=500)
    authored = DateField(required=False)


class ObservationSearchForm(_SubjectForm):
    code = forms.CharField(required=False, max_length=300)
    date = DateField(required=False)


SEARCH_FORMS: dict[str, type[SearchForm]] = {
    "Patient": PatientSearchForm,
    "Practitioner": PractitionerSearchForm,
    "Questionnaire": QuestionnaireSearchForm,
    "QuestionnaireResponse": QuestionnaireResponseSearchForm,
    "Observation": ObservationSearchForm,
}


class TokenRequestForm(forms.Form):
    grant_type = forms.ChoiceField(choices=[("client_credentials", "client_credentials")])
    client_assertion_type = forms.ChoiceField(
        choices=[
            (
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
        ]
    )
    client_assertion = forms.CharField(max_length=8000)
    scope = forms.CharField(max_length=2000)


class ExportForm(forms.Form):
    """Kick-off parameters of ``$export`` (FHIR Bulk Data Access 2.0)."""

    _type = forms.CharField(required=False, max_length=500)
    _since = forms.CharField(required=False, max_length=40)
    _outputFormat = forms.CharField(required=False, max_length=60)

    def __init__(self, data: QueryDict) -> None:
        super().__init__(data)
        self.unknown = sorted(set(data) - set(self.fields))

    def clean__since(self) -> datetime | None:
        value = str(self.cleaned_data.get("_since") or "").strip()
        if not value:
            return None
        parsed = parse_datetime(value.replace(" ", "+"))
        if parsed is None or parsed.tzinfo is None:
            raise forms.ValidationError(
                "_since must be an instant with a time zone, e.g. 2025-01-01T00:00:00Z"
            )
        return parsed

    def clean__outputFormat(self) -> str:
        value = str(self.cleaned_data.get("_outputFormat") or "")
        if value and value not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
            raise forms.ValidationError(
                "only NDJSON is produced (_outputFormat=application/fhir+ndjson)"
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.unknown:
            raise forms.ValidationError(
                f"unsupported $export parameter(s): {', '.join(self.unknown)} "
                "(this server takes _type, _since and _outputFormat)"
            )
        return cleaned
