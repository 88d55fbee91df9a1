from django.urls import path

from alliance.care import views

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", views.caseload, name="caseload"),
    path("supervision/", views.supervision, name="supervision"),
    path("clients/<str:code>/", views.client_detail, name="client_detail"),
]
