"""Field encryption with MultiFernet: the first key encrypts, every listed key can decrypt."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: free-text fields cannot be stored."
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be url-safe base64 Fernet keys "
            "(generate one with `alliance generate_encryption_key`)."
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


# Short values (names, contact details) are decrypted on every list page: 200 names on a caseload were
# a tenth of its time (issue 10, point 6). Their plaintexts are kept in a bounded cache in the process,
# keyed by the ciphertext and the keys (a re-encrypted or re-keyed value is a new entry). This exposes
# nothing new: whoever can read the process's memory can read the keys it holds. Long values (notes,
# reflections) are read one at a time and are not kept.
SHORT_TOKEN = 400  # characters of ciphertext: about 250 of plaintext
_SHORT_CACHE = 8192


def decrypt(token: str) -> str:
    if len(token) <= SHORT_TOKEN:
        return _decrypt_short(token, tuple(settings.FIELD_ENCRYPTION_KEYS))
    return _decrypt(token)


@lru_cache(maxsize=_SHORT_CACHE)
def _decrypt_short(token: str, keys: tuple[str, ...]) -> str:
    return _decrypt(token)


def _decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        # Never fall back to returning the stored value: that would show ciphertext, or hide a lost key.
        raise ImproperlyConfigured(
            "An encrypted value could not be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
            "Was a key removed before `alliance rotate_encryption_keys` finished?"
        ) from error


def needs_rotation(token: str) -> bool:
    """True when the token was not encrypted with the newest key."""
    newest = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
    try:
        newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return True
    return False


@receiver(setting_changed)
def _forget_keys(*, setting: str, **_: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()
        _decrypt_short.cache_clear()
