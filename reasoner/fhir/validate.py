"""FHIR resources checked at run time against the models of fhir.resources (pydantic; the tests
also check what the project writes against HL7's R4 JSON Schema, tests/data/fhir/). fhir.resources
8 ships R4B, 4.3.0: the resources used here, Bundle, Patient,
Condition, Observation, Procedure, MedicationStatement, MedicationRequest, ServiceRequest,
DiagnosticReport, ImagingStudy, Claim, ClaimResponse, Questionnaire, QuestionnaireResponse and
Provenance, have the same structure in R4 4.0.1 for every element this project reads or writes)."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import IntakeError, Problem


def model(resource_type: str) -> Any:
    """The fhir.resources R4B model class of a resource type."""
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for key in loc:
        if isinstance(key, int) and parts:
            parts[-1] = f"{parts[-1]}[{key}]"
        else:
            parts.append(str(key))
    return ".".join(parts)


def validate(resource: dict[str, Any], source: str = "(FHIR)") -> Any:
    """Parse ``resource`` with its model; IntakeError with one problem per field path (never
    the value). Returns the model instance."""
    from pydantic import ValidationError

    kind = resource.get("resourceType")
    try:
        cls = model(str(kind))
    except (ImportError, AttributeError):
        raise IntakeError(source, [Problem("resourceType", "expected a FHIR R4 resource type")]) from None
    try:
        return cls.model_validate(resource)
    except ValidationError as exc:
        problems = [Problem(_path(tuple(err["loc"])) or "(resource)", f"not valid FHIR: {err['msg']}")
                    for err in exc.errors(include_input=False, include_url=False)[:20]]
        raise IntakeError(source, problems) from None
