from django.urls import path

from alliance.insights import views

urlpatterns = [
    path("insights/", views.outcomes, name="insights_outcomes"),
    path("insights/mine/", views.mine, name="insights_mine"),
    path("insights/relationship/", views.relationship, name="insights_relationship"),
    path("insights/checkin/", views.checkin, name="insights_checkin"),
    path("insights/alerts/", views.alerts, name="insights_alerts"),
]
