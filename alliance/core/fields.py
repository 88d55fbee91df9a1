"""Model fields whose contents are encrypted at rest.

Only free text lives here (names, contact details, notes, open answers). Scores and dates stay in plain
columns so that they can be filtered and aggregated. Equality lookups on an encrypted column cannot work
(Fernet tokens are randomised), so every lookup except `isnull` is refused loudly instead of silently
matching nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from alliance.core import crypto

_ALLOWED_LOOKUPS = {"isnull"}


class _EncryptedMixin:
    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            raise TypeError(f"Encrypted field {self!r} cannot be filtered with '{lookup_name}'.")
        return super().get_lookup(lookup_name)  # type: ignore[misc]


class EncryptedTextField(_EncryptedMixin, models.TextField):
    """Text stored as a Fernet token. The empty string is stored as is (it carries no content)."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)


class EncryptedJSONField(_EncryptedMixin, models.TextField):
    """A JSON value stored as one Fernet token (for open answers keyed by item)."""

    # For django-stubs: the Python-side value is any JSON value, not a str.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    description = "JSON encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        if value is None or value == "":
            return None
        return json.loads(crypto.decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj))


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField | EncryptedJSONField)
    ]
