"""A case (case-format mapping) written as a FHIR R4 Bundle, the inverse of :mod:`bundle_in` for
the fields both hold: used to write examples/seed-imr-case.fhir.json and by the tests. Codes are
written in the standard systems where kb/fhir/code-map.ttl has a match, else in the project's
code system (https://w3id.org/mtus/code/)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from rdflib import URIRef

from ..rulebase import RuleBase
from . import bundle_in, codemap

_SNOMED = "http://snomed.info/sct"
_CPT = "http://www.ama-assn.org/go/cpt"
_STATUS = {"completed": "completed", "ongoing": "in-progress", "discontinued": "stopped"}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _code(m: codemap.CodeMap, local: str, region: str | None = None, prefer: tuple[str, ...] = ()) -> dict[str, Any]:
    target = URIRef(codemap.CODE + local)
    reg = URIRef(codemap.CODE + region) if region else None
    return {"coding": m.codings_for(target, reg, prefer)}


def _site(m: codemap.CodeMap, entry: dict[str, Any]) -> list[dict[str, Any]]:
    if not entry.get("region"):
        return []
    site = _code(m, entry["region"], prefer=(_SNOMED,))
    if entry.get("laterality"):
        site["extension"] = [{"url": bundle_in.EXT_LATERALITY,
                              "valueCodeableConcept": _code(m, entry["laterality"], prefer=(_SNOMED,))}]
    return [site]


def _urn(case_id: str, name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'https://w3id.org/mtus/case/{case_id}/{name}')}"


def _birth_date(review: str, age: int) -> str:
    """A birth date that makes ``age`` on the review date (the day before the birthday)."""
    day = dt.date.fromisoformat(review)
    born = day.replace(year=day.year - age) - dt.timedelta(days=1)
    return born.isoformat()


def to_bundle(case: dict[str, Any], rb: RuleBase) -> dict[str, Any]:
    m = codemap.of(rb)
    review = str(case["review_date"])
    entries: list[dict[str, Any]] = []
    case_id = str(case["id"])
    subject = {"reference": _urn(case_id, "patient")}

    def add(name: str, resource: dict[str, Any]) -> None:
        entries.append({"fullUrl": _urn(case_id, name), "resource": resource})

    patient: dict[str, Any] = {"resourceType": "Patient", "id": "patient"}
    claimant = case.get("claimant") or {}
    if claimant.get("sex"):
        patient["gender"] = claimant["sex"]
    if claimant.get("age") is not None:
        patient["birthDate"] = _birth_date(review, int(claimant["age"]))
    add("patient", patient)
    for i, dx in enumerate(case.get("diagnoses") or []):
        res: dict[str, Any] = {"resourceType": "Condition", "id": f"condition-{i}", "subject": subject,
                               "code": _code(m, dx["code"], dx.get("region"), (_SNOMED,))}
        if _site(m, dx):
            res["bodySite"] = _site(m, dx)
        if dx.get("since"):
            res["onsetDateTime"] = str(dx["since"])
        add(f"condition-{i}", res)
    for i, f in enumerate(case.get("findings") or []):
        res = {"resourceType": "Observation", "id": f"finding-{i}", "status": "final", "subject": subject,
               "code": _code(m, f["code"], f.get("region"), (_SNOMED,)), "valueBoolean": f.get("present", True)}
        if f.get("source"):
            res["category"] = [_code(m, f["source"], prefer=(_CATEGORY,))]
        if _site(m, f):
            res["bodySite"] = _site(m, f)[0]
        if f.get("date"):
            res["effectiveDateTime"] = str(f["date"])
        add(f"finding-{i}", res)
    for i, s in enumerate(case.get("studies") or []):
        conclusions = [_code(m, c, s.get("region"), (_SNOMED,)) for c in s.get("findings") or []]
        if s.get("normal") is True:
            conclusions.append({"coding": [{"system": _SNOMED, "code": "17621005"}]})
        res = {"resourceType": "DiagnosticReport", "id": f"study-{i}", "status": "final", "subject": subject,
               "code": _code(m, s["kind"], s.get("region"), (_CPT,))}
        if s.get("date"):
            res["effectiveDateTime"] = str(s["date"])
        if conclusions:
            res["conclusionCode"] = conclusions
        add(f"study-{i}", res)
    for i, t in enumerate(case.get("treatments") or []):
        res = {"resourceType": "Procedure", "id": f"treatment-{i}", "subject": subject,
               "status": _STATUS.get(t.get("status", ""), "completed"),
               "code": _code(m, t["service"], t.get("region"), (_CPT, _SNOMED))}
        if t.get("status") and t["status"] not in _STATUS:
            res["extension"] = [{"url": bundle_in.EXT_TREATMENT_STATUS, "valueCode": t["status"]}]
        if _site(m, t):
            res["bodySite"] = _site(m, t)
        add(f"treatment-{i}", res)
    for i, med in enumerate(case.get("medications") or []):
        res = {"resourceType": "MedicationStatement", "id": f"medication-{i}", "status": "active",
               "subject": subject, "medicationCodeableConcept": _code(m, med["drug"], prefer=(codemap.RXNORM,))}
        add(f"medication-{i}", res)
    items = []
    for k, req in enumerate(case.get("requests") or []):
        item: dict[str, Any] = {"sequence": int(req["id"]) if str(req["id"]).isdigit() else k + 1,
                                "productOrService": _code(m, req["service"], req.get("region"), (_CPT, _SNOMED))}
        if req.get("quantity") is not None:
            item["quantity"] = {"value": req["quantity"]}
        if _site(m, req):
            item["bodySite"] = _site(m, req)[0]
        ur = req.get("ur") or {}
        parts = [{"url": "decision", "valueCode": ur["decision"]}] if ur.get("decision") else []
        if ur.get("guideline_cited"):
            parts.append({"url": "guideline-cited", "valueString": ur["guideline_cited"]})
        if parts:
            item["extension"] = [{"url": bundle_in.EXT_UR, "extension": parts}]
        items.append(item)
    claim: dict[str, Any] = {
        "resourceType": "Claim", "id": "request", "status": "active", "use": "preauthorization",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "patient": subject, "created": review, "provider": {"display": "requesting physician"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                 "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "workers' compensation claim"}}],
        "item": items,
    }
    injury = case.get("injury") or {}
    if injury:
        accident: dict[str, Any] = {"date": str(injury.get("date") or review)}
        if injury.get("work_related") is True:  # no incident code says "not at work": false is left out
            accident["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                            "code": "WPA"}]}
        if injury.get("body_regions"):
            accident["extension"] = [{"url": bundle_in.EXT_INJURY_SITE,
                                      "valueCodeableConcept": _code(m, r, prefer=(_SNOMED,))}
                                     for r in injury["body_regions"]]
        claim["accident"] = accident
    add("request", claim)
    return {"resourceType": "Bundle", "id": str(case["id"]), "type": "collection",
            "identifier": {"system": "https://w3id.org/mtus/case", "value": str(case["id"])},
            "timestamp": f"{review}T00:00:00Z", "entry": entries}


def main(argv: list[str] | None = None) -> int:
    """``python -m reasoner.fhir.bundle_out CASE.yaml``: the case as a FHIR Bundle on standard output."""
    import json
    import sys

    import yaml

    from .. import rulebase
    from ..intake import _CaseLoader

    args = sys.argv[1:] if argv is None else argv
    with open(args[0], encoding="utf-8") as handle:
        case = yaml.load(handle, Loader=_CaseLoader)
    case.pop("expected", None)
    sys.stdout.write(json.dumps(to_bundle(case, rulebase.get()), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
