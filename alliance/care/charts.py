"""Small server-rendered SVG charts of an episode: symptoms and the relationship, session by session.

Inline SVG with presentation attributes only (no style attributes, no script), so the strict CSP holds
and nothing is fetched. The sessions table below each chart carries the same numbers for screen readers;
the chart has a text summary as its accessible name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 170
LEFT = 34
RIGHT = 12
TOP = 12
BOTTOM = 26


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    points: Sequence[tuple[int, float]]  # (session number, value)
    dashed: bool = False


@dataclass(frozen=True)
class Reference:
    label: str
    value: float


def _x(session: int, last: int) -> float:
    span = max(last - 1, 1)
    return LEFT + (session - 1) / span * (WIDTH - LEFT - RIGHT)


def _y(value: float, top: float) -> float:
    return TOP + (1 - value / top) * (HEIGHT - TOP - BOTTOM)


def line_chart(
    title: str,
    lines: Sequence[Line],
    *,
    top: float,
    sessions: int,
    references: Sequence[Reference] = (),
    summary: str = "",
) -> SafeString:
    """An SVG chart of values against session number, 0..`top` on the vertical axis."""
    last = max(sessions, 2)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(summary or title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, top / 2, top):
        y = _y(tick, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dadd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#50585e">{tick:g}</text>'
        )
    for reference in references:
        y = _y(reference.value, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#a3201b" '
            'stroke-width="1" stroke-dasharray="2 3"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{y - 3:.1f}" text-anchor="end" font-size="10" fill="#a3201b">'
            f"{escape(reference.label)}</text>"
        )
    step = max(1, last // 12)
    for session in range(1, last + 1, step):
        parts.append(
            f'<text x="{_x(session, last):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" '
            f'fill="#50585e">{session}</text>'
        )
    for line in lines:
        if not line.points:
            continue
        coords = " ".join(f"{_x(s, last):.1f},{_y(v, top):.1f}" for s, v in line.points)
        dash = ' stroke-dasharray="5 4"' if line.dashed else ""
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{line.colour}" stroke-width="2.5"{dash}/>'
        )
        for s, v in line.points:
            parts.append(
                f'<circle cx="{_x(s, last):.1f}" cy="{_y(v, top):.1f}" r="3" fill="{line.colour}">'
                f"<title>{escape(line.label)}, session {s}: {v:g}</title></circle>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated text is escaped above)


def legend(lines: Sequence[Line]) -> list[tuple[str, str, bool]]:
    return [(line.label, line.colour, line.dashed) for line in lines if line.points]
