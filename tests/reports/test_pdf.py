from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from alliance.reports.pdf import UnknownDocument, pdf_response, render_pdf


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_data_is_printed_as_text_never_as_markup() -> None:
    hostile = "#panic() *bold* $x$ <label> [link] _under_ José"
    pdf = render_pdf(
        "example", {"title": "Summary", "body": hostile, "rows": [["a", "b"], ["14", "9"]]}
    )
    text = _text(pdf)
    assert pdf.startswith(b"%PDF")
    assert "#panic() *bold* $x$ <label> [link] _under_ José" in text
    assert "14" in text


def test_svg_chart_is_embedded() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<rect width="10" height="10" fill="#0b5f73"/></svg>'
    )
    pdf = render_pdf("example", {"title": "T", "body": "", "rows": [], "chart": svg})
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_unknown_document_is_refused() -> None:
    with pytest.raises(UnknownDocument):
        render_pdf("../pdf", {})


def test_response_is_a_download_that_is_not_cached() -> None:
    response = pdf_response(b"%PDF-1.7", "C-AB12 summary.pdf")
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
