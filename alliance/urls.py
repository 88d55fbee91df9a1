from django.urls import include, path

urlpatterns = [
    # The client's check-in pages first: they take the most requests, and Django tries the patterns
    # in order (behind accounts and care, a link was tried against some fifty patterns first: about
    # 5% of the landing page's CPU). No other pattern starts with "c/" or "concerns/".
    path("", include("alliance.checkin.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("alliance.accounts.urls")),
    path("", include("alliance.care.urls")),
    path("", include("alliance.operations.urls")),
    path("insights/export/", include("alliance.insights.export_urls")),
    path("", include("alliance.insights.urls")),
    path("", include("alliance.fhirapi.urls")),
]
