"""The FHIR R4 API at /fhir/ for the clinic's other systems (issue 13, point 3); docs/fhir.md."""
