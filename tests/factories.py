"""factory_boy factories for the domain model. Responses are built directly here (without scoring)
only where a test needs a particular stored score; tests of scoring go through record_response."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from alliance.accounts.models import Role, Supervision, User
from alliance.alerts.message import Msg, msg, number, render, to_json
from alliance.care import models as care


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@clinic.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.THERAPIST
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class SupervisionFactory(factory.django.DjangoModelFactory[Supervision]):
    class Meta:
        model = Supervision

    supervisor = factory.SubFactory(UserFactory, role=Role.SUPERVISOR)
    therapist = factory.SubFactory(UserFactory)


class ClientFactory(factory.django.DjangoModelFactory[care.Client]):
    class Meta:
        model = care.Client

    code = factory.Sequence(lambda n: f"C-T{n:04d}")
    name = factory.Faker("name")
    email = factory.Faker("email")
    phone = "+1 555 0100"
    preferred_language = "en"


class EpisodeFactory(factory.django.DjangoModelFactory[care.Episode]):
    class Meta:
        model = care.Episode

    client = factory.SubFactory(ClientFactory)
    therapist = factory.SubFactory(UserFactory)
    started_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))


class AppointmentFactory(factory.django.DjangoModelFactory[care.Appointment]):
    class Meta:
        model = care.Appointment

    episode = factory.SubFactory(EpisodeFactory)
    session_number = factory.Sequence(lambda n: n + 1)
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=7))
    attendance = care.Attendance.ATTENDED


class GoalFactory(factory.django.DjangoModelFactory[care.Goal]):
    class Meta:
        model = care.Goal

    episode = factory.SubFactory(EpisodeFactory)
    number = 1
    description = "Sleep through the night more often"


class ResponseFactory(factory.django.DjangoModelFactory[care.Response]):
    class Meta:
        model = care.Response

    episode = factory.SubFactory(EpisodeFactory)
    appointment = None
    instrument = "phq9"
    instrument_version = "test"
    respondent = care.Respondent.CLIENT
    answers = factory.LazyFunction(dict)
    total = 12.0
    source = care.ResponseSource.DEMO


class ReflectionFactory(factory.django.DjangoModelFactory[care.Reflection]):
    class Meta:
        model = care.Reflection

    episode = factory.SubFactory(EpisodeFactory)
    therapist = factory.SelfAttribute("episode.therapist")
    text = "I noticed I wanted to rescue her when she went quiet."
    shared_with_supervisor = False


# The factory alert's texts: message ids the rupture rule uses (alliance/alerts/rupture.py), so they
# are in the catalogs.
ALERT_TITLE = Msg("Possible rupture: the check-in fell")
ALERT_EXPLANATION = (
    msg(
        "Now below the floor of {floor}: {measures}.",
        floor=number(5.0),
        measures=[
            msg(
                "{measure} {current} (was {previous})",
                measure=Msg("total"),
                current=number(4.5),
                previous=number(8.5),
            )
        ],
    ),
)


class AlertFactory(factory.django.DjangoModelFactory[care.Alert]):
    class Meta:
        model = care.Alert

    episode = factory.SubFactory(EpisodeFactory)
    key = factory.Sequence(lambda n: f"test:{n}")
    kind = care.AlertKind.RUPTURE
    severity = care.AlertSeverity.YELLOW
    title = render(ALERT_TITLE)
    explanation = render(ALERT_EXPLANATION)
    # The texts as messages too, as the rules store them, so that a page in Spanish shows them in
    # Spanish (alliance.care.alert_text); a test that sets its own title or explanation gets its
    # stored text shown as written, as an alert stored before messages existed would.
    evidence = factory.LazyAttribute(
        lambda alert: {
            "text": {
                name: to_json(message)
                for name, message in (("title", ALERT_TITLE), ("explanation", ALERT_EXPLANATION))
                if getattr(alert, name) == render(message)
            }
        }
    )
