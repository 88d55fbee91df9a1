from django.urls import path

from alliance.checkin import progress_views, staff, views

# Only the token appears in these URLs: no client name, code or appointment id.
urlpatterns = [
    path("c/<str:token>/", views.landing, name="checkin_landing"),
    path("c/<str:token>/answer/<slug:instrument_id>/", views.answer, name="checkin_answer"),
    path("c/<str:token>/thanks/", views.thanks, name="checkin_thanks"),
    path("c/<str:token>/progress/", progress_views.checkin_progress, name="checkin_progress"),
    path("c/<str:token>/support/", views.support, name="checkin_support"),
    path("c/<str:token>/concern/", views.concern, name="checkin_concern"),
    # Staff side: concerns raised by clients (supervisors and administrators only).
    path("concerns/", staff.concern_list, name="concern_list"),
    path("concerns/<int:pk>/", staff.concern_detail, name="concern_detail"),
    path("concerns/<int:pk>/status/", staff.concern_update, name="concern_update"),
]
