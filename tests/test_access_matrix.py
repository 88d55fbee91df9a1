"""Every URL the application defines, requested as each kind of user, with the expected status.

The owner is the treating therapist, the supervisor supervises the owner, the colleague is another
therapist, the other supervisor supervises only the colleague. A URL added without an entry here fails
`test_every_url_is_in_the_matrix`, so access is decided deliberately for each new page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from pypdf import PdfReader

from alliance.accounts.models import AuditEvent
from alliance.care.calendar_feed import issue as issue_feed
from alliance.care.models import SupervisionNote
from tests.conftest import Clinic

ROLES = ("owner", "supervisor", "colleague", "other_supervisor", "administrator", "anonymous")
LOGIN = 302  # anonymous visitors are sent to the sign-in page

ADMIN_ONLY = {r: 404 for r in ROLES} | {"administrator": 200, "anonymous": LOGIN}
CLINICIANS = {r: 200 for r in ROLES} | {"administrator": 404, "anonymous": LOGIN}
OWNER_AND_SUPERVISOR = {r: 404 for r in ROLES} | {
    "owner": 200,
    "supervisor": 200,
    "anonymous": LOGIN,
}

PUBLIC = {r: 200 for r in ROLES}
# Concerns about a therapist reach their supervisor and the administrators, never the therapist.
CONCERN_READERS = {r: 404 for r in ROLES} | {
    "supervisor": 200,
    "administrator": 200,
    "anonymous": LOGIN,
}
OWNER_AND_SUPERVISOR_READ = OWNER_AND_SUPERVISOR
OWNER_ONLY = {r: 404 for r in ROLES} | {"owner": 200, "anonymous": LOGIN}

Builder = Callable[[Clinic], str]
SUPERVISOR_ONLY = {r: 404 for r in ROLES} | {"supervisor": 200, "anonymous": LOGIN}
INSIGHTS_TEAM = {r: 404 for r in ROLES} | {
    "supervisor": 200,
    "other_supervisor": 200,
    "administrator": 200,
    "anonymous": LOGIN,
}


# The FHIR API answers only its own bearer tokens (tests/fhirapi): a staff session cookie, whoever's,
# grants nothing there (alliance/fhirapi/auth.py says why).
API_ONLY = {r: 401 for r in ROLES}


def _api_credential(c: Clinic) -> int:
    from alliance.fhirapi.models import ApiClient

    return ApiClient.objects.create(name="EHR", jwks={}, read_types=["Patient"]).pk


def _supervision_note(c: Clinic) -> SupervisionNote:
    return SupervisionNote.objects.create(
        supervisor=c.supervisor, therapist=c.owner, text="Supervision: talked about endings."
    )


MATRIX: dict[str, tuple[Builder, dict[str, int]]] = {
    "home": (lambda c: reverse("home"), {r: 302 for r in ROLES}),
    "caseload": (lambda c: reverse("caseload"), CLINICIANS),
    "supervision": (lambda c: reverse("supervision"), CLINICIANS),
    "client_detail": (
        lambda c: reverse("client_detail", args=[c.client.code]),
        OWNER_AND_SUPERVISOR,
    ),
    # Intake: any clinician adds a client (a supervisor for a supervisee); the client's own
    # therapist edits them; a supervisor reads goals and moves an episode between supervisees.
    "client_create": (lambda c: reverse("client_create"), CLINICIANS),
    "client_edit": (lambda c: reverse("client_edit", args=[c.client.code]), OWNER_ONLY),
    "episode_create": (
        lambda c: reverse("episode_create", args=[c.client.code]),
        OWNER_AND_SUPERVISOR,
    ),
    "episode_goals": (
        lambda c: reverse("episode_goals", args=[c.episode.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    "episode_transfer": (
        lambda c: reverse("episode_transfer", args=[c.episode.pk]),
        {**OWNER_AND_SUPERVISOR, "owner": 404},
    ),
    "clinic_overview": (lambda c: reverse("clinic_overview"), ADMIN_ONLY),
    "user_list": (lambda c: reverse("user_list"), ADMIN_ONLY),
    "user_create": (lambda c: reverse("user_create"), ADMIN_ONLY),
    "user_edit": (lambda c: reverse("user_edit", args=[c.owner.pk]), ADMIN_ONLY),
    "clinic_settings": (lambda c: reverse("clinic_settings"), ADMIN_ONLY),
    "alert_settings": (lambda c: reverse("alert_settings"), ADMIN_ONLY),
    # Each clinician's own choice of alert emails; administrators get none about clients.
    "email_settings": (lambda c: reverse("email_settings"), CLINICIANS),
    # Everyone signed in chooses their own language (alliance/accounts/language.py).
    "language_settings": (
        lambda c: reverse("language_settings"),
        {r: 200 for r in ROLES} | {"anonymous": LOGIN},
    ),
    "audit_list": (lambda c: reverse("audit_list"), ADMIN_ONLY),
    "audit_export": (lambda c: reverse("audit_export"), ADMIN_ONLY),
    "appointment_detail": (
        lambda c: reverse("appointment_detail", args=[c.appointment.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    # The brief and the client's written answers: read by the therapist and their supervisor.
    "appointment_brief": (
        lambda c: reverse("appointment_brief", args=[c.appointment.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    "client_words": (
        lambda c: reverse("client_words", args=[c.client.code]),
        OWNER_AND_SUPERVISOR,
    ),
    "episode_fhir": (lambda c: reverse("episode_fhir", args=[c.episode.pk]), OWNER_AND_SUPERVISOR),
    # The safety plan: the treating therapist writes it with the client, their supervisor reads it;
    # administrators never see it (clinical free text). tests/care/test_safety_plan.py has the rest.
    "safety_plan": (lambda c: reverse("safety_plan", args=[c.episode.pk]), OWNER_AND_SUPERVISOR),
    "safety_plan_edit": (lambda c: reverse("safety_plan_edit", args=[c.episode.pk]), OWNER_ONLY),
    "concern_list": (
        lambda c: reverse("concern_list"),
        {**CONCERN_READERS, "colleague": 404, "other_supervisor": 200},
    ),
    "concern_detail": (lambda c: reverse("concern_detail", args=[c.concern.pk]), CONCERN_READERS),
    # Scheduling: only the treating therapist books, moves and cancels; every clinician has an agenda
    # and a calendar feed of their own sessions.
    "appointment_book": (lambda c: reverse("appointment_book", args=[c.episode.pk]), OWNER_ONLY),
    "appointment_move": (
        lambda c: reverse("appointment_move", args=[c.appointment.pk]),
        OWNER_ONLY,
    ),
    "appointment_cancel": (
        lambda c: reverse("appointment_cancel", args=[c.appointment.pk]),
        OWNER_ONLY,
    ),
    "agenda": (lambda c: reverse("agenda"), CLINICIANS),
    "calendar_settings": (lambda c: reverse("calendar_settings"), CLINICIANS),
    # The feed's token is its credential, like a check-in link (calendar apps cannot sign in).
    "calendar_feed": (lambda c: reverse("calendar_feed", args=[issue_feed(c.owner)]), PUBLIC),
    # The token is the credential: whoever holds a valid link gets the client's forms, and nothing more.
    "checkin_landing": (lambda c: reverse("checkin_landing", args=[c.token]), PUBLIC),
    "checkin_answer": (lambda c: reverse("checkin_answer", args=[c.token, "gad7"]), PUBLIC),
    "checkin_thanks": (lambda c: reverse("checkin_thanks", args=[c.token]), PUBLIC),
    "checkin_support": (lambda c: reverse("checkin_support", args=[c.token]), PUBLIC),
    "checkin_concern": (lambda c: reverse("checkin_concern", args=[c.token]), PUBLIC),
    # Monitoring: no sign-in and no client data (tests/operations/test_health.py).
    "health": (lambda c: reverse("health"), PUBLIC),
    # Shown only when the clinic allows it (off by default; tests/care/test_progress.py turns it on).
    "checkin_progress": (
        lambda c: reverse("checkin_progress", args=[c.token]),
        {r: 404 for r in ROLES},
    ),
    # Ending, termination summaries, charts and the progress view (tests/care/test_ending.py).
    "episode_end": (lambda c: reverse("episode_end", args=[c.episode.pk]), OWNER_ONLY),
    "episode_charts": (
        lambda c: reverse("episode_charts", args=[c.episode.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    "episode_progress": (
        lambda c: reverse("episode_progress", args=[c.episode.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    "termination_record_pdf": (
        lambda c: reverse("termination_record_pdf", args=[c.episode.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    "termination_client_pdf": (
        lambda c: reverse("termination_client_pdf", args=[c.episode.pk]),
        OWNER_AND_SUPERVISOR,
    ),
    # The journal: reflections are written by the treating therapist only; supervisors read shared ones.
    "reflection_edit": (lambda c: reverse("reflection_edit", args=[c.appointment.pk]), OWNER_ONLY),
    "client_reactions": (
        lambda c: reverse("client_reactions", args=[c.client.code]),
        OWNER_AND_SUPERVISOR,
    ),
    "journal": (lambda c: reverse("journal"), CLINICIANS),
    # A supervisor's pages about a supervisee: their supervisors only, not even the therapist.
    "supervisee_detail": (
        lambda c: reverse("supervisee_detail", args=[c.owner.pk]),
        SUPERVISOR_ONLY,
    ),
    "supervision_note_edit": (
        lambda c: reverse("supervision_note_edit", args=[c.owner.pk, _supervision_note(c).pk]),
        SUPERVISOR_ONLY,
    ),
    "supervision_summary_pdf": (
        lambda c: reverse("supervision_summary_pdf", args=[c.owner.pk]),
        SUPERVISOR_ONLY,
    ),
    # Insights exports: every signed-in role gets the form; what it exports depends on the role
    # (tests/insights/test_export_views.py: own / supervisees' / clinic, identified admin-only).
    "insights_export": (
        lambda c: reverse("insights_export"),
        {r: 200 for r in ROLES} | {"anonymous": LOGIN},
    ),
    # Insights (alliance/insights/views.py): aggregates only. The clinic's outcomes for administrators
    # (whole clinic) and supervisors (supervisees); each clinician's own figures; the relationship
    # model for everyone signed in (a therapist sees only their own estimate); the check-in's
    # psychometrics for administrators; alert quality for administrators and supervisors.
    "insights_outcomes": (lambda c: reverse("insights_outcomes"), INSIGHTS_TEAM),
    "insights_mine": (lambda c: reverse("insights_mine"), CLINICIANS),
    "insights_relationship": (
        lambda c: reverse("insights_relationship"),
        {r: 200 for r in ROLES} | {"anonymous": LOGIN},
    ),
    "insights_checkin": (lambda c: reverse("insights_checkin"), ADMIN_ONLY),
    "insights_alerts": (lambda c: reverse("insights_alerts"), INSIGHTS_TEAM),
    # The FHIR API (issue 13): what the server can do is public, as FHIR expects; everything else
    # needs an API token. Its credentials are the administrators' to manage.
    "fhir_metadata": (lambda c: reverse("fhir_metadata"), PUBLIC),
    "fhir_smart_configuration": (lambda c: reverse("fhir_smart_configuration"), PUBLIC),
    "fhir_search": (lambda c: reverse("fhir_search", args=["Patient"]), API_ONLY),
    "fhir_read": (lambda c: reverse("fhir_read", args=["Patient", c.client.code]), API_ONLY),
    "fhir_export": (lambda c: reverse("fhir_export"), API_ONLY),
    "fhir_export_status": (
        lambda c: reverse("fhir_export_status", args=["8f0d1b52-95a5-4a43-9b1e-2b8f3f8f8a10"]),
        API_ONLY,
    ),
    "fhir_export_file": (
        lambda c: reverse(
            "fhir_export_file", args=["8f0d1b52-95a5-4a43-9b1e-2b8f3f8f8a10", "Patient.ndjson"]
        ),
        API_ONLY,
    ),
    "api_credential_list": (lambda c: reverse("api_credential_list"), ADMIN_ONLY),
    "api_credential_create": (lambda c: reverse("api_credential_create"), ADMIN_ONLY),
    "api_credential_edit": (
        lambda c: reverse("api_credential_edit", args=[_api_credential(c)]),
        ADMIN_ONLY,
    ),
}

# POST-only URLs: checked with a POST (GET answers 405 to everyone signed in).
POST_MATRIX: dict[str, tuple[Builder, dict[str, int]]] = {
    # Link buttons post a submit-once form: without one the owner is sent back with a message.
    "checkin_link_create": (
        lambda c: reverse("checkin_link_create", args=[c.appointment.pk]),
        {**OWNER_ONLY, "owner": 302},
    ),
    "checkin_link_send": (
        lambda c: reverse("checkin_link_send", args=[c.appointment.pk]),
        {**OWNER_ONLY, "owner": 302},
    ),
    # Any clinician keeps their own calendar feed; an invalid form is sent back with a message.
    "calendar_renew": (
        lambda c: reverse("calendar_renew"),
        {r: 302 for r in ROLES} | {"administrator": 404},
    ),
    "alert_action": (
        lambda c: reverse("alert_action", args=[c.alert.pk, "acknowledge"]),
        {**OWNER_AND_SUPERVISOR, "owner": 302, "supervisor": 302},
    ),
    # Snoozing is the owner's; a supervisor who can see the alert is sent back with a message.
    "alert_snooze": (
        lambda c: reverse("alert_snooze", args=[c.alert.pk]),
        {**OWNER_AND_SUPERVISOR, "owner": 302, "supervisor": 302},
    ),
    "alert_unsnooze": (
        lambda c: reverse("alert_unsnooze", args=[c.alert.pk]),
        {**OWNER_AND_SUPERVISOR, "owner": 302, "supervisor": 302},
    ),
    "episode_final_session": (
        lambda c: reverse("episode_final_session", args=[c.episode.pk]),
        {**OWNER_ONLY, "owner": 302},
    ),
    # The token endpoint takes no session: a post without a client assertion is a bad request.
    "fhir_token": (lambda c: reverse("fhir_token"), {r: 400 for r in ROLES}),
    # Importing through the API (a Bundle posted to /fhir) takes an API token with the import scope.
    "fhir_import": (lambda c: reverse("fhir_import"), API_ONLY),
    # An administrator's post without the form's hidden id is sent back with a message.
    "api_credential_revoke": (
        lambda c: reverse("api_credential_revoke", args=[_api_credential(c)]),
        ADMIN_ONLY | {"administrator": 302},
    ),
    "concern_update": (
        lambda c: reverse("concern_update", args=[c.concern.pk]),
        {**CONCERN_READERS, "supervisor": 302, "administrator": 302},
    ),
}


def _alliance_url_names(
    patterns: list[Any] | None = None, in_alliance: bool = False
) -> Iterator[str]:
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            module = getattr(entry.urlconf_module, "__name__", "")
            yield from _alliance_url_names(entry.url_patterns, module.startswith("alliance."))
        elif isinstance(entry, URLPattern) and in_alliance:
            assert entry.name, f"URL pattern {entry.pattern} has no name"
            yield entry.name


def test_every_url_is_in_the_matrix() -> None:
    assert set(_alliance_url_names()) == set(MATRIX) | set(POST_MATRIX)
    assert not set(MATRIX) & set(POST_MATRIX)


def _client_for(clinic: Clinic, role: str) -> HttpClient:
    http = HttpClient()
    user = clinic.user(role)
    if user is not None:
        http.force_login(user)
    return http


def _owner_data(clinic: Clinic, role: str) -> list[str]:
    secrets = [
        clinic.client.name,
        clinic.client.email,
        clinic.private_reflection.text,
        clinic.concern.text,
    ]
    if role != "administrator":
        # Administrators may see pseudonymous codes (in the audit trail); nobody else outside the
        # client's care may see even that.
        secrets.append(clinic.client.code)
    return secrets


# Pages meant for someone else; what they may show is checked by the tests of those pages.
ALLOWED_TO_SHOW = {
    ("concern_list", "supervisor"),
    ("concern_detail", "supervisor"),
    ("concern_list", "administrator"),
    ("concern_detail", "administrator"),
}
# Whoever holds the owner's feed token reads the owner's calendar: client codes and times, and never a
# name, an address or anything clinical, whoever asks (tests/care/test_calendar_feed.py has the rest).
CODES_ONLY = {"calendar_feed"}
# Token pages show the client's own goals and forms, never their name, code or contact details.
TOKEN_PAGES = {
    "checkin_landing",
    "checkin_answer",
    "checkin_thanks",
    "checkin_support",
    "checkin_concern",
    "checkin_progress",
}


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_access(clinic: Clinic, name: str, role: str) -> None:
    build, expected = MATRIX[name]
    response = _client_for(clinic, role).get(build(clinic))
    assert response.status_code == expected[role], f"{role} GET {name}"
    outsider = expected[role] != 200 or role in ("colleague", "other_supervisor", "administrator")
    if name in CODES_ONLY:
        for secret in _owner_data(clinic, "administrator"):  # everything but the code
            assert secret.encode() not in response.getvalue(), f"{role} saw client data on {name}"
    elif (outsider and (name, role) not in ALLOWED_TO_SHOW) or name in TOKEN_PAGES:
        body = response.getvalue()
        for secret in _owner_data(clinic, "anonymous" if name in TOKEN_PAGES else role):
            assert secret.encode() not in body, f"{role} saw the owner's client data on {name}"


@pytest.mark.parametrize("name", sorted(POST_MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_post_access(clinic: Clinic, name: str, role: str) -> None:
    build, expected = POST_MATRIX[name]
    response = _client_for(clinic, role).post(build(clinic), {"status": "in_hand"})
    assert response.status_code == expected[role], f"{role} POST {name}"
    if expected[role] == 404:
        for secret in _owner_data(clinic, role):
            assert secret.encode() not in response.content


def test_supervisor_sees_shared_but_not_private_reflections(clinic: Clinic) -> None:
    http = _client_for(clinic, "supervisor")
    page = http.get(reverse("client_detail", args=[clinic.client.code])).content.decode()
    assert clinic.shared_reflection.text in page
    assert clinic.private_reflection.text not in page


def test_owner_sees_own_private_reflection(clinic: Clinic) -> None:
    page = _client_for(clinic, "owner").get(reverse("client_detail", args=[clinic.client.code]))
    assert clinic.private_reflection.text in page.content.decode()


def test_colleague_caseload_holds_only_their_clients(clinic: Clinic) -> None:
    page = _client_for(clinic, "colleague").get(reverse("caseload")).content.decode()
    assert clinic.colleague_client.code in page
    assert clinic.client.code not in page


def test_supervisor_caseload_view_lists_supervisees_clients(clinic: Clinic) -> None:
    page = _client_for(clinic, "supervisor").get(reverse("supervision")).content.decode()
    assert clinic.client.name in page
    assert clinic.colleague_client.code not in page


@pytest.mark.parametrize(
    "name", sorted(n for n, (_, expected) in MATRIX.items() if expected["supervisor"] == 200)
)
def test_no_page_shows_a_supervisor_a_private_reflection(clinic: Clinic, name: str) -> None:
    """Private reflections stay private on every page a supervisor can open, PDFs included."""
    build, _ = MATRIX[name]
    response = _client_for(clinic, "supervisor").get(build(clinic))
    assert response.status_code == 200
    body = response.getvalue()
    assert clinic.private_reflection.text.encode() not in body, name
    if response.get("Content-Type") == "application/pdf":
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
        assert "irritation when she cancelled" not in text, name


# Pages that show the client's data without being a read of one client's record: the token pages are
# the client's own (their check-in is audited when stored); the calendar feed is audited per feed.
NOT_A_RECORD_READ = TOKEN_PAGES | {"calendar_feed"}


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, (_, expected) in MATRIX.items()
        if expected["owner"] == 200 and n not in NOT_A_RECORD_READ
    ),
)
def test_every_page_showing_a_clients_data_audits_the_read(clinic: Clinic, name: str) -> None:
    build, _ = MATRIX[name]
    url = build(clinic)
    before = AuditEvent.objects.filter(client_id=clinic.client.pk).count()
    response = _client_for(clinic, "owner").get(url)
    body = response.getvalue()
    shows = clinic.client.code.encode() in body or clinic.client.name.encode() in body
    if response.get("Content-Type") == "application/pdf":
        shows = True  # every PDF here is about a client
    if not shows:
        pytest.skip(f"{name} shows none of this client's data")
    after = AuditEvent.objects.filter(client_id=clinic.client.pk).count()
    assert after > before, f"{name} showed the client's data without an audit event"
