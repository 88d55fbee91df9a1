"""The shipped instrument files: content, codes, translations, bands, visibility."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.measures import MissingContext, all_instruments, get_instrument
from alliance.measures.fhir import conformance_problems
from alliance.measures.registry import SHIPPED_DIR

from .conftest import SHIPPED

PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_ITEM_LOINC = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY_LOINC = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def test_exactly_the_expected_instruments_ship() -> None:
    assert sorted(i.id for i in all_instruments()) == sorted(SHIPPED)
    assert all(i.shipped for i in all_instruments())


@pytest.mark.parametrize("path", sorted(SHIPPED_DIR.glob("*.json")), ids=lambda p: p.name)
def test_shipped_files_are_valid_fhir_questionnaires(path: Path) -> None:
    assert conformance_problems(json.loads(path.read_text(encoding="utf-8"))) == []


def test_contract_link_ids() -> None:
    ids = {i.id: [item.link_id for item in i.items] for i in all_instruments()}
    assert ids["phq9"] == [str(n) for n in range(1, 11)]
    assert ids["gad7"] == [str(n) for n in range(1, 9)]
    assert ids["gbo"] == ["goal1", "goal2", "goal3"]
    assert ids["checkin"] == ["bond", "goals", "tasks", "overall", "better"]
    assert ids["checkin-therapist"] == ["bond", "goals", "tasks", "overall"]
    assert ids["ending"] == ["take", "know"]


def test_directions_and_respondents() -> None:
    expect = {
        "phq9": ("higher_is_worse", "client"),
        "gad7": ("higher_is_worse", "client"),
        "gbo": ("higher_is_better", "client"),
        "checkin": ("higher_is_better", "client"),
        "checkin-therapist": ("higher_is_better", "therapist"),
        "ending": (None, "client"),  # open questions only: no score, so no direction
    }
    for inst in all_instruments():
        assert (inst.direction, inst.respondent) == expect[inst.id]


def test_phq9_loinc_codes(phq9) -> None:
    assert phq9.loinc_panel == "44249-1"
    assert phq9.rules.total_code is not None and phq9.rules.total_code.code == "44261-6"
    assert [phq9.item(str(n)).loinc for n in range(1, 10)] == PHQ9_ITEM_LOINC
    for n in range(1, 10):
        assert [o.code for o in phq9.item(str(n)).options] == FREQUENCY_LOINC
        assert [o.value for o in phq9.item(str(n)).options] == [0, 1, 2, 3]


def test_gad7_loinc_codes(gad7) -> None:
    assert gad7.loinc_panel == "69737-5"
    assert gad7.rules.total_code is not None and gad7.rules.total_code.code == "70274-6"
    assert [gad7.item(str(n)).loinc for n in range(1, 8)] == GAD7_ITEM_LOINC
    assert gad7.item("8").loinc is None  # not confirmed, so left out


def test_lowest_option_reads_not_at_all(phq9, gad7) -> None:
    for inst in (phq9, gad7):
        assert inst.item("1").options[0].label("en") == "Not at all"
        assert inst.item("1").options[0].label("es") == "Ningún día"


def test_difficulty_items_are_never_scored(phq9, gad7) -> None:
    assert not phq9.item("10").scored and not phq9.item("10").required
    assert not gad7.item("8").scored
    assert "10" not in phq9.rules.items and "8" not in gad7.rules.items


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_every_text_has_every_declared_language(instrument_id: str) -> None:
    inst = get_instrument(instrument_id)
    for lang in inst.languages:
        assert inst.titles.has(lang)
        for item in inst.items:
            assert item.texts.has(lang), (item.link_id, lang)
            for option in item.options:
                assert option.labels.has(lang)
            if item.kind == "integer":
                assert item.anchor_low(lang) and item.anchor_high(lang)


def test_spanish_for_the_required_instruments() -> None:
    # GBO has no official Spanish wording; its Spanish is Alliance's own, like its English.
    for instrument_id in ("phq9", "gad7", "checkin", "checkin-therapist", "gbo"):
        assert "es" in get_instrument(instrument_id).languages
    phq9 = get_instrument("phq9")
    assert phq9.item("9").text("es") == (
        "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera"
    )
    assert (phq9.instructions("es") or "").startswith("Durante las últimas 2 semanas")


def test_checkins_are_labelled_not_validated() -> None:
    for instrument_id in ("checkin", "checkin-therapist"):
        inst = get_instrument(instrument_id)
        assert inst.validated is False
        assert inst.validation_note is not None
        for lang in ("en", "es"):
            assert "not been validated" in inst.validation_note.get("en")
            assert inst.validation_note.has(lang)
    assert get_instrument("checkin").item("better").text() == "What could have been better today?"
    assert get_instrument("checkin").item("better").kind == "text"


def test_client_and_therapist_checkins_share_dimensions() -> None:
    client, therapist = get_instrument("checkin"), get_instrument("checkin-therapist")
    assert client.rules.items == therapist.rules.items == ("bond", "goals", "tasks", "overall")
    for dim in client.rules.items:
        assert client.item(dim).text() != therapist.item(dim).text()
        assert (client.item(dim).min_value, client.item(dim).max_value) == (0, 10)


def test_nothing_calls_a_zero_on_item_9_safe(phq9) -> None:
    for path in SHIPPED_DIR.glob("*.json"):
        assert "safe" not in path.read_text(encoding="utf-8").lower(), path.name
    zero = phq9.score({str(n): 0 for n in range(1, 10)})
    assert "safe" not in json.dumps(zero.as_dict()).lower()
    assert zero.risk_flags == ()


BAND_EDGES = {
    "phq9": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
    "gad7": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
}


def _answers_for_total(n_items: int, total: int) -> dict[str, int]:
    answers = {}
    for n in range(1, n_items + 1):
        take = min(3, total)
        answers[str(n)] = take
        total -= take
    assert total == 0
    return answers


@pytest.mark.parametrize(
    ("instrument_id", "total", "band"),
    [(i, t, b) for i, edges in BAND_EDGES.items() for t, b in edges],
)
def test_band_edges(instrument_id: str, total: int, band: str) -> None:
    inst = get_instrument(instrument_id)
    result = inst.score(_answers_for_total(len(inst.rules.items), total))
    assert result.total == total
    assert result.band is not None and result.band.key == band


@pytest.mark.parametrize(
    ("instrument_id", "total", "clinical"),
    [("phq9", 9, False), ("phq9", 10, True), ("gad7", 7, False), ("gad7", 8, True)],
)
def test_cutoff_edges(instrument_id: str, total: int, clinical: bool) -> None:
    inst = get_instrument(instrument_id)
    result = inst.score(_answers_for_total(len(inst.rules.items), total))
    assert result.above_cutoff is clinical and result.clinical is clinical


@pytest.mark.parametrize("instrument_id", ["gbo", "checkin", "checkin-therapist"])
@pytest.mark.parametrize("value", [0, 10])
def test_zero_to_ten_edges(instrument_id: str, value: int) -> None:
    inst = get_instrument(instrument_id)
    result = inst.score({k: value for k in inst.rules.items})
    assert result.total == value
    assert result.band is None and result.above_cutoff is None
    assert all(v == value for v in result.subscales.values())


@given(st.lists(st.sampled_from([None, 0, 1, 2, 3]), min_size=9, max_size=9))
def test_phq9_item_10_shown_only_when_total_above_zero(values: list[int | None]) -> None:
    phq9 = get_instrument("phq9")
    answers = {str(n): v for n, v in enumerate(values, 1)}
    shown = "10" in {i.link_id for i in phq9.visible_items(answers)}
    assert shown == (sum(v for v in values if v) > 0)


def test_gad7_item_8_shown_only_when_total_above_zero(gad7) -> None:
    zeros = {str(n): 0 for n in range(1, 8)}
    assert "8" not in [i.link_id for i in gad7.visible_items(zeros)]
    assert "8" in [i.link_id for i in gad7.visible_items({**zeros, "7": 1})]


def test_gbo_templates_use_the_clients_own_goal() -> None:
    gbo = get_instrument("gbo")
    text = gbo.item("goal1").text(goal1="Go back to work")
    assert "“Go back to work”" in text
    with pytest.raises(MissingContext, match="goal2"):
        gbo.item("goal2").text()
    shown = gbo.visible_items({}, context={"goal1": "Sleep", "goal2": "  ", "goal3": "Walk"})
    assert [i.link_id for i in shown] == ["goal1", "goal3"]
    assert [i.link_id for i in gbo.visible_items({})] == ["goal1", "goal2", "goal3"]
    # Only the goals that exist are asked, so they are the only required ones.
    problems = gbo.validate_answers({"goal1": 5}, context={"goal1": "Sleep"})
    assert problems == {}


def test_gbo_total_is_mean_of_answered_goals() -> None:
    result = get_instrument("gbo").score({"goal1": 3, "goal2": 8})
    assert result.scorable and result.total == 5.5
    assert result.subscales == {"goal1": 3, "goal2": 8, "goal3": None}
    assert get_instrument("gbo").score({}).scorable is False
