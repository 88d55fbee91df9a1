from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running Alliance for real: the email outbox, process heartbeats, health, checks, backups."""

    name = "alliance.operations"
    label = "operations"
    verbose_name = "Alliance operations"
