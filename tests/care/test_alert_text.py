"""An alert's texts in the reader's language (alliance.care.alert_text; docs/translating.md, "Alert
texts"): rendered from the messages the rules store in evidence["text"], numbers the reader's way,
the stored English for old rows; the first recompute after the upgrade refreshes the stored alerts
once, quietly."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.alerts import EpisodeSeries, evaluate_episode
from alliance.alerts.message import PLACEHOLDER
from alliance.alerts.openings import Signals, openings
from alliance.alerts.reactions import REACTIONS, RecurringReaction
from alliance.alerts.settings import UNVERIFIED, AlertSettings
from alliance.care import alert_mail, alert_sync
from alliance.care.alert_text import opening_source, setting_source, shown
from alliance.care.models import Alert
from alliance.care.templatetags.alert_tags import prompt_text
from alliance.operations.models import OutboundEmail
from tests import factories
from tests.alerts.strategies import episode_series
from tests.care.test_alert_sync import RUPTURE_SERIES, _checkins

FIELDS = ("title", "explanation", "suggestion")
DECIMAL_POINT = re.compile(r"\d\.\d")


@settings(max_examples=200, deadline=None)
@given(episode_series(max_sessions=12), st.sampled_from(["es", "en"]))
def test_every_alert_text_reads_in_the_language_and_leaves_no_placeholder(
    series: EpisodeSeries, lang: str
) -> None:
    for finding in evaluate_episode(series):
        alert = Alert(
            title=finding.title,
            explanation=finding.explanation,
            suggestion=finding.suggestion,
            evidence=dict(finding.evidence),
        )
        with translation.override(lang):
            texts = {field: shown(alert, field) for field in FIELDS}  # type: ignore[arg-type]
        for field, text in texts.items():
            assert not PLACEHOLDER.search(text), (field, text)
            if lang == "en":
                assert text == getattr(finding, field)
            else:
                assert text != getattr(finding, field), (field, text)  # translated
                assert not DECIMAL_POINT.search(text), (field, text)  # 8,5, not 8.5


@pytest.mark.django_db
def test_a_rupture_in_spanish_with_its_numbers() -> None:
    alert = factories.AlertFactory.create()
    with translation.override("es"):
        assert shown(alert, "title") == "Posible ruptura: la valoración bajó"
        assert (
            shown(alert, "explanation")
            == "Ahora por debajo del mínimo de 5,0: total 4,5 (antes 8,5)."
        )
    with translation.override("en"):
        assert (
            shown(alert, "explanation")
            == alert.explanation
            == ("Now below the floor of 5.0: total 4.5 (was 8.5).")
        )


@pytest.mark.django_db
def test_an_alert_without_messages_shows_its_stored_text() -> None:
    old = factories.AlertFactory.create(title="Check-in fell", evidence={})
    broken = factories.AlertFactory.create(evidence={"text": {"title": {"params": {}}}})
    with translation.override("es"):
        assert shown(old, "title") == "Check-in fell"
        assert shown(broken, "title") == broken.title
        with pytest.raises(ValueError):
            shown(old, "evidence")  # type: ignore[arg-type]


def test_openings_and_setting_sources_in_spanish() -> None:
    everything = Signals(fallen=frozenset({"bond"}), concern=True, missed=True, risk=True)
    with translation.override("es"):
        for opening in (*openings(everything), *openings(Signals(not_on_track=True))):
            assert translation.gettext(opening.text) != opening.text
            assert opening_source(opening.source) != opening.source
        for info in AlertSettings.field_info():
            assert translation.gettext(info.help) != info.help, info.name
        source = UNVERIFIED + " (chosen on the main simulator, docs/alerts-evaluation.md)"
        assert setting_source(source) == (
            "valor predeterminado del proyecto, SIN VERIFICAR "
            "(elegido en el simulador principal, docs/alerts-evaluation.md)"
        )
        assert setting_source("not a known source") == "not a known source"


@pytest.mark.django_db
def test_the_first_recompute_after_the_upgrade_adds_the_messages_once_and_quietly() -> None:
    episode = factories.EpisodeFactory.create()
    _checkins(episode, RUPTURE_SERIES)
    alert_sync.sync([episode.pk])
    alert = Alert.objects.get(kind="rupture")
    alert_mail.notify_new_alerts()
    emails = OutboundEmail.objects.count()
    # An alert stored before messages existed: acknowledged, English only.
    now = timezone.now()
    Alert.objects.filter(pk=alert.pk).update(
        status="acknowledged",
        acknowledged_at=now,
        evidence={k: v for k, v in alert.evidence.items() if k != "text"},
    )
    refreshed = alert_sync.sync([episode.pk])
    assert (refreshed.created, refreshed.updated) == (0, 1)
    after = Alert.objects.get(pk=alert.pk)
    assert after.status == "acknowledged" and after.created_at == alert.created_at
    assert (after.title, after.explanation) == (alert.title, alert.explanation)
    assert after.evidence["text"] == alert.evidence["text"]
    alert_mail.notify_new_alerts()
    assert OutboundEmail.objects.count() == emails  # nothing sent for a refresh
    again = alert_sync.sync([episode.pk])
    assert (again.created, again.updated) == (0, 0)  # once only


def test_supervision_prompts_of_the_journal_in_spanish() -> None:
    for reaction in REACTIONS:
        for intensity in (1, 2, 3):
            found = RecurringReaction(reaction, 3, 5, intensity, 3)
            with translation.override("en"):
                assert prompt_text(found) == found.explanation
            with translation.override("es"):
                spanish = prompt_text(found)
            assert not PLACEHOLDER.search(spanish)
            assert "de tus últimas 5 reflexiones" in spanish and "supervisión" in spanish
            assert reaction.noun not in spanish, spanish
