from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache

from alliance.care.chart_svg import cached, new_figure, to_svg


def _chart(values: list[float]) -> str:
    figure = new_figure()
    axes = figure.add_subplot()
    axes.plot(range(1, len(values) + 1), values, marker="o")
    axes.fill_between([1, len(values)], [5, 5], [10, 10], alpha=0.3)
    axes.axhline(10, linestyle=":")
    return str(to_svg(figure, label='PHQ-9 from 18 to 7 & "better"'))


def test_svg_has_no_style_attribute_or_element_so_strict_csp_allows_it() -> None:
    svg = _chart([18, 15, 12, 9, 7])
    assert "style=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg
    assert 'fill="#ffffff"' in svg  # the properties survive as presentation attributes


def test_svg_is_labelled_and_escaped() -> None:
    svg = _chart([18, 7])
    assert svg.startswith("<svg ")
    assert 'role="img"' in svg
    assert 'aria-label="PHQ-9 from 18 to 7 &amp; &quot;better&quot;"' in svg


def test_ids_are_unique_between_charts_and_references_resolve() -> None:
    first, second = _chart([18, 15, 12]), _chart([3, 4, 9])
    ids_first = set(re.findall(r'id="([^"]+)"', first))
    ids_second = set(re.findall(r'id="([^"]+)"', second))
    assert ids_first and not ids_first & ids_second
    for reference in re.findall(r"url\(#([^)]+)\)", first):
        assert reference in ids_first


def test_same_data_gives_the_same_svg() -> None:
    assert _chart([18, 15, 12]) == _chart([18, 15, 12])


def test_cache_draws_once_per_key() -> None:
    calls: list[int] = []

    def draw() -> str:
        calls.append(1)
        return _chart([1, 2])

    key = ("test", 1, 2, uuid.uuid4().hex)
    first = cached(key, draw)  # type: ignore[arg-type]
    again = cached(key, draw)  # type: ignore[arg-type]
    assert first == again
    assert len(calls) == 1


def test_cache_is_shared_with_other_worker_processes() -> None:
    key = ("shared", uuid.uuid4().hex)
    svg = cached(key, lambda: to_svg(new_figure(), label="empty"))
    # Another worker process opens the same store afresh: it reads the drawing, it does not redraw.
    other = FileBasedCache(str(settings.DATA_DIR / "chart-cache"), {})
    assert other.get(hashlib.sha256(repr(key).encode()).hexdigest()) == str(svg)
    assert cached(key, lambda: pytest.fail("drew again")) == svg
