"""The clinic overview lists clinicians with a caseload; a supervisor without clients of their own is
not shown as a therapist with 0 and 0 (issue 11)."""

from __future__ import annotations

import re

from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import Clinic


def test_only_clinicians_with_episodes_are_listed(clinic: Clinic) -> None:
    admin = HttpClient()
    admin.force_login(clinic.administrator)
    html = admin.get(reverse("clinic_overview")).content.decode()
    listed = re.findall(r'<th scope="row">([^<]+)</th><td class="num">', html)
    assert clinic.owner.display_name in listed
    assert clinic.supervisor.display_name not in listed
    assert clinic.other_supervisor.display_name not in listed
