"""The app's URLs plus the bare view benchmarks/load.py compares every page with (see
load_settings.py: nothing outside benchmarks/ imports this)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """What Django and gunicorn cost with nothing else: the app's middleware, no database, no
    template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("alliance.urls")),
]
