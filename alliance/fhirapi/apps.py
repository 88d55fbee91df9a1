from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    """The FHIR R4 API: per-system credentials, read and search, bulk $export."""

    name = "alliance.fhirapi"
    label = "fhirapi"
    verbose_name = "Alliance FHIR API"
