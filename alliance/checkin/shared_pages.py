"""A check-in page rendered once per state and language, the client's token put in afterwards.

Why (issue 10, point 6, the landing page at 40% of a bare Django view): the landing page is the same
for every client whose link is in the same state (which forms are done, whether the after-session
part is open and when it opens, the language). Only the token differs, in its links. Rendering the
template was about a third of the page's CPU; here it is rendered with a placeholder in place of the
token, remembered per state, and the token is put in with one string replacement.

What keeps this exact:
- the key is every value of the page's context (with the placeholder for the token), the template,
  the language and the path; only the page's copy is left out, which the language decides; a value
  that cannot be part of a key (not hashable) means the page is rendered as usual;
- only a token made of URL-safe characters is put in (every token Alliance makes is; a page for any
  other text is rendered as usual), so the replacement needs no escaping and cannot change the
  page's markup;
- the page is rendered without the request, so no context processor adds a value of this
  request's own (user, CSRF token, messages); a page that still holds the real token after
  rendering with the placeholder took it from somewhere the key cannot see, and is not remembered;
  tests/checkin/test_shared_pages.py renders both ways and compares.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

PLACEHOLDER = "~~checkin-token~~"
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
# States are few (forms done, the after-session part's opening time, the language): this many
# pages are a few megabytes at most.
MAX_PAGES = 512

_pages: OrderedDict[Hashable, str] = OrderedDict()
_lock = threading.Lock()


def _without_token(value: Any, token: str) -> Hashable:
    """`value` with the placeholder wherever the token was, as something that can be a key."""
    if isinstance(value, str):
        return value.replace(token, PLACEHOLDER)
    if isinstance(value, list | tuple):
        return tuple(_without_token(item, token) for item in value)
    hash(value)  # raises TypeError for a value that cannot be part of a key
    return value


def render(
    request: HttpRequest,
    template: str,
    lang: str,
    context: Mapping[str, Any],
    token: str,
    *,
    per_language: Mapping[str, Any],
) -> str | None:
    """The page's HTML for this token, or None when it must be rendered as usual. `context` is the
    page's context with the token in it (in strings, lists and tuples); `per_language` holds values
    that only the language decides (the page's copy), which are left out of the key. The caller
    renders in `lang` (translation.override)."""
    if not _SAFE_TOKEN.fullmatch(token):
        return None
    try:
        keyed = {name: _without_token(value, token) for name, value in context.items()}
    except TypeError:
        return None
    path = request.path.replace(token, PLACEHOLDER)
    key = (template, lang, path, tuple(sorted(keyed.items())))
    with _lock:
        html = _pages.get(key)
        if html is not None:
            _pages.move_to_end(key)
    if html is None:
        # Without the request: no context processor can add anything of this request's own (a
        # signed-in staff member's name on a shared computer, a CSRF token) to a shared page.
        html = render_to_string(template, {**per_language, **keyed})
        if token in html:
            # Something the key does not hold reached the page with the token in it: the page is
            # not the same for every link in this state, so it is never remembered.
            return None
        with _lock:
            _pages[key] = html
            while len(_pages) > MAX_PAGES:
                _pages.popitem(last=False)
    return html.replace(PLACEHOLDER, token)


def forget() -> None:
    """Drop every remembered page (tests; a change of templates needs a restart anyway)."""
    with _lock:
        _pages.clear()
