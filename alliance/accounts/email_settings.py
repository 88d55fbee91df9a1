"""A member of staff's own choice of alert emails (User.alert_emails): one per alert, a daily digest,
or none. Urgent (risk) alerts are emailed at once whatever is chosen (alliance.care.alert_mail).

Therapists and supervisors only: administrators get no alert emails about clients (escalations reach
them whatever they choose)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from alliance.accounts.audit import log_event
from alliance.accounts.models import User
from alliance.care.models import ClinicSettings
from alliance.core import once
from alliance.core.once import OnceFormMixin


class AlertEmailsForm(OnceFormMixin, forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ("alert_emails",)
        labels = {"alert_emails": gettext_lazy("Email me about non-urgent alerts")}
        widgets = {"alert_emails": forms.RadioSelect}


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def email_settings(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.is_clinician:
        raise Http404
    form = AlertEmailsForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        page = reverse("email_settings")
        with transaction.atomic():
            if once.claim(form, user, "accounts.alert_emails") is None:
                form.save()
                log_event(
                    "accounts.alert_emails.changed",
                    obj=user,
                    data={"alert_emails": user.alert_emails},
                )
                once.remember(form, page)
        messages.success(request, _("Your email choice is saved."))
        return redirect(page)
    context = {"form": form, "digest_hour": ClinicSettings.load().alert_digest_hour}
    return render(
        request, "accounts/email_settings.html", context, status=400 if form.errors else 200
    )
