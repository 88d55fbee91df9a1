from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("", include("alliance.accounts.urls")),
    path("", include("alliance.care.urls")),
    path("", include("alliance.checkin.urls")),
    path("", include("alliance.operations.urls")),
    path("insights/export/", include("alliance.insights.export_urls")),
    path("", include("alliance.insights.urls")),
    path("", include("alliance.fhirapi.urls")),
]
