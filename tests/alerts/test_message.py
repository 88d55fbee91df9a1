"""Alert texts as messages (alliance.alerts.message): the English stored on an alert is the message
rendered with identity functions, the JSON form round-trips, and every message id the rules use is
in the Spanish catalog (docs/translating.md, "Alert texts")."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.alerts import EpisodeSeries, evaluate_episode
from alliance.alerts.message import (
    MINUS,
    PLACEHOLDER,
    Msg,
    Num,
    from_json,
    msg,
    number,
    ordinal,
    plural,
    render,
    sessions,
    signed,
    to_json,
)
from alliance.alerts.openings import Signals, openings
from alliance.alerts.settings import AlertSettings
from tests.alerts.strategies import episode_series

ALERTS = Path(__file__).resolve().parents[2] / "alliance" / "alerts"
CATALOG = ALERTS.parent / "locale" / "es" / "LC_MESSAGES" / "django.po"
FIELDS = ("title", "explanation", "suggestion")


@settings(max_examples=300, deadline=None)
@given(episode_series(max_sessions=12))
def test_the_stored_english_is_the_message_rendered_with_identity_functions(
    series: EpisodeSeries,
) -> None:
    for finding in evaluate_episode(series):
        texts = finding.evidence["text"]
        assert isinstance(texts, dict) and set(texts) == set(FIELDS)
        for field in FIELDS:
            message = from_json(texts[field])
            assert render(message) == getattr(finding, field)
            # JSON all the way: what the database gives back reads back the same.
            assert to_json(message) == texts[field]


_SPANISH = {
    "{items} and {last}": "{items} y {last}",
    "session {numbers}": "la sesión {numbers}",
    "sessions {numbers}": "las sesiones {numbers}",
}


def _spanish_gettext(text: str) -> str:
    return _SPANISH.get(text, text)


@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=5),
    st.floats(-50, 50, allow_nan=False),
    st.integers(0, 2),
)
def test_render_fills_every_placeholder_and_writes_numbers_the_readers_way(
    numbers: list[int], value: float, digits: int
) -> None:
    message = msg(
        "At {sessions} the score moved {change} to {level}.",
        sessions=sessions(numbers),
        change=signed(value, digits),
        level=number(value, digits),
    )
    english = render(message)
    assert not PLACEHOLDER.search(english)
    plain = f"{abs(value):.{digits}f}"
    if value < 0 and float(plain) != 0:
        assert f"{MINUS}{plain} to {MINUS}{plain}." in english
    spanish = render(
        message,
        gettext=_spanish_gettext,
        ngettext=lambda s, p, n: _spanish_gettext(s if n == 1 else p),
        number=lambda v, d: f"{v:.{d}f}".replace(".", ","),
    )
    assert not PLACEHOLDER.search(spanish)
    assert (" y " in spanish) == (len(numbers) > 1)
    assert "." not in spanish.removesuffix(".")  # every decimal point became a comma


def _shown(value: Num) -> str:
    return render(Msg("{x}", {"x": value}))


def test_worked_examples_match_the_old_english_helpers() -> None:
    assert render(sessions([4])) == "session 4"
    assert render(sessions([3, 4, 6])) == "sessions 3, 4 and 6"
    assert _shown(signed(3.5)) == "+3.5"
    assert _shown(signed(-3.5)) == f"{MINUS}3.5"
    assert _shown(signed(-0.01)) == "0.0"  # never a negative zero
    assert _shown(number(8.456, 2)) == "8.46"
    assert render(Msg("{x}", {"x": Num(0.0, 1, sign=True)})) == "0.0"
    assert [render(ordinal(v)) for v in (82, 97.5, 11, 23, 1, 90)] == [
        "82nd",
        "97.5th",
        "11th",
        "23rd",
        "1st",
        "90th",
    ]
    pair = ("It counts within {n} session.", "It counts within {n} sessions.")
    assert render(plural(pair, 1, n=1)) == "It counts within 1 session."
    assert render(plural(pair, 3, n=3)) == "It counts within 3 sessions."


def test_malformed_json_is_refused_not_guessed() -> None:
    bad_forms: list[object] = [
        {"params": {}},
        {"id": 3},
        {"id": "x", "params": {"a": {"num": "8"}}},
        "text",
    ]
    for bad in bad_forms:
        try:
            from_json(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def _marked_ids() -> set[str | tuple[str, str]]:
    """Every N_("...") and NP_("...", "...") in alliance/alerts, read from the source."""
    found: set[str | tuple[str, str]] = set()
    for path in ALERTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            args = [str(a.value) for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "N_":
                found.add(args[0])
            elif node.func.id == "NP_":
                found.add((args[0], args[1]))
    return found


def test_every_message_id_of_the_rules_is_translated_in_the_spanish_catalog() -> None:
    marked = _marked_ids()
    assert len(marked) > 150  # the walk found the rules' messages
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated: set[str | tuple[str, str]] = set()
    for message in catalog:
        if message.fuzzy or not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            if isinstance(message.id, tuple | list):
                translated.add((str(message.id[0]), str(message.id[1])))
            else:
                translated.add(str(message.id))
    missing = sorted(map(str, marked - translated))
    assert not missing, f"{len(missing)} alert messages not translated: {missing[:10]}"


def test_openings_and_settings_help_are_marked_message_ids() -> None:
    marked = _marked_ids()
    everything = Signals(
        fallen=frozenset({"bond", "goals", "tasks"}), concern=True, missed=True, risk=True
    )
    for opening in (*openings(everything), *openings(Signals())):
        assert opening.text in marked
        assert all(part in marked for part in opening.source.split("; "))
    for info in AlertSettings.field_info():
        assert info.help in marked
