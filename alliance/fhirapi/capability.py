"""What the API says about itself: the CapabilityStatement and SMART's configuration document."""

from __future__ import annotations

from typing import Any

from alliance.fhirapi import mapping
from alliance.fhirapi.forms import SEARCH_FORMS
from alliance.fhirapi.models import RESOURCE_TYPES
from alliance.fhirapi.tokens import ALGORITHMS

_PARAM_TYPES = {
    "_id": "token",
    "_lastUpdated": "date",
    "_count": "number",
    "_offset": "number",
    "identifier": "token",
    "url": "uri",
    "code": "token",
    "patient": "reference",
    "subject": "reference",
    "questionnaire": "reference",
    "authored": "date",
    "date": "date",
}
SCOPES = [f"system/{kind}.rs" for kind in RESOURCE_TYPES] + [
    "system/*.rs",
    "system/*.read",
    "system/QuestionnaireResponse.c",
]


def capability_statement(*, version: str, import_available: bool) -> dict[str, Any]:
    base = mapping.fhir_base()
    resources = []
    for kind in RESOURCE_TYPES:
        params = [
            {"name": name, "type": _PARAM_TYPES.get(name, "string")}
            for name in sorted(SEARCH_FORMS[kind].base_fields)
            if name not in ("_format",)
        ]
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if kind == "QuestionnaireResponse" and import_available:
            interactions.append({"code": "create"})
        resources.append(
            {
                "type": kind,
                "interaction": interactions,
                "searchParam": params,
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-05",
        "kind": "instance",
        "software": {"name": "Alliance", "version": version},
        "implementation": {"description": "Alliance FHIR API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": f"{base}/token"}],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "SMART Backend Services: a signed JWT client assertion "
                    "(RS384 or ES384) at /fhir/token buys a five-minute bearer token.",
                },
                "resource": resources,
                "interaction": [{"code": "batch"}, {"code": "transaction"}]
                if import_available
                else [],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }


def smart_configuration() -> dict[str, Any]:
    base = mapping.fhir_base()
    return {
        "token_endpoint": f"{base}/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": SCOPES,
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }
