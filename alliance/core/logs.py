"""Logging: one line per record, plain (the demo) or JSON (`ALLIANCE_LOG_FORMAT=json`), each carrying
the request id of the request it happened in, and never a check-in or calendar token.

Tokens are credentials that sit in URLs (`/c/<token>/...`, `/calendar/<token>.ics`), and URLs reach
log lines from many places (our request log, Django's "Internal Server Error: /c/..." lines, a
traceback). So both formatters redact the whole formatted line, not just the fields we write.

Imported by settings through LOGGING, so it must not import Django.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from alliance.core import request_context

REDACTED = "<token>"
_TOKEN_PATHS = (
    # A check-in link: /c/<token>/ and everything under it (alliance/checkin/urls.py).
    re.compile(r"(/c/)[^/\s\"'?#]+"),
    # A calendar feed: /calendar/<token>.ics (alliance/care/urls.py).
    re.compile(r"(/calendar/)[^/\s\"'?#]+(?=\.ics)"),
)
# Any other path segment that looks like a generated secret (a 256-bit urlsafe token is 43
# characters): redacted too, so a URL added later with a token in it does not leak by default.
_LONG_SEGMENT = re.compile(r"(/)[A-Za-z0-9_-]{32,}(?=[/.?#\s\"']|$)")


def redact(text: str) -> str:
    for pattern in _TOKEN_PATHS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return _LONG_SEGMENT.sub(rf"\g<1>{REDACTED}", text)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (from the request being served, if any) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        record.request_id = context.request_id if context else None
        return True


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id_text)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id_text = getattr(record, "request_id", None) or "-"
        return redact(super().format(record))


class JsonLinesFormatter(JsonFormatter):
    """python-json-logger, one object per line: time, level, logger, message, request_id, and the
    request fields (method, path, status, duration_ms) where the record has them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "{levelname}{name}{message}{request_id}",
            style="{",
            timestamp="time",  # ISO 8601, UTC
            rename_fields={"levelname": "level", "name": "logger"},
            # Django attaches the request object to some records; its repr holds the full path
            # (and a token). Everything we want from a request is in our own fields.
            reserved_attrs=[*RESERVED_ATTRS, "request", "server_time", "request_id_text"],
            json_ensure_ascii=False,
            **kwargs,
        )

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        return redact(super().format(record))


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting: plain lines for the demo, JSON lines (`json`) for a log collector."""
    formatter = "json" if log_format.strip().lower() == "json" else "plain"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "alliance.core.logs.RequestIdFilter"}},
        "formatters": {
            "plain": {"()": "alliance.core.logs.PlainFormatter"},
            "json": {"()": "alliance.core.logs.JsonLinesFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "axes": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
        },
    }
