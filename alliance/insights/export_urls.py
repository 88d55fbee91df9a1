"""Insights downloads, included from alliance/urls.py under insights/export/."""

from django.urls import path

from alliance.insights import export_views

urlpatterns = [
    path("", export_views.insights_export, name="insights_export"),
]
