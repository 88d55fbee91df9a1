"""The caseload's filter checkboxes, written without the widget templates, are what Django writes."""

from __future__ import annotations

from django import forms
from hypothesis import given
from hypothesis import strategies as st

from alliance.care.caseload_forms import CaseloadFilterForm
from alliance.care.templatetags.care_tables import filter_checkbox

# What a query string may hold for a checkbox: the browser's "on", other truthy and falsy spellings
# (CheckboxInput reads "false" and "0" as unchecked), nonsense, and nothing at all.
VALUES = st.sampled_from(["on", "1", "true", "false", "0", "", "x", "<b>"])
DATA = st.dictionaries(st.sampled_from(["alerts", "quiet", "ending", "status"]), VALUES)


@given(DATA)
def test_each_filter_checkbox_matches_djangos_own_widget(data: dict[str, str]) -> None:
    form = CaseloadFilterForm(data)
    for name in ("alerts", "quiet", "ending"):
        assert filter_checkbox(form[name]) == str(form[name])


def test_a_checked_filter_says_so_and_points_at_its_help() -> None:
    form = CaseloadFilterForm({"quiet": "on"})
    html = filter_checkbox(form["quiet"])
    assert " checked" in html and 'aria-describedby="id_quiet_helptext"' in html
    assert " checked" not in filter_checkbox(form["alerts"])


class _Other(forms.Form):
    flag = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"class": "x"}))
    word = forms.CharField(required=False)


def test_other_widgets_are_left_to_django() -> None:
    form = _Other({"flag": "on", "word": "a"})
    assert filter_checkbox(form["flag"]) == str(form["flag"]) and 'class="x"' in str(form["flag"])
    assert filter_checkbox(form["word"]) == str(form["word"])
