from django.urls import path

from alliance.accounts import alert_settings, email_settings, language, views

urlpatterns = [
    path("clinic/", views.clinic_overview, name="clinic_overview"),
    path("clinic/users/", views.user_list, name="user_list"),
    path("clinic/users/new/", views.user_edit, name="user_create"),
    path("clinic/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
    path("clinic/alert-settings/", alert_settings.alert_settings, name="alert_settings"),
    path("clinic/audit/", views.audit_list, name="audit_list"),
    path("clinic/audit/export.csv", views.audit_export, name="audit_export"),
    path("account/alert-emails/", email_settings.email_settings, name="email_settings"),
    path("account/language/", language.language_settings, name="language_settings"),
]
