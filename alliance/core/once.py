"""Every staff form submitted twice stores once.

A form that changes data carries a random `submission_id` (a hidden field, fresh on every render). The
view claims it inside the same transaction as its writes: the first claim wins, a repeat (a double
click, a browser resending after a timeout) finds the claim and is sent where the first one went. If the
writes fail, the claim rolls back with them, so a corrected resubmission is not mistaken for a repeat.

    form = AppointmentForm(request.POST)
    if form.is_valid():
        with transaction.atomic():
            if (done := once.claim(form, user, "appointment.book")) is not None:
                return redirect(done or fallback)
            ... write ...
            once.remember(form, url)
        return redirect(url)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django import forms
from django.db import IntegrityError, transaction

from alliance.accounts.models import FormSubmission, User


class OnceFormMixin(forms.Form):
    """Adds the hidden `submission_id`. Mix into any Form or ModelForm that writes."""

    submission_id = forms.UUIDField(widget=forms.HiddenInput, required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_id", uuid.uuid4())


def claim(form: forms.Form, user: User | None, name: str) -> str | None:
    """None when this is the first submission (now claimed); else where the first one went ("" when it
    did not say). Call inside transaction.atomic() with the writes."""
    submission_id = form.cleaned_data["submission_id"]
    existing = FormSubmission.objects.filter(submission_id=submission_id).first()
    if existing is not None:
        return existing.redirect_to
    try:
        with transaction.atomic():
            FormSubmission.objects.create(submission_id=submission_id, user=user, form=name)
    except IntegrityError:
        # Two requests raced: the other one holds the claim.
        return ""
    return None


def earlier(data: Mapping[str, Any]) -> str | None:
    """Where an already-claimed submission went ("" when it did not say), from the raw POST data;
    None when this submission id is new or absent.

    For forms whose validation would fail on a repeat because the first one succeeded (a unique
    email): asked before validating, a double click gets the first one's redirect instead of "a user
    with this email already exists"."""
    try:
        submission_id = uuid.UUID(str(data.get("submission_id", "")))
    except ValueError:
        return None
    found = FormSubmission.objects.filter(submission_id=submission_id).first()
    return None if found is None else found.redirect_to


def remember(form: forms.Form, redirect_to: str) -> None:
    """Record where the first submission went, for its repeats."""
    FormSubmission.objects.filter(submission_id=form.cleaned_data["submission_id"]).update(
        redirect_to=redirect_to[:300]
    )
