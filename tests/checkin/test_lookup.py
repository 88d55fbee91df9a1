"""The check-in's one-statement link lookup (alliance.checkin.lookup) gives what the ORM would: the same
values, aware datetimes, decoded JSON, and deferred fields that load when touched, never empty ones."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.care.models import Appointment, Respondent
from alliance.checkin import lookup, tokens
from alliance.checkin.models import CheckinLink
from tests import factories
from tests.checkin.conftest import Visit


def test_the_link_and_its_appointment_episode_and_client_match_the_orm(visit: Visit) -> None:
    found = lookup.find(tokens.digest(visit.token))
    assert found is not None
    link = found.link
    expected = CheckinLink.objects.select_related("appointment__episode__client").get(pk=link.pk)
    assert link.expires_at == expected.expires_at and timezone.is_aware(link.expires_at)
    appointment, episode = link.appointment, link.appointment.episode
    assert appointment.scheduled_at == expected.appointment.scheduled_at
    assert appointment.duration_minutes == expected.appointment.duration_minutes
    assert appointment.is_final is expected.appointment.is_final
    assert episode.outcome_instruments == expected.appointment.episode.outcome_instruments
    assert (
        episode.client.preferred_language == expected.appointment.episode.client.preferred_language
    )
    assert found.goal_count == expected.appointment.episode.goals.count()
    assert found.answered == frozenset()


def test_fields_not_read_are_loaded_when_touched(visit: Visit) -> None:
    found = lookup.find(tokens.digest(visit.token))
    assert found is not None
    with CaptureQueriesContext(connection) as queries:
        name = found.link.appointment.episode.client.name
        created = found.link.created_at
    assert name == "Rosalind Pemberton-Vane"  # decrypted, as the ORM would
    assert created == CheckinLink.objects.get(pk=found.link.pk).created_at
    assert len(queries) == 2


def test_the_answered_forms_are_the_clients_for_this_appointment(visit: Visit) -> None:
    appointment: Appointment = visit.appointment
    for instrument in ("phq9", "gad7"):
        factories.ResponseFactory.create(
            episode=appointment.episode, appointment=appointment, instrument=instrument
        )
    factories.ResponseFactory.create(
        episode=appointment.episode,
        appointment=appointment,
        instrument="checkin-therapist",
        respondent=Respondent.THERAPIST,
    )
    found = lookup.find(tokens.digest(visit.token))
    assert found is not None and found.answered == frozenset({"phq9", "gad7"})


def test_an_unknown_digest_finds_nothing(db: None) -> None:
    assert lookup.find(tokens.digest("x" * 43)) is None


def _plain(instance: object) -> dict[str, object]:
    return {k: v for k, v in vars(instance).items() if k != "_state"}


def test_each_instance_is_what_from_db_builds(visit: Visit) -> None:
    # The lookup builds its instances directly (lookup._instance says why); from_db is the reference.
    found = lookup.find(tokens.digest(visit.token))
    assert found is not None
    built = [
        found.link,
        found.link.appointment,
        found.link.appointment.episode,
        found.link.appointment.episode.client,
    ]
    for instance, (model, names) in zip(built, lookup.PARTS, strict=True):
        attnames = lookup._attnames(model, names)
        reference = model.from_db("default", attnames, [getattr(instance, a) for a in attnames])
        assert type(instance) is model
        assert _plain(instance) == _plain(reference)
        assert instance.get_deferred_fields() == reference.get_deferred_fields() != set()
        assert (instance._state.adding, instance._state.db) == (False, "default")
    # The related objects are cached, as select_related leaves them: touching them asks nothing.
    with CaptureQueriesContext(connection) as queries:
        assert found.link.appointment.episode.client.pk == visit.appointment.episode.client_id
    assert len(queries) == 0


def test_a_saved_instance_updates_its_row_only(visit: Visit) -> None:
    found = lookup.find(tokens.digest(visit.token))
    assert found is not None
    link = found.link
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    assert CheckinLink.objects.get(pk=link.pk).revoked_at == link.revoked_at
    assert CheckinLink.objects.count() == 1


def test_a_model_with_init_listeners_is_built_by_from_db(visit: Visit) -> None:
    # Something listening for a model's init signals (a library's field tracker, say) is heard.
    from django.db.models.signals import post_init

    heard: list[object] = []

    def listen(sender: type, instance: object, **_kwargs: object) -> None:
        heard.append(instance)

    post_init.connect(listen, sender=CheckinLink)
    try:
        found = lookup.find(tokens.digest(visit.token))
    finally:
        post_init.disconnect(listen, sender=CheckinLink)
    assert found is not None and heard == [found.link]
