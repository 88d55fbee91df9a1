"""`{{ text|contact_links }}`: free text as paragraphs with web, email and phone links (tap to call).

Replaces `linebreaks|urlize` wherever a client may need to call someone (alliance.core.phones)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from alliance.core.phones import link_contacts

register = template.Library()


@register.filter(is_safe=True)
def contact_links(text: str | None) -> SafeString:
    return link_contacts(text or "")
