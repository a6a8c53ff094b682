"""Intake of a FHIR R4 Bundle: its resources become a case in the case format (a plain mapping),
which then goes through the normal intake, so that both engines and every check apply.

What is read (docs/fhir.md lists it field by field):
Patient (age from birthDate on the review date, sex from gender); Condition (diagnoses);
Observation (findings: code, bodySite, category as the source, valueBoolean false as a documented
negative, effective date); Procedure (treatments); MedicationStatement (medications);
DiagnosticReport and ImagingStudy (studies); Claim (use preauthorization or claim: its items are
the requests, its accident the injury) or, without a Claim, each ServiceRequest and
MedicationRequest is a request. The review date is Bundle.timestamp, the case id Bundle.identifier
(else Bundle.id). Every code the intake reads must map (kb/fhir/code-map.ttl, RxNorm through
ontology/drugs-rxnorm.ttl); one that does not is a problem naming its place in the Bundle
(``entry[3].resource.code.coding[0]``). A resource type that is not read is a problem too, except
the administrative ones listed in ``profile.ADMINISTRATIVE``. Messages name paths and expectations, never
the case's values.
"""

from __future__ import annotations

from typing import Any

from ..errors import IntakeError, Problem
from ..namespaces import MTUS
from ..rulebase import RuleBase
from .profile import (
    ADMINISTRATIVE,
    EXT_INJURY_SITE,
    EXT_REQUESTED,
    READ,
    date_of,
    extensions,
    local,
)
from .resources import Reader


def is_bundle(data: Any) -> bool:
    """A JSON document that is a FHIR resource (it has ``resourceType``), not a case."""
    return isinstance(data, dict) and "resourceType" in data


def _index(entries: list[Any]) -> dict[str, int]:
    """Each resource by the references that name it (fullUrl, Type/id)."""
    index: dict[str, int] = {}
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict):
            continue
        if entry.get("fullUrl"):
            index[entry["fullUrl"]] = i
        if res.get("id"):
            index[f"{res.get('resourceType')}/{res['id']}"] = i
    return index


def validate_r4(data: dict[str, Any], source: str) -> None:
    """The Bundle against the FHIR models (reasoner/fhir/validate.py)."""
    from .validate import validate

    validate(data, source)


def to_case(data: dict[str, Any], rb: RuleBase, source: str = "(Bundle)") -> dict[str, Any]:
    """The case (case-format mapping) a FHIR R4 Bundle documents; IntakeError with Bundle paths."""
    if data.get("resourceType") != "Bundle":
        raise IntakeError(source, [Problem("resourceType", "expected \"Bundle\" (a FHIR R4 Bundle of the case's "
                                           "resources), or a case in the case format without resourceType")])
    validate_r4(data, source)
    reader = Reader(data, rb, source)
    entries = data.get("entry") or []
    index = _index(entries)
    review = date_of(data.get("timestamp"))
    if review is None:
        reader.problem("timestamp", "expected the review date (Bundle.timestamp, an instant)")
    ident = (data.get("identifier") or {}).get("value") or data.get("id")
    if not ident:
        reader.problem("identifier.value", "expected the case id (Bundle.identifier.value or Bundle.id)")
    case: dict[str, Any] = {"id": ident, "review_date": review}
    patients = [i for i, e in enumerate(entries) if (e.get("resource") or {}).get("resourceType") == "Patient"]
    if len(patients) != 1:
        reader.problem("entry", f"expected exactly one Patient (the injured worker); found {len(patients)}")
    for i in patients:
        entry = entries[i]
        res = entry["resource"]
        reader.patient_refs |= {r for r in (entry.get("fullUrl"), f"Patient/{res.get('id')}") if r}
        reader.patient(res, review, case)
    claims = [i for i, e in enumerate(entries) if (e.get("resource") or {}).get("resourceType") == "Claim"]
    if len(claims) > 1:
        reader.problem("entry", f"expected at most one Claim (the request for authorization); found {len(claims)}")
    claimed: set[int] = set()
    requests: list[dict[str, Any]] = []
    for i in claims[:1]:
        path = f"entry[{i}].resource"
        claim = entries[i]["resource"]
        reader.subject(claim, path, "patient")
        accident = claim.get("accident") or {}
        injury: dict[str, Any] = {}
        if date_of(accident.get("date")):
            injury["date"] = date_of(accident.get("date"))
        flag = reader.flag(accident.get("type"))
        if accident.get("type") is not None:
            if flag is None or flag.work_related is None:
                reader.problem(f"{path}.accident.type.coding[0]", "expected an incident type in the map "
                               "(HL7 v3 ActCode WPA: work place accident)")
            else:
                injury["work_related"] = flag.work_related
        regions = []
        for k, ext in enumerate(extensions(accident, EXT_INJURY_SITE)):
            region, _ = reader.code(ext.get("valueCodeableConcept"), f"{path}.accident.extension[{k}].valueCodeableConcept",
                                    MTUS.Region, "a body region")
            if region is not None:
                regions.append(local(region))
        if regions:
            injury["body_regions"] = regions
        if injury:
            case["injury"] = injury
        reader.extra(claim, path, case)  # case fields FHIR has no element for (an injury without a date)
        for k, item in enumerate(claim.get("item") or []):
            item_path = f"{path}.item[{k}]"
            target: dict[str, Any] = {}
            target_path = item_path
            for ext in extensions(item, EXT_REQUESTED):
                ref = (ext.get("valueReference") or {}).get("reference")
                if ref not in index:
                    reader.problem(f"{item_path}.extension", "requestedService: expected a reference to a "
                                   "ServiceRequest or MedicationRequest of the Bundle")
                    continue
                claimed.add(index[ref])
                target, target_path = entries[index[ref]]["resource"], f"entry[{index[ref]}].resource"
            made = reader.request(target, target_path, item, item_path, str(item.get("sequence", k + 1)))
            if made is not None:
                requests.append(made)
    handlers = {"Condition": reader.condition, "Observation": reader.observation, "Procedure": reader.procedure,
                "MedicationStatement": reader.medication_statement, "DiagnosticReport": reader.study_report,
                "ImagingStudy": reader.imaging_study}
    for i, entry in enumerate(entries):
        res = entry.get("resource") or {}
        kind = res.get("resourceType")
        path = f"entry[{i}].resource"
        if not isinstance(entry.get("resource"), dict):
            reader.problem(f"entry[{i}].resource", "expected a resource")
        elif kind in handlers:
            reader.subject(res, path, "patient" if kind == "ImagingStudy" and "patient" in res else "subject")
            handlers[kind](res, path, case)
        elif kind in ("ServiceRequest", "MedicationRequest"):
            reader.subject(res, path)
            if i in claimed:
                continue
            if claims:
                reader.problem(path, "a request the Claim does not name: expected the Claim item's requestedService "
                               "extension to reference it, or no Claim")
                continue
            made = reader.request(res, path, None, None, str(res.get("id") or i))
            if made is not None:
                requests.append(made)
        elif kind not in READ and kind not in ADMINISTRATIVE:
            reader.problem(f"{path}.resourceType", f"a {kind} is not read (read: {', '.join(sorted(READ))}; "
                           f"context only: {', '.join(sorted(ADMINISTRATIVE))})")
    if not requests and not reader.problems:
        reader.problem("entry", "expected at least one requested item (Claim.item, ServiceRequest or "
                       "MedicationRequest)")
    case["requests"] = requests
    if reader.problems:
        raise IntakeError(source, reader.problems)
    return case
