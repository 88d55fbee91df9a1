from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "alliance.care"
    label = "care"
    verbose_name = "Care"

    def ready(self) -> None:
        from alliance.care import signals  # noqa: F401  (connects the audit trail)
