"""The client pages' links are reversed once per process and filled in per request
(alliance.checkin.views.link_to): for every valid token and instrument they equal Django's reverse."""

from __future__ import annotations

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from alliance.checkin.tokens import TOKEN_PATTERN
from alliance.checkin.views import link_to

tokens = st.from_regex(TOKEN_PATTERN, fullmatch=True)
instruments = st.sampled_from(["phq9", "gad7", "gbo", "checkin", "ending", "my-clinic_measure2"])


@given(token=tokens, instrument=instruments)
def test_a_form_link_equals_reverse(token: str, instrument: str) -> None:
    assert link_to("checkin_answer", token, instrument) == reverse(
        "checkin_answer", args=[token, instrument]
    )


@given(token=tokens)
def test_the_page_links_equal_reverse(token: str) -> None:
    for name in ("checkin_landing", "checkin_support", "checkin_concern", "checkin_thanks"):
        assert link_to(name, token) == reverse(name, args=[token])
