"""The session store and sign-in backend that read with prepared SQL (alliance.accounts.sessions,
alliance.accounts.backends) answer exactly as Django's own: the same session data, the same user,
nothing for an expired or unknown session, an inactive or deleted user, or an id that is not one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.accounts.backends import AuthenticationBackend
from alliance.accounts.models import User
from alliance.accounts.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _stored_session(**data: object) -> str:
    store = DjangoSessionStore()
    store.update(data)
    store.create()
    assert store.session_key is not None
    return store.session_key


def test_a_session_loads_the_same_data_as_djangos_store() -> None:
    key = _stored_session(answer=42, words="ünïcode ' \" <b>", nested={"a": [1, 2]})
    ours, django = SessionStore(key), DjangoSessionStore(key)
    assert (
        ours.load()
        == django.load()
        == {
            "answer": 42,
            "words": "ünïcode ' \" <b>",
            "nested": {"a": [1, 2]},
        }
    )
    assert ours.session_key == key


def test_an_expired_or_unknown_session_loads_nothing_and_gets_a_new_key() -> None:
    key = _stored_session(answer=42)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    for unknown in (key, "x" * 32):
        store = SessionStore(unknown)
        assert store.load() == {}
        assert store.session_key is None  # as Django's: a save makes a new row, never this key


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_any_cookie_value_loads_nothing_without_an_error(key: str) -> None:
    assert SessionStore(key).load() == {}


def test_the_backend_returns_the_user_as_the_orm_reads_them() -> None:
    user = UserFactory.create(first_name="Ana", last_name="O'Brien", language="es")
    ours = AuthenticationBackend().get_user(str(user.pk))
    theirs = ModelBackend().get_user(user.pk)
    assert ours is not None and theirs is not None
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert ours._state.adding is False and ours._state.db == "default"
    assert ours.get_session_auth_hash() == theirs.get_session_auth_hash()


def test_the_backend_refuses_an_inactive_deleted_or_malformed_user() -> None:
    inactive = UserFactory.create(is_active=False)
    gone = UserFactory.create()
    gone_pk = gone.pk
    gone.delete()
    backend = AuthenticationBackend()
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(gone_pk) is None
    assert backend.get_user("not a number") is None


def test_a_signed_in_therapist_is_served_and_signed_out_once_deactivated() -> None:
    therapist = UserFactory.create()
    http = Client()
    http.force_login(therapist, backend="alliance.accounts.backends.AuthenticationBackend")
    assert http.get(reverse("caseload")).status_code == 200
    User.objects.filter(pk=therapist.pk).update(is_active=False)
    answer = http.get(reverse("caseload"))
    assert answer.status_code == 302
    assert reverse("account_login") in answer["Location"]


def test_a_changed_password_ends_the_other_sessions() -> None:
    therapist = UserFactory.create()
    http = Client()
    http.force_login(therapist, backend="alliance.accounts.backends.AuthenticationBackend")
    therapist.set_password("a new and long passphrase")
    therapist.save()
    answer = http.get(reverse("caseload"))
    assert answer.status_code == 302  # the session's hash no longer matches the user's
