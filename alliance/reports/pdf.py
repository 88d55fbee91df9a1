"""PDF through Typst's Python binding: a wheel with the compiler inside, so a fresh machine with only
python3 can render PDFs (WeasyPrint would need the system's Pango).

Data reaches a document as JSON in `sys.inputs.data`, never pasted into Typst markup, so a client's
words cannot inject markup (a `#` or `*` in a goal prints as itself). Each document is a `.typ` file in
`typst/` that starts with `#import "base.typ": *`, reads `data` and uses `#show: alliance-doc.with(title: ...)`. Charts go in as SVG strings
(`#image(bytes(data.chart), format: "svg")`), the same SVG the pages show.

Fonts: DejaVu Sans, from matplotlib's package data (the charts use it too), so documents look the same
on every machine and no system font is consulted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
import typst
from django.http import HttpResponse
from django.utils.http import content_disposition_header

TEMPLATES = Path(__file__).resolve().parent / "typst"
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


class UnknownDocument(ValueError):
    pass


def render_pdf(document: str, data: Mapping[str, Any], *, at: datetime | None = None) -> bytes:
    """Compile `typst/<document>.typ` with `data` (anything json.dumps takes; dates as ISO strings)."""
    source = TEMPLATES / f"{document}.typ"
    if not source.is_file() or source.parent != TEMPLATES:
        raise UnknownDocument(document)
    pdf = typst.compile(
        str(source),
        root=str(TEMPLATES),
        font_paths=[str(FONTS)],
        ignore_system_fonts=True,
        sys_inputs={"data": json.dumps(data, default=str)},
        timestamp=int((at or datetime.now(UTC)).timestamp()),
    )
    assert isinstance(pdf, bytes)
    return pdf


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """A download that no cache keeps (these documents carry client data)."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
