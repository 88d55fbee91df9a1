from django.urls import path

from alliance.care import alert_views, exports, session_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", views.caseload, name="caseload"),
    path("supervision/", views.supervision, name="supervision"),
    path("clients/<str:code>/", views.client_detail, name="client_detail"),
    path(
        "alerts/<int:pk>/<str:action>/",
        alert_views.alert_action,
        name="alert_action",
    ),
    path("episodes/<int:pk>/fhir.json", exports.episode_fhir, name="episode_fhir"),
    path(
        "episodes/<int:pk>/appointments/",
        session_views.book_appointment,
        name="appointment_book",
    ),
    path("appointments/<int:pk>/", session_views.appointment_detail, name="appointment_detail"),
    path(
        "appointments/<int:pk>/checkin-link/",
        session_views.create_checkin_link,
        name="checkin_link_create",
    ),
]
