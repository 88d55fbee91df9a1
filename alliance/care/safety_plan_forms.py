"""The safety plan form: six sections in the client's words and whether the client sees it on their phone."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from alliance.care import safety_plan
from alliance.care.models import SafetyPlan
from alliance.core import once

# Generous for a few lines per section, and a bound on what one form can store.
SECTION_MAX_LENGTH = 4000


class SafetyPlanForm(once.OnceFormMixin, forms.ModelForm[SafetyPlan]):
    class Meta:
        model = SafetyPlan
        fields = (*safety_plan.FIELDS, "show_to_client")
        labels = {"show_to_client": _("Show this plan to the client on their phone")}
        help_texts = {
            "show_to_client": _(
                "On the crisis page of their check-in link, below the clinic's crisis lines. "
                "It is theirs: leave this on unless you agreed otherwise together."
            )
        }

    def __init__(self, *args: Any, lang: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The section titles and prompts in the client's language: the page is filled in together.
        for section in safety_plan.sections(lang):
            field = self.fields[section.field]
            field.label = section.title
            field.help_text = section.prompt
            field.max_length = SECTION_MAX_LENGTH  # type: ignore[attr-defined]
            field.validators.append(MaxLengthValidator(SECTION_MAX_LENGTH))
            field.widget = forms.Textarea(attrs={"rows": 4, "maxlength": SECTION_MAX_LENGTH})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(str(cleaned.get(f) or "").strip() for f in safety_plan.FIELDS):
            raise forms.ValidationError(
                _("Write at least one section. The plan can grow over the next sessions.")
            )
        return cleaned
