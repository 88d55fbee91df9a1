"""Stable export pseudonyms: what stands for a therapist, a client or an episode in every export and
in the report, so that nothing that identifies a person (a client code, a name, an email, a
database id) leaves the server by default (issue 11, point 6).

Scheme (documented in docs/insights.md, "From the command line"):

    key       = salted_hmac("alliance.insights.pseudonym", "export pseudonym key",
                            algorithm="sha256").digest()
                (Django's HMAC with a key derived from SECRET_KEY; SHA-256, not its SHA-1 default)
    pseudonym = PREFIX + HMAC-SHA256(key, f"{kind}:{primary key}").hexdigest()[:16]
    PREFIX    = "T-" therapist, "C-" client, "E-" episode

Decisions
  - **Keyed, not a plain hash**: a primary key is a small number, so an unkeyed hash of it could be
    reversed by trying every number. Without SECRET_KEY nobody can link a pseudonym to a row.
  - **Stable**: the same object gets the same pseudonym in every run and every export, so two exports
    of the same clinic can be joined; it changes only when SECRET_KEY changes (rotating the secret
    re-pseudonymises every export from then on — the old ones cannot be linked to the new).
  - **From the primary key, never the client code**: the code is what staff see in the app, so a
    pseudonym derived from it would be a code by another name for anyone who holds both.
  - **The kind is in the message**: a therapist and a client with the same primary key get unrelated
    pseudonyms.
  - **16 hex digits (64 bits)**: with 100,000 episodes the chance that two share a pseudonym is about
    3 in 10^10 (the birthday bound n^2 / 2^65); `Pseudonyms` still checks and refuses a collision
    rather than silently merging two people.
  - The key is derived once per `Pseudonyms` (salted_hmac per id would hash SECRET_KEY again each
    time: a second for a million ids).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from django.utils.crypto import salted_hmac

Kind = Literal["therapist", "client", "episode"]
PREFIXES: dict[str, str] = {"therapist": "T-", "client": "C-", "episode": "E-"}
KEY_SALT = "alliance.insights.pseudonym"
DIGITS = 16


class PseudonymCollision(RuntimeError):
    """Two objects of one kind got the same pseudonym (about 3 in 10^10 at 100,000 episodes)."""


class Pseudonyms:
    """Pseudonyms for one export run; `secret=None` uses settings.SECRET_KEY."""

    def __init__(self, secret: str | None = None) -> None:
        self._key = salted_hmac(
            KEY_SALT, "export pseudonym key", secret=secret, algorithm="sha256"
        ).digest()
        self._given: dict[str, dict[str, int]] = {kind: {} for kind in PREFIXES}

    def of(self, kind: Kind, pk: int) -> str:
        message = f"{kind}:{pk}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()[:DIGITS]
        name = PREFIXES[kind] + digest
        seen = self._given[kind].setdefault(name, pk)
        if seen != pk:
            raise PseudonymCollision(f"{kind}s {seen} and {pk} share the pseudonym {name}")
        return name

    def therapist(self, pk: int) -> str:
        return self.of("therapist", pk)

    def client(self, pk: int) -> str:
        return self.of("client", pk)

    def episode(self, pk: int) -> str:
        return self.of("episode", pk)
