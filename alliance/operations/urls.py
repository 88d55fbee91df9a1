from django.urls import path

from alliance.operations import views

urlpatterns = [
    # Also answered early by HealthMiddleware, before sessions, sign-in and the host check.
    path("health", views.health, name="health"),
]
