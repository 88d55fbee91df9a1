from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """What the clinic learns from its own data: the report, its exports (no models yet)."""

    name = "alliance.insights"
    label = "insights"
    verbose_name = "Alliance insights"
