"""The sign-in backend: allauth's (email and password), with the signed-in user read on each request
by SQL prepared once per process (why: alliance.accounts.sessions)."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import QuerySet

from alliance.accounts.models import User
from alliance.core.prepared import PreparedQuery

# Every column, in the model's order, so that a row becomes a User as the ORM would make it.
_COLUMNS = tuple(field.attname for field in User._meta.concrete_fields)


def _user_row(_variant: None, *, pk: int) -> QuerySet[User, Any]:
    return User._default_manager.filter(pk=pk).values_list(*_COLUMNS)


_USER_ROW = PreparedQuery(_user_row)


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: Any) -> User | None:
        """As ModelBackend.get_user: the user with this id, if they may sign in (active)."""
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = router.db_for_read(User)
        rows = _USER_ROW.rows(None, alias, pk=pk)
        if not rows:
            return None
        user = User.from_db(alias, list(_COLUMNS), rows[0])
        return user if self.user_can_authenticate(user) else None
