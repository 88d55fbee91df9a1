"""Matplotlib figures as inline SVG that the strict Content-Security-Policy allows.

Matplotlib writes its SVG with `style="…"` attributes and a `<style>` element, which a CSP without
'unsafe-inline' blocks when the SVG is inline in a page. Every property it writes that way (fill,
stroke, stroke-width, opacity, …) is also an SVG presentation attribute, which CSP does not govern, so
`to_svg` rewrites the one form into the other. Text is drawn as paths (matplotlib's default), so a chart
looks the same in every browser and in the PDFs (Typst embeds the same SVG) with no font to load; the
accessible name is the summary given by the caller, and every page shows the numbers in a table too.

Each chart's ids get a prefix from its content, so several charts on one page never share an id.
Rendering takes ~20-60 ms a chart; `cached` keeps the results in the "charts" cache (files in the data
directory, shared by every worker process), keyed by the chart's data, so a page read again with
unchanged data does not draw again, whichever worker answers it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections.abc import Callable, Hashable

import matplotlib
from django.core.cache import caches
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from matplotlib.figure import Figure

matplotlib.rcParams.update(
    {
        "svg.hashsalt": "alliance",  # stable clip-path ids, so the same data gives the same SVG
        "svg.fonttype": "path",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": "#8a9399",
        "axes.labelcolor": "#1d2327",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": "#50585e",
        "ytick.color": "#50585e",
        "axes.grid": True,
        "grid.color": "#e3e7ea",
        "grid.linewidth": 0.8,
        "legend.frameon": False,
    }
)

# Colours that stay distinguishable for common colour-vision deficiencies (Okabe-Ito) and pass 3:1
# contrast on white; lines also differ by marker and dash, never by colour alone.
CLIENT = "#0b5f73"
THERAPIST = "#b35900"
SECOND = "#7a4fb0"
ALERT = "#a3201b"
MUTED = "#8a9399"
BAND = "#cfe6ec"

logger = logging.getLogger(__name__)

_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|xlink:href="#|href="#)([^)"]+)')
_DROP = re.compile(
    r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>|<style[^>]*>.*?</style>", re.S
)
_ROOT = re.compile(r"<svg\b[^>]*>")
_VIEWBOX = re.compile(r'viewBox="([^"]+)"')


def new_figure(width: float = 6.4, height: float = 2.4) -> Figure:
    """A figure (inches at 72 dpi); use the object API (`fig.add_subplot()`), never pyplot's state."""
    return Figure(figsize=(width, height), layout="constrained")


def _attributes(style: str) -> str:
    pairs = (part.split(":", 1) for part in style.split(";") if ":" in part)
    return "".join(f' {name.strip()}="{escape(value.strip())}"' for name, value in pairs)


def to_svg(figure: Figure, *, label: str, css_class: str = "chart") -> SafeString:
    """The figure as CSP-safe inline SVG with `label` as its accessible name."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    raw = _DROP.sub("", buffer.getvalue())
    prefix = "c" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:8] + "-"
    body = _STYLE_ATTR.sub(lambda m: _attributes(m.group(1)), raw)
    body = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', body)
    body = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", body)
    viewbox = _VIEWBOX.search(body)
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'class="{css_class}" viewBox="{viewbox.group(1) if viewbox else "0 0 460 170"}" '
        f'role="img" aria-label="{escape(label)}" stroke-linejoin="round" stroke-linecap="butt">'
        f"<title>{escape(label)}</title>"
    )
    return mark_safe(_ROOT.sub(root, body, count=1).strip())  # noqa: S308 - escaped above


_DRAWING = threading.Lock()


def cached(key: Hashable, draw: Callable[[], SafeString]) -> SafeString:
    """`draw()` once per `key` (which must include everything the chart shows), kept in the "charts"
    cache (settings.CACHES), which every worker process of the server shares."""
    digest = hashlib.sha256(repr(key).encode()).hexdigest()
    store = caches["charts"]
    found = store.get(digest)
    if isinstance(found, str):
        return mark_safe(found)  # noqa: S308 - stored from to_svg's escaped output below
    # matplotlib does not promise thread safety, and the server runs threads (gunicorn gthread): one
    # drawing at a time per process. Drawing is CPU-bound, so threads would not have overlapped anyway.
    with _DRAWING:
        svg = draw()
    try:
        store.set(digest, str(svg))
    except OSError:
        # A full disk must not cost the therapist the chart: it is drawn again next time.
        logger.warning("Chart cache not written (%s); serving the chart uncached", digest[:12])
    return svg
