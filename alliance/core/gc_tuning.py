"""Garbage-collector settings for the web process.

A page that lists two years of sessions allocates tens of thousands of short-lived objects, and with
CPython's default thresholds the resulting full collections (which walk every object Django and the app
have loaded) were the slow tail of the client page: benchmarks/pages.py measured p95 ~220 ms with the
defaults and ~140 ms after this. Freezing moves everything loaded at start-up out of the collector's
way; a higher first threshold makes collections rarer without letting memory grow unchecked (reference
counting still frees almost everything at once).
"""

from __future__ import annotations

import gc

FIRST_GENERATION_THRESHOLD = 50_000


def tune_for_web() -> None:
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, second, third)
