"""Finding the QuestionnaireResponses in an imported payload, and saying where a problem is.

A payload is one QuestionnaireResponse, a Bundle of them (its Patients and Questionnaires are kept
to resolve references), or the list of an NDJSON file's lines. Every problem names the resource's
position (Bundle entry or line), its id and the field path from the top of the payload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_RESOURCES = 5000
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_URN_UUID = re.compile(r"^urn:uuid:[0-9a-fA-F-]{36}$")


@dataclass(frozen=True)
class Problem:
    index: int
    resource_id: str | None
    path: str
    message: str


@dataclass(frozen=True)
class Found:
    """A QuestionnaireResponse in the payload: its position, path and the resource itself."""

    index: int
    path: str
    resource: Mapping[str, Any]
    full_url: str | None = None


@dataclass
class Payload:
    responses: list[Found]
    problems: list[Problem]
    notes: list[str]
    patients: dict[str, Mapping[str, Any]]  # by fullUrl and by "Patient/<id>"
    questionnaires: dict[str, Mapping[str, Any]]  # by url (without version)


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def find_resources(payload: Any) -> Payload:
    """The QuestionnaireResponses in a payload, and the Patients and Questionnaires beside them."""
    found = Payload([], [], [], {}, {})
    ignored: dict[str, int] = {}

    def take(index: int, path: str, resource: Any, full_url: str | None) -> None:
        if not isinstance(resource, Mapping):
            found.problems.append(Problem(index, None, path, "not a FHIR resource (a JSON object)"))
            return
        kind = resource.get("resourceType")
        if kind == "QuestionnaireResponse":
            found.responses.append(Found(index, path, resource, full_url))
        elif kind == "Patient":
            if full_url:
                found.patients[full_url] = resource
            if text_or_none(resource.get("id")):
                found.patients[f"Patient/{resource['id']}"] = resource
        elif kind == "Questionnaire":
            url = text_or_none(resource.get("url"))
            if url:
                found.questionnaires[url.split("|", 1)[0]] = resource
        elif isinstance(kind, str):
            ignored[kind] = ignored.get(kind, 0) + 1
        else:
            found.problems.append(Problem(index, None, path, "resourceType is missing"))

    if isinstance(payload, Mapping) and payload.get("resourceType") == "Bundle":
        entries = payload.get("entry")
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            found.problems.append(Problem(0, None, "Bundle.entry", "must be a list"))
            entries = []
        for i, entry in enumerate(entries[: MAX_RESOURCES + 1]):
            path = f"Bundle.entry[{i}]"
            if not isinstance(entry, Mapping):
                found.problems.append(Problem(i, None, path, "must be an object"))
                continue
            take(i, f"{path}.resource", entry.get("resource"), text_or_none(entry.get("fullUrl")))
    elif isinstance(payload, Mapping):
        kind = payload.get("resourceType")
        if kind != "QuestionnaireResponse":
            found.problems.append(
                Problem(
                    0,
                    text_or_none(payload.get("id")),
                    "resourceType",
                    f"{kind!r}: expected a QuestionnaireResponse or a Bundle of them",
                )
            )
        else:
            take(0, "QuestionnaireResponse", payload, None)
    elif isinstance(payload, list):
        for i, line in enumerate(payload[: MAX_RESOURCES + 1]):
            if isinstance(line, Mapping) and line.get("resourceType") == "Bundle":
                found.problems.append(
                    Problem(i, None, f"line {i + 1}", "a Bundle inside NDJSON is not supported")
                )
                continue
            take(i, f"line {i + 1}", line, None)
    else:
        found.problems.append(
            Problem(0, None, "", "expected a QuestionnaireResponse, a Bundle of them, or NDJSON")
        )
    if len(found.responses) > MAX_RESOURCES:
        found.problems.append(
            Problem(0, None, "", f"more than {MAX_RESOURCES} responses: split the file")
        )
    if not found.responses and not found.problems:
        found.problems.append(Problem(0, None, "", "there is no QuestionnaireResponse in it"))
    for kind, count in sorted(ignored.items()):
        found.notes.append(
            f"{count} {kind} resource(s) ignored: only QuestionnaireResponses import"
        )
    return found


class Checker:
    """Collects the problems of one resource, each with its field path."""

    def __init__(self, found: Found, resource_id: str | None) -> None:
        self.found = found
        self.resource_id = resource_id
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        where = f"{self.found.path}.{path}" if path else self.found.path
        self.problems.append(Problem(self.found.index, self.resource_id, where, message))


def resource_id(found: Found) -> str | None:
    """The id Alliance imports the resource once by: its own id, else a ``urn:uuid`` fullUrl."""
    rid = found.resource.get("id")
    if isinstance(rid, str) and _FHIR_ID.match(rid):
        return rid
    if found.full_url and _URN_UUID.match(found.full_url):
        return found.full_url
    return None
