from django.urls import path

from alliance.fhirapi import admin_views, views

urlpatterns = [
    path("fhir", views.import_bundle, name="fhir_import"),
    path("fhir/metadata", views.metadata, name="fhir_metadata"),
    path(
        "fhir/.well-known/smart-configuration",
        views.smart_configuration,
        name="fhir_smart_configuration",
    ),
    path("fhir/token", views.token, name="fhir_token"),
    path("fhir/$export", views.export, name="fhir_export"),
    path("fhir/bulkstatus/<uuid:job_id>", views.export_status, name="fhir_export_status"),
    path("fhir/bulkfiles/<uuid:job_id>/<str:name>", views.export_file, name="fhir_export_file"),
    path("fhir/<str:kind>/<str:resource_id>", views.read, name="fhir_read"),
    path("fhir/<str:kind>", views.search, name="fhir_search"),
    path("clinic/api-credentials/", admin_views.credential_list, name="api_credential_list"),
    path("clinic/api-credentials/new/", admin_views.credential_edit, name="api_credential_create"),
    path(
        "clinic/api-credentials/<int:pk>/", admin_views.credential_edit, name="api_credential_edit"
    ),
    path(
        "clinic/api-credentials/<int:pk>/revoke/",
        admin_views.credential_revoke,
        name="api_credential_revoke",
    ),
]
