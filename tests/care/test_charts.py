"""The episode charts: what they mark, what the client's version leaves out, the page they load into."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from alliance.alerts import AlertSettings, default_norms
from alliance.care import charts
from tests import factories
from tests.care.ending_data import history

MODELS = charts.trajectories(AlertSettings(), default_norms(AlertSettings()))


@pytest.mark.django_db
def test_load_reads_scores_dimensions_goals_missed_sessions_and_alerts() -> None:
    h = history()
    data = charts.load([h.episode.pk])[h.episode.pk]
    assert data.outcomes["phq9"][0] == (1, 18.0)
    assert data.outcomes["phq9"][-1] == (5, 9.0)
    assert 3 not in dict(data.outcomes["phq9"])  # the no-show has no score
    assert data.checkin["overall"][0] == (1, 8.0)
    assert data.therapist["bond"][0] == (1, 9.0)
    assert data.goals[1] == ((1, 2.0), (5, 7.0))
    assert data.missed == ((3, "no_show"),)
    assert data.raised == ((2, "rupture"),)
    assert data.repaired == (4,)  # recorded after session 4
    assert data.last_session == 6


@pytest.mark.django_db
def test_staff_charts_show_band_cutoff_reliable_change_and_markers() -> None:
    h = history()
    data = charts.load([h.episode.pk])[h.episode.pk]
    made = {c.key: c for c in charts.episode_charts(data, MODELS)}
    assert list(made) == ["phq9", "gad7", "relationship", "goals"]
    phq9 = made["phq9"]
    assert "cut-off 10" in phq9.summary
    assert "expected at session 5" in phq9.summary
    assert "reliable improvement at 2 sessions, first at session 4" in phq9.summary  # 18 → 11
    assert "1 missed session;" in phq9.summary  # one, not "1 missed sessions" (ngettext)
    assert "1 alert raised, 1 repaired" in phq9.summary
    assert phq9.table[0][:3] == ["Session", "PHQ-9", "Expected range"]
    assert phq9.table[-1][-1] == "Reliable improvement"
    relationship = made["relationship"]
    assert relationship.table[1][1] == "8 / 9" or relationship.table[1][4] == "8 / 9"
    for chart in made.values():
        svg = str(chart.svg)
        assert svg.startswith("<svg ") and "style=" not in svg and "<script" not in svg
        assert f'aria-label="{chart.summary}"' in svg


@pytest.mark.django_db
def test_client_charts_leave_out_the_relationship_band_and_alerts() -> None:
    h = history(lang="es")
    data = charts.load([h.episode.pk])[h.episode.pk]
    made = charts.episode_charts(data, MODELS, audience="client", lang="es")
    assert [c.key for c in made] == ["phq9", "gad7", "goals"]
    for chart in made:
        assert "Expected" not in chart.summary and "alert" not in chart.summary.lower()
        assert len(chart.table[0]) <= 3
    assert made[0].title.startswith("Ánimo (PHQ-9)")
    assert "sesión 1" in made[0].summary


scores = st.lists(st.integers(0, 27).map(float), min_size=1, max_size=20)


@given(scores, st.integers(1, 10).map(float))
def test_reliable_change_marks_exactly_the_changes_of_at_least_the_threshold(
    values: list[float], threshold: float
) -> None:
    points = tuple((n, v) for n, v in enumerate(values, start=1))
    marked = charts.reliable_changes(points, threshold)
    intake = values[0]
    for n, v in points[1:]:
        if abs(v - intake) >= threshold:
            assert marked[n] == (1 if v > intake else -1)
        else:
            assert n not in marked
    assert 1 not in marked


@given(st.lists(st.integers(0, 27).map(float), min_size=1, max_size=12))
def test_band_follows_the_model_for_the_intake(values: list[float]) -> None:
    points = tuple((n, v) for n, v in enumerate(values, start=1))
    band = charts.band_for(MODELS["phq9"], points, len(values))
    assert band is not None
    expected = MODELS["phq9"].expected(list(band.sessions), values[0])
    assert band.expected == pytest.approx([round(float(v), 2) for v in expected])
    assert all(r >= y for y, r in zip(band.yellow, band.red, strict=True))


@pytest.mark.django_db
def test_client_page_loads_the_charts_and_the_fragment_is_csp_safe() -> None:
    h = history()
    http = HttpClient()
    http.force_login(h.episode.therapist)
    page = http.get(reverse("client_detail", args=[h.episode.client.code])).content.decode()
    url = reverse("episode_charts", args=[h.episode.pk])
    assert f'hx-get="{url}"' in page and f'href="{url}"' in page  # works without JS too
    fragment = http.get(url, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert (
        fragment["Cache-Control"].startswith("max-age=0") or "no-store" in fragment["Cache-Control"]
    )
    assert body.count("<svg ") == 4
    assert "style=" not in body and "<style" not in body
    assert "<html" not in body
    assert "<html" in http.get(url).content.decode()


@pytest.mark.django_db
def test_colleague_cannot_read_the_charts() -> None:
    h = history()
    http = HttpClient()
    http.force_login(factories.UserFactory.create())
    assert http.get(reverse("episode_charts", args=[h.episode.pk])).status_code == 404


@pytest.mark.django_db
def test_chart_queries_do_not_grow_with_sessions() -> None:
    small, large = history(sessions=3), history(sessions=12)
    counts = []
    for h in (small, large):
        http = HttpClient()
        http.force_login(h.episode.therapist)
        http.get(reverse("episode_charts", args=[h.episode.pk]))  # creates the settings row
        with CaptureQueriesContext(connection) as queries:
            assert http.get(reverse("episode_charts", args=[h.episode.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
