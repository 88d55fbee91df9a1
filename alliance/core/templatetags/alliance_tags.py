from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import reverse

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, Any], key: str) -> Any:
    """`{{ copy|get_item:name }}`: look up a key held in a variable."""
    return mapping.get(key, "") if mapping else ""


@register.simple_tag
def asset(path: str) -> str:
    """`{% asset 'alliance/app.css' %}`: `{% static %}` looked up once per process. The hashed names of
    the static files change only with a deployment, which restarts the processes; every page asks
    for the same few, and the manifest lookup was a noticeable part of the check-in page's time."""
    return _asset(path)


@lru_cache(maxsize=64)
def _asset(path: str) -> str:
    return static(path)


@register.simple_tag
def link(name: str) -> str:
    """`{% link 'caseload' %}`: the URL of a page that takes no arguments, reversed once per process
    (the navigation bar has a dozen on every staff page; a deployment has one script prefix)."""
    return _link(name)


@lru_cache(maxsize=128)
def _link(name: str) -> str:
    return reverse(name)


@receiver(setting_changed)
def _forget_assets(*, setting: str, **_: object) -> None:
    if setting in ("STATIC_URL", "STORAGES", "STATICFILES_STORAGE"):
        _asset.cache_clear()
    if setting == "ROOT_URLCONF":
        _link.cache_clear()
