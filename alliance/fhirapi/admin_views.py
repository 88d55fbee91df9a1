"""Administrator pages: the FHIR API's credentials, created, changed and revoked, each audited."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.accounts.audit import log_event
from alliance.accounts.decorators import administrator_required
from alliance.accounts.models import User
from alliance.core import once
from alliance.fhirapi import mapping
from alliance.fhirapi.admin_forms import CredentialForm, RevokeForm
from alliance.fhirapi.models import ApiClient


def _admin(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@administrator_required
@require_GET
def credential_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "fhirapi/credential_list.html",
        {
            "credentials": ApiClient.objects.all(),
            "now": timezone.now(),
            "base": mapping.fhir_base(),
            "revoke_form": RevokeForm(),
        },
    )


def _scope_data(credential: ApiClient) -> dict[str, object]:
    return {"read": sorted(credential.read_types), "import": credential.can_import}


@administrator_required
@require_http_methods(["GET", "POST"])
def credential_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(ApiClient, pk=pk) if pk is not None else None
    form = CredentialForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if (done := once.claim(form, _admin(request), "fhirapi.credential")) is not None:
                return redirect(done or "api_credential_list")
            credential = form.save(commit=False)
            if instance is None:
                credential.created_by = _admin(request)
            credential.save()
            log_event(
                "fhirapi.credential.created" if instance is None else "fhirapi.credential.changed",
                obj=credential,
                data={
                    "client_id": credential.client_id,
                    "fields": sorted(form.changed_data),
                    **_scope_data(credential),
                },
            )
            target = reverse("api_credential_edit", args=[credential.pk])
            once.remember(form, target)
        messages.success(
            request,
            _("Saved. The system signs in with client id %(id)s.") % {"id": credential.client_id},
        )
        return redirect(target)
    return render(
        request,
        "fhirapi/credential_form.html",
        {"form": form, "instance": instance, "base": mapping.fhir_base()},
    )


@administrator_required
@require_POST
def credential_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    credential = get_object_or_404(ApiClient, pk=pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The page was out of date; nothing was revoked. Try again."))
        return redirect("api_credential_list")
    with transaction.atomic():
        if once.claim(form, _admin(request), "fhirapi.credential.revoke") is None:
            if credential.revoked_at is None:
                credential.revoked_at = timezone.now()
                credential.revoked_by = _admin(request)
                credential.save(update_fields=["revoked_at", "revoked_by"])
                # Its tokens stop at once, not when they would have expired.
                credential.tokens.all().delete()
                log_event(
                    "fhirapi.credential.revoked",
                    obj=credential,
                    data={"client_id": credential.client_id},
                )
            once.remember(form, reverse("api_credential_list"))
    messages.success(
        request,
        _("Revoked %(id)s: it can no longer get or use a token.") % {"id": credential.client_id},
    )
    return redirect("api_credential_list")
