"""Garbage-collector settings for the web process.

A page that lists two years of sessions allocates tens of thousands of short-lived objects, and with
CPython's default thresholds the resulting full collections (which walk every object Django and the app
have loaded) were the slow tail of the client page: benchmarks/pages.py measured p95 ~220 ms with the
defaults and ~140 ms after this. Freezing moves everything loaded at start-up out of the collector's
way; a higher first threshold makes collections rarer without letting memory grow unchecked (reference
counting still frees almost everything at once).

The URLconf is loaded first, so that every view module (and what they import) is frozen with the
rest: Django loads it at the first request, after this ran, and the ~200,000 objects it brought were
then walked by every second-generation collection (about 17 ms each on this 2-core machine) and
every full one (100+ ms, the caseload's slow tail). Measured in one process over 1,500 check-in
landing requests: 0.23 ms of collection per request before, 0.05 ms after (issue 10, point 6).
"""

from __future__ import annotations

import gc

FIRST_GENERATION_THRESHOLD = 50_000


def tune_for_web() -> None:
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018  (imports every view module)
    resolver.reverse_dict  # noqa: B018  (and builds the reverse lookup every page uses)
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, second, third)
