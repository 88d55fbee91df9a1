"""Export pseudonyms: keyed, stable, kind-separated, and never a client code."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from alliance.insights import pseudonyms
from alliance.insights.pseudonyms import PseudonymCollision, Pseudonyms


def independent(secret: str, kind: str, pk: int) -> str:
    """The documented scheme written out with hashlib alone: Django's salted_hmac derives its key
    as SHA-256(key_salt + secret) and returns HMAC-SHA256(key, value)."""
    django_key = hashlib.sha256((pseudonyms.KEY_SALT + secret).encode()).digest()
    key = hmac.new(django_key, b"export pseudonym key", hashlib.sha256).digest()
    digest = hmac.new(key, f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()
    return {"therapist": "T-", "client": "C-", "episode": "E-"}[kind] + digest[:16]


def test_the_scheme_is_the_documented_one() -> None:
    names = Pseudonyms(secret="s3cret")
    assert names.client(42) == independent("s3cret", "client", 42)
    assert names.therapist(7) == independent("s3cret", "therapist", 7)
    assert names.episode(1) == independent("s3cret", "episode", 1)


def test_stable_across_runs_and_changed_by_the_secret() -> None:
    assert Pseudonyms(secret="a").client(5) == Pseudonyms(secret="a").client(5)
    assert Pseudonyms(secret="a").client(5) != Pseudonyms(secret="b").client(5)


def test_kinds_and_ids_give_unrelated_pseudonyms() -> None:
    names = Pseudonyms(secret="a")
    assert names.client(5)[2:] != names.therapist(5)[2:] != names.episode(5)[2:]
    given = {names.client(pk) for pk in range(1, 5001)}
    assert len(given) == 5000
    assert all(len(n) == 18 and n.startswith("C-") for n in given)
    assert not any(str(pk) == n[2:] for pk, n in enumerate(sorted(given)))


def test_the_default_key_is_the_servers_secret(settings: pytest.FixtureRequest) -> None:
    assert Pseudonyms().client(3) == independent(settings.SECRET_KEY, "client", 3)  # type: ignore[attr-defined]


def test_a_collision_is_refused_not_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pseudonyms, "DIGITS", 1)  # 16 possible names: 17 ids must collide
    names = Pseudonyms(secret="a")
    with pytest.raises(PseudonymCollision):
        for pk in range(17):
            names.client(pk)
    assert names.client(0) == names.client(0)  # the same object twice is not a collision
