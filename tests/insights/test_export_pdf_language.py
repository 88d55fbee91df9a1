"""The Insights PDF's fixed words are in the reader's language, and so are the analytics' sentences
it prints (the report JSON keeps its English)."""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation

from alliance.analytics import model, psychometrics
from alliance.analytics.phrases import say
from alliance.insights.export_pdf import report_document

ENGLISH = re.compile(r"\b(the|and|with|interval|report|outcomes?|therapists?|alert|kind)\b", re.I)

REPORT: dict[str, Any] = {
    "period": {"start": "2026-01-01", "end": "2026-06-30"},
    "as_of": "2026-07-01",
    "ids": "",
    "outcomes": {"status": "not_available", "reason": model.NOT_CONVERGED},
    "model": {
        "fixed_effects": {"a_within": {"estimate": -0.8, "se": 0.2, "low": -1.2, "high": -0.4}},
        "sentences": [say(model.TIME, outcome="PHQ-9", shift=model.describe_shift(-1, -2, -0.5))],
    },
    "therapists": {"therapists": [], "sentences": []},
    "psychometrics": {"validation_status": psychometrics.NOT_VALIDATED},
    "alert_quality": {"kinds": [], "all_kinds": {}},
}


def test_fixed_words_and_sentences_are_spanish_for_a_spanish_reader() -> None:
    with translation.override("es"):
        data = report_document(REPORT, scope="Todo el centro", identified=False)
    words = [
        data["title"],
        data["subtitle"],
        *data["t"].values(),
        *data["rates"][0],
        *data["model"][0],
        data["model"][1][0],
        *data["alerts"][0],
        data["outcomes_note"],
        data["psychometrics_status"],
        *data["model_sentences"],
    ]
    assert not ENGLISH.findall(" ".join(words)), words
    assert data["title"] == "Informe de análisis" and data["lang"] == "es"
    assert data["model"][1][1] == "-0,800"  # numbers the Spanish way
    assert data["model_sentences"][0].startswith("Con el tiempo, cada vez que se duplica")
    assert data["psychometrics_status"] == "aún no validada"


def test_an_english_reader_gets_the_report_as_written() -> None:
    with translation.override("en"):
        data = report_document(REPORT, scope="The whole clinic", identified=False)
    assert data["model_sentences"] == REPORT["model"]["sentences"]
    assert data["t"]["outcomes"] == "Outcomes" and data["model"][1][1] == "-0.800"
