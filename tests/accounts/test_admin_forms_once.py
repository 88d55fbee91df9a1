"""Administrator forms are Django forms that store once when submitted twice."""

from __future__ import annotations

import re

from django.test import Client as HttpClient
from django.urls import reverse

from alliance.accounts.models import AuditEvent
from tests.conftest import Clinic


def _submission_id(body: str) -> str:
    found = re.search(r'name="submission_id" value="([^"]+)"', body)
    assert found
    return found.group(1)


def _admin(clinic: Clinic) -> HttpClient:
    http = HttpClient()
    http.force_login(clinic.administrator)
    return http


def test_user_and_clinic_forms_carry_a_fresh_submission_id(clinic: Clinic) -> None:
    http = _admin(clinic)
    for name in ("user_create", "clinic_settings"):
        first = _submission_id(http.get(reverse(name)).content.decode())
        assert first != _submission_id(http.get(reverse(name)).content.decode())


def test_alert_settings_saved_twice_log_once_and_bad_values_are_named(clinic: Clinic) -> None:
    http = _admin(clinic)
    sid = _submission_id(http.get(reverse("alert_settings")).content.decode())
    bad = http.post(reverse("alert_settings"), {"rupture_k": "-3", "submission_id": sid})
    assert bad.status_code == 400 and 'id="err-rupture_k"' in bad.content.decode()
    assert _submission_id(bad.content.decode()) == sid
    good = {"rupture_k": "2.5", "submission_id": sid}
    assert http.post(reverse("alert_settings"), good).status_code == 302
    assert http.post(reverse("alert_settings"), good).status_code == 302
    assert AuditEvent.objects.filter(action="clinic.alert_settings.changed").count() == 1


def test_a_therapist_cannot_post_alert_settings(clinic: Clinic) -> None:
    http = HttpClient()
    http.force_login(clinic.owner)
    sid = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
    page = http.post(reverse("alert_settings"), {"rupture_k": "9", "submission_id": sid})
    assert page.status_code == 404
    assert not AuditEvent.objects.filter(action="clinic.alert_settings.changed").exists()
