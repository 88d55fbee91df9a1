"""A member of staff's own language (User.language): the page to choose it and its activation.

Order of precedence for a staff page: the signed-in person's choice; without one (or before sign-in)
Django's LocaleMiddleware, which reads Accept-Language. Client pages never use this: they follow the
client's record (alliance.checkin), whoever is signed in on the same browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.core import once
from alliance.core.once import OnceFormMixin


class LanguageForm(OnceFormMixin, forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ("language",)
        widgets = {"language": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        # Each language is named in itself ("Español"), so that someone who cannot read the page's
        # current language still finds their own.
        field.choices = [("", gettext_lazy("The language of my browser")), *settings.LANGUAGES]
        field.required = False


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def language_settings(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = LanguageForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        page = reverse("language_settings")
        with transaction.atomic():
            if once.claim(form, user, "accounts.language") is None:
                form.save()
                log_event("accounts.language.changed", obj=user, data={"language": user.language})
                once.remember(form, page)
        # The confirmation is already in the chosen language.
        activate_for(request, user)
        messages.success(request, _("Your language is saved."))
        return redirect(page)
    return render(
        request,
        "accounts/language_settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def activate_for(request: HttpRequest, user: User) -> None:
    if user.language and user.language in dict(settings.LANGUAGES):
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language


class StaffLanguageMiddleware:
    """After authentication: a signed-in person's chosen language replaces the one LocaleMiddleware
    took from the browser. LocaleMiddleware still runs afterwards on the response (Content-Language,
    Vary), reading the language active by then."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            activate_for(request, user)
        return self.get_response(request)
