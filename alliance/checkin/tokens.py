"""Check-in link tokens.

A token is 256 random bits (`secrets.token_urlsafe(32)`). Only its SHA-256 digest is stored, so a copy
of the database cannot be turned back into working links. Lookup is by digest through a unique index:
the comparison the database makes is between digests of the attacker's guess and stored digests, which
leaks nothing useful about any real token; the final equality check uses `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 32
# token_urlsafe(32) yields 43 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_token(value: str) -> bool:
    return bool(TOKEN_PATTERN.match(value))


def matches(token: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(token), stored_digest)
