from django.urls import path

from alliance.care import (
    alert_views,
    brief_views,
    ending_views,
    exports,
    intake_views,
    journal_views,
    progress_views,
    safety_plan_views,
    schedule_views,
    session_views,
    supervision_views,
    views,
)

urlpatterns = [
    # Ending, termination summaries, charts and the progress view (issue 9, points 8-10).
    path("episodes/<int:pk>/end/", ending_views.episode_end, name="episode_end"),
    path(
        "episodes/<int:pk>/final-session/",
        ending_views.episode_final_session,
        name="episode_final_session",
    ),
    path(
        "episodes/<int:pk>/termination/record.pdf",
        ending_views.termination_record_pdf,
        name="termination_record_pdf",
    ),
    path(
        "episodes/<int:pk>/termination/client.pdf",
        ending_views.termination_client_pdf,
        name="termination_client_pdf",
    ),
    path("episodes/<int:pk>/charts/", progress_views.episode_charts, name="episode_charts"),
    path("episodes/<int:pk>/progress/", progress_views.episode_progress, name="episode_progress"),
    path("", views.home, name="home"),
    path("caseload/", views.caseload, name="caseload"),
    path("supervision/", views.supervision, name="supervision"),
    # Before clients/<str:code>/ so that "new" is never read as a client code.
    path("clients/new/", intake_views.client_create, name="client_create"),
    path("clients/<str:code>/", views.client_detail, name="client_detail"),
    path("clients/<str:code>/edit/", intake_views.client_edit, name="client_edit"),
    path("clients/<str:code>/episodes/new/", intake_views.episode_create, name="episode_create"),
    path("episodes/<int:pk>/goals/", intake_views.episode_goals, name="episode_goals"),
    path("episodes/<int:pk>/transfer/", intake_views.episode_transfer, name="episode_transfer"),
    # Before alerts/<int:pk>/<str:action>/: snoozing has its own form (a period and a reason).
    path("alerts/<int:pk>/snooze/", alert_views.alert_snooze, name="alert_snooze"),
    path("alerts/<int:pk>/unsnooze/", alert_views.alert_unsnooze, name="alert_unsnooze"),
    path(
        "alerts/<int:pk>/<str:action>/",
        alert_views.alert_action,
        name="alert_action",
    ),
    path("episodes/<int:pk>/fhir.json", exports.episode_fhir, name="episode_fhir"),
    # The safety plan (safety_plan_views): read by the therapist and supervisor, written in session.
    path("episodes/<int:pk>/safety-plan/", safety_plan_views.safety_plan_view, name="safety_plan"),
    path(
        "episodes/<int:pk>/safety-plan/edit/",
        safety_plan_views.safety_plan_edit,
        name="safety_plan_edit",
    ),
    # Scheduling (schedule_views): booking, moving, cancelling, the agenda and the calendar feed.
    path("episodes/<int:pk>/book/", schedule_views.appointment_book, name="appointment_book"),
    path("appointments/<int:pk>/move/", schedule_views.appointment_move, name="appointment_move"),
    path(
        "appointments/<int:pk>/cancel/",
        schedule_views.appointment_cancel,
        name="appointment_cancel",
    ),
    path("agenda/", schedule_views.agenda_view, name="agenda"),
    path("calendar/", schedule_views.calendar_settings, name="calendar_settings"),
    path("calendar/renew/", schedule_views.calendar_renew, name="calendar_renew"),
    # The token is the credential (no sign-in): calendar apps cannot log in.
    path("calendar/<str:token>.ics", schedule_views.calendar_feed_view, name="calendar_feed"),
    path("appointments/<int:pk>/", session_views.appointment_detail, name="appointment_detail"),
    path(
        "appointments/<int:pk>/checkin-link/",
        session_views.create_checkin_link,
        name="checkin_link_create",
    ),
    path(
        "appointments/<int:pk>/checkin-link/send/",
        session_views.send_checkin_link,
        name="checkin_link_send",
    ),
    path("appointments/<int:pk>/brief/", brief_views.appointment_brief, name="appointment_brief"),
    path("clients/<str:code>/words/", brief_views.client_words, name="client_words"),
    # The reflection journal (journal_views) and a supervisor's pages (supervision_views).
    path(
        "appointments/<int:pk>/reflection/",
        journal_views.reflection_edit,
        name="reflection_edit",
    ),
    path("clients/<str:code>/reactions/", journal_views.client_reactions, name="client_reactions"),
    path("journal/", journal_views.journal_page, name="journal"),
    path("supervision/<int:pk>/", supervision_views.supervisee_detail, name="supervisee_detail"),
    path(
        "supervision/<int:pk>/notes/<int:note_pk>/",
        supervision_views.supervision_note_edit,
        name="supervision_note_edit",
    ),
    path(
        "supervision/<int:pk>/summary.pdf",
        supervision_views.supervision_summary_pdf,
        name="supervision_summary_pdf",
    ),
]
