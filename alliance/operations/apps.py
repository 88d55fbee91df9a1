from django.apps import AppConfig
from django.core import checks


class OperationsConfig(AppConfig):
    """Running Alliance for real: the email outbox, process heartbeats, health, checks, backups."""

    name = "alliance.operations"
    label = "operations"
    verbose_name = "Alliance operations"

    def ready(self) -> None:
        from alliance.operations.checks import deployment_check

        # deploy=True: only `alliance check` (and `check --deploy`) run it, so migrate, the test
        # suite and every other command never wait on it or fail because of it.
        checks.register(deployment_check, "alliance", deploy=True)

        from django.core.signals import request_started

        # Started on a request, not at import: gunicorn forks its workers after importing the app,
        # and a thread started before the fork would not survive into them.
        request_started.connect(_start_standin, dispatch_uid="operations.standin")


def _start_standin(**_kwargs: object) -> None:
    from alliance.operations.standin import ensure_started

    ensure_started()
