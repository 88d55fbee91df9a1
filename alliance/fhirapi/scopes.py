"""SMART scopes for system clients: what a token asks for and what it is given.

Accepted forms (SMART App Launch v2, and v1 for older clients):
``system/Patient.rs``, ``system/Observation.r``, ``system/*.rs``, ``system/*.read`` (v1: read and
search), ``system/QuestionnaireResponse.c``, ``system/QuestionnaireResponse.write`` (v1: create here,
since the API only imports). Anything the credential does not allow is dropped from the grant; a
request left with nothing is refused (``invalid_scope``).
"""

from __future__ import annotations

import re

from alliance.fhirapi.models import RESOURCE_TYPES

Grant = set[tuple[str, str]]

_SCOPE = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<ops>[cruds]+|read|write|\*)$")
_V1 = {"read": "rs", "write": "c", "*": "cruds"}
_ORDER = "cruds"
KNOWN_TYPES = (*RESOURCE_TYPES, "Bundle")


class ScopeError(ValueError):
    pass


def parse(scope: str) -> Grant:
    """The (type, interaction) pairs a scope string asks for; ScopeError names a malformed one."""
    asked: Grant = set()
    for word in scope.split():
        match = _SCOPE.match(word)
        if match is None:
            if word in ("openid", "fhirUser", "offline_access") or word.startswith("launch"):
                continue  # user-facing scopes a system client has no use for: ignored
            raise ScopeError(f"scope {word!r} is not a SMART system scope")
        kind, ops = match["type"], match["ops"]
        ops = _V1.get(ops, ops)
        if kind != "*" and kind not in KNOWN_TYPES:
            raise ScopeError(f"scope {word!r} names a resource type this server does not serve")
        kinds = KNOWN_TYPES if kind == "*" else (kind,)
        asked |= {(k, op) for k in kinds for op in ops}
    return asked


def render(grant: Grant) -> str:
    """Back to SMART v2 words, one per resource type: ``system/Patient.rs``."""
    by_type: dict[str, str] = {}
    for kind, op in grant:
        by_type[kind] = by_type.get(kind, "") + op
    return " ".join(
        f"system/{kind}.{''.join(sorted(set(ops), key=_ORDER.index))}"
        for kind, ops in sorted(by_type.items())
    )
