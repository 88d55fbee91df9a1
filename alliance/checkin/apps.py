from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "alliance.checkin"
    label = "checkin"
    verbose_name = "Client check-in"

    def ready(self) -> None:
        from alliance.care.signals import register
        from alliance.checkin.models import CheckinLink, Concern

        register(CheckinLink)
        register(Concern)
