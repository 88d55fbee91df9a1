"""Free text is encrypted at rest; scores stay queryable; keys rotate."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from alliance.care.models import Client, Reflection, Response
from tests import factories


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_client_name_and_contacts_are_not_stored_in_clear() -> None:
    client = factories.ClientFactory.create(
        name="Philippa Marchbanks", email="pm@example.com", phone="+44 7700 900123"
    )
    for column, clear in (("name", "Philippa"), ("email", "pm@example.com"), ("phone", "7700")):
        raw = _raw("care_client", column, client.pk)
        assert clear not in raw
        assert raw.startswith("gAAAAA")  # a Fernet token
    assert Client.objects.get(pk=client.pk).name == "Philippa Marchbanks"


@pytest.mark.django_db
def test_reflection_text_and_open_answers_are_encrypted_but_scores_are_not() -> None:
    reflection = factories.ReflectionFactory.create(text="I felt a pull to reassure him")
    assert "reassure" not in _raw("care_reflection", "text", reflection.pk)
    response = factories.ResponseFactory.create(
        total=17, open_answers={"better": "Less homework talk"}
    )
    assert "homework" not in _raw("care_response", "open_answers", response.pk)
    assert Response.objects.filter(total__gte=15).count() == 1
    assert Response.objects.get(pk=response.pk).open_answers == {"better": "Less homework talk"}


@pytest.mark.django_db
def test_encrypted_fields_refuse_equality_lookups() -> None:
    with pytest.raises(TypeError, match="cannot be filtered"):
        list(Client.objects.filter(name="anything"))


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_newest_key() -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    reflection = factories.ReflectionFactory.create(text="Noticed my own boredom")
    before = _raw("care_reflection", "text", reflection.pk)
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert Reflection.objects.get(pk=reflection.pk).text == "Noticed my own boredom"
        call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        after = _raw("care_reflection", "text", reflection.pk)
        assert after != before
        assert Fernet(new_key.encode()).decrypt(after.encode()) == b"Noticed my own boredom"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        # The old key can now be dropped.
        assert Reflection.objects.get(pk=reflection.pk).text == "Noticed my own boredom"
