"""The project's FHIR profile: the extensions a case Bundle carries for what FHIR has no element
for, the codes and statuses it reads, and the small readers of those elements that the intake
(bundle_in, resources) and the output (bundle_out) share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdflib import URIRef

from ..rulebase import RuleBase
from . import codemap

EXT = "https://w3id.org/mtus/fhir/StructureDefinition/"
EXT_LATERALITY = EXT + "laterality"
EXT_INJURY_SITE = EXT + "injury-body-site"
EXT_UR = EXT + "utilization-review"
EXT_TREATMENT_STATUS = EXT + "treatment-status"
EXT_TREATMENT_OUTCOME = EXT + "treatment-outcome"
EXT_REQUESTED = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-requestedService"
#: a case-format field that FHIR has no element for, named by the field (docs/fhir.md)
EXT_FIELD = EXT + "case-field"
_VALUE_KEYS = ("valueBoolean", "valueInteger", "valueDecimal", "valueDate", "valueCode", "valueString")

#: resources that carry no clinical fact the case format holds; read as context, never as facts
ADMINISTRATIVE = frozenset({"Practitioner", "PractitionerRole", "Organization", "Coverage", "Encounter",
                             "Location", "RelatedPerson", "Provenance"})
READ = frozenset({"Patient", "Condition", "Observation", "Procedure", "MedicationStatement",
                   "MedicationRequest", "ServiceRequest", "DiagnosticReport", "ImagingStudy", "Claim"})
PROCEDURE_STATUS = {"completed": "completed", "in-progress": "ongoing", "stopped": "discontinued",
                     "on-hold": "discontinued", "unknown": None}
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
_NUMBER = ("valueDecimal", "valueInteger")
OUTCOME_FIELDS = {"functional_improvement": ("valueBoolean",), "pain_relief_percent": _NUMBER,
                   "relief_weeks": _NUMBER, "medication_reduced": ("valueBoolean",),
                   "work_restrictions_reduced": ("valueBoolean",), "adl_improved": ("valueBoolean",)}



def local(code: URIRef) -> str:
    return str(code)[len(codemap.CODE):]


def date_of(text: Any) -> str | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def extensions(node: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in node.get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def list_fields(rb: RuleBase) -> frozenset[str]:
    """The case-format fields that hold a list (``@container: @set`` in the JSON-LD context)."""
    found = set()

    def walk(context: dict[str, Any]) -> None:
        for name, term in context.items():
            if isinstance(term, dict):
                if term.get("@container") == "@set":
                    found.add(name)
                if isinstance(term.get("@context"), dict):
                    walk(term["@context"])

    walk(rb.context["@context"])
    return frozenset(found)


def _field_value(part: dict[str, Any], lists: frozenset[str], path: str, reader: Any) -> Any:
    if part.get("extension"):
        return case_fields(part, lists, path, reader)
    for key in _VALUE_KEYS:
        if key in part:
            return part[key]
    reader.problem(path, f"case-field: expected one of {', '.join(_VALUE_KEYS)} or nested parts")
    return None


def case_fields(node: dict[str, Any], lists: frozenset[str], path: str, reader: Any) -> dict[str, Any]:
    """The fields a case-field extension carries (each part's url is the case field's name; a
    repeated part, or a list field, is a list; nested parts are a mapping)."""
    out: dict[str, Any] = {}
    for k, part in enumerate(node.get("extension") or []):
        name = part.get("url") if isinstance(part, dict) else None
        if not name:
            reader.problem(f"{path}.extension[{k}]", "case-field: expected parts named by case fields")
            continue
        value = _field_value(part, lists, f"{path}.extension[{k}]", reader)
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = [value] if name in lists else value
    return out

