"""Forms of the clinic's concern pages (supervisors and administrators)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.checkin.models import ConcernStatus
from alliance.core.once import OnceFormMixin


class ConcernStatusForm(OnceFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ConcernStatus.choices)
