"""Structured logs: request ids on every record, one line per request, JSON on demand, never a token."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from alliance.core import request_context
from alliance.core.logs import (
    JsonLinesFormatter,
    PlainFormatter,
    RequestIdFilter,
    logging_config,
    redact,
)
from tests.conftest import Clinic

TOKEN = "dGhpcy1pcy1hLTI1Ni1iaXQtdG9rZW4tZm9yLXRlc3Rz"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/c/{TOKEN}/", "/c/<token>/"),
        (f"/c/{TOKEN}/answer/phq9/", "/c/<token>/answer/phq9/"),
        ("/c/short/thanks/", "/c/<token>/thanks/"),  # a guessed or truncated one too
        (f"/calendar/{TOKEN}.ics", "/calendar/<token>.ics"),
        (f"/some/future/{TOKEN}/page/", "/some/future/<token>/page/"),
        ("/clients/C-OWN01/", "/clients/C-OWN01/"),
        ("/caseload/", "/caseload/"),
    ],
)
def test_tokens_are_redacted_from_paths(path: str, expected: str) -> None:
    assert redact(path) == expected


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    RequestIdFilter().filter(record)
    return record


def test_json_lines_carry_level_logger_message_and_request_id() -> None:
    token = request_context.set_current(request_context.RequestContext(request_id="req-12345678"))
    try:
        record = _record("Queue %s is %d long", "default", 3)
    finally:
        request_context.reset(token)
    line = JsonLinesFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "ERROR"
    assert data["logger"] == "django.request"
    assert data["message"] == "Queue default is 3 long"
    assert data["request_id"] == "req-12345678"
    assert data["time"].startswith("20")


def test_no_formatter_lets_a_token_through_even_from_djangos_own_records() -> None:
    # django.request logs "Internal Server Error: <path>" with the request object attached.
    class FakeRequest:
        def __repr__(self) -> str:
            return f"<WSGIRequest: GET '/c/{TOKEN}/answer/phq9/'>"

    record = _record("Internal Server Error: %s", f"/c/{TOKEN}/answer/phq9/", request=FakeRequest())
    for formatter in (JsonLinesFormatter(), PlainFormatter()):
        line = formatter.format(record)
        assert TOKEN not in line
        assert "/c/<token>/answer/phq9/" in line
    assert "request" not in json.loads(JsonLinesFormatter().format(record))


def test_every_request_is_logged_once_with_its_id_status_duration_and_no_token(
    clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    url = reverse("checkin_landing", args=[clinic.token])
    with caplog.at_level(logging.INFO, logger="alliance.request"):
        response = HttpClient().get(url, HTTP_X_REQUEST_ID="probe-request-0001")
    (record,) = [r for r in caplog.records if r.name == "alliance.request"]
    assert response["X-Request-ID"] == "probe-request-0001"
    data = json.loads(JsonLinesFormatter().format(record))
    assert data["request_id"] == "probe-request-0001"
    assert data["method"] == "GET"
    assert data["path"] == "/c/<token>/"
    assert data["status"] == response.status_code
    assert isinstance(data["duration_ms"], float)
    assert clinic.token not in json.dumps(data)
    assert clinic.token not in PlainFormatter().format(record)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_records_written_while_serving_a_request_carry_its_id(clinic: Clinic) -> None:
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    try:
        http = HttpClient()
        http.force_login(clinic.owner)
        response = http.get(reverse("caseload"))
        logging.getLogger("alliance.after").warning("outside any request")
    finally:
        root.removeHandler(collect)
    by_logger = {r.name: getattr(r, "request_id", "absent") for r in collect.records}
    assert by_logger["alliance.request"] == response["X-Request-ID"]
    assert by_logger["alliance.after"] is None


def test_health_checks_are_logged_quietly(caplog: pytest.LogCaptureFixture, db: None) -> None:
    with caplog.at_level(logging.INFO, logger="alliance.request"):
        HttpClient().get("/health")
    assert not [r for r in caplog.records if r.name == "alliance.request"]


def test_the_format_is_chosen_by_alliance_log_format() -> None:
    assert logging_config("json", "INFO")["handlers"]["console"]["formatter"] == "json"
    assert logging_config("plain", "INFO")["handlers"]["console"]["formatter"] == "plain"
    assert logging_config("", "INFO")["handlers"]["console"]["formatter"] == "plain"
    config = logging_config("json", "WARNING")
    assert config["root"]["level"] == "WARNING"
    assert config["handlers"]["console"]["filters"] == ["request_id"]
