"""FHIR answers: JSON with the FHIR media type, never cached; errors as OperationOutcome."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"


def fhir_response(body: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), content_type=FHIR_JSON, status=status)
    response["Cache-Control"] = "no-store"
    return response


def outcome(status: int, code: str, message: str, *, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }


class ApiError(Exception):
    """Raised anywhere below a view; the view answers it as an OperationOutcome."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> HttpResponse:
        answer = fhir_response(outcome(self.status, self.code, self.message), status=self.status)
        if self.status == 401:
            answer["WWW-Authenticate"] = 'Bearer realm="fhir"'
        return answer


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "login", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not-found", message)


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid", message)
