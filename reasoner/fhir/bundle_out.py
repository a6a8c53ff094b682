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
from . import codemap, profile

_SNOMED = "http://snomed.info/sct"
_ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
_CPT = "http://www.ama-assn.org/go/cpt"
_STATUS = {"completed": "completed", "ongoing": "in-progress", "discontinued": "stopped"}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _code(m: codemap.CodeMap, local: str, region: str | None = None, prefer: tuple[str, ...] = ()) -> dict[str, Any]:
    target = URIRef(codemap.CODE + local)
    reg = URIRef(codemap.CODE + region) if region else None
    return {"coding": m.codings_for(target, reg, prefer)}


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            dt.date.fromisoformat(text)
            return {"valueDate": text}
        except ValueError:
            pass
    return {"valueCode": text} if text and " " not in text else {"valueString": text}


def _parts(fields: dict[str, Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, dict):
                parts.append({"url": name, "extension": _parts(one)})
            else:
                parts.append({"url": name, **_value(one)})
    return parts


def _extra(resource: dict[str, Any], entry: dict[str, Any], native: set[str]) -> None:
    """The entry's fields that have no FHIR element here, as the case-field extension."""
    rest = {k: v for k, v in entry.items() if k not in native and v is not None}
    if rest:
        resource.setdefault("extension", []).append({"url": profile.EXT_FIELD, "extension": _parts(rest)})


def _site(m: codemap.CodeMap, entry: dict[str, Any]) -> list[dict[str, Any]]:
    if not entry.get("region"):
        return []
    site = _code(m, entry["region"], prefer=(_SNOMED,))
    if entry.get("laterality"):
        site["extension"] = [{"url": profile.EXT_LATERALITY,
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
        code = _code(m, dx["code"], dx.get("region"), (_SNOMED,)) if dx.get("code") else {"coding": []}
        if dx.get("icd10"):
            code["coding"].append({"system": _ICD10, "code": str(dx["icd10"])})
        res: dict[str, Any] = {"resourceType": "Condition", "id": f"condition-{i}", "subject": subject, "code": code}
        if _site(m, dx):
            res["bodySite"] = _site(m, dx)
        if dx.get("since"):
            res["onsetDateTime"] = str(dx["since"])
        _extra(res, dx, {"code", "icd10", "region", "laterality", "since"})
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
        if f.get("note"):
            res["note"] = [{"text": str(f["note"])}]
        _extra(res, f, {"code", "region", "laterality", "present", "source", "date", "note"})
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
        implied = m.lookup(res["code"]["coding"][0]["system"], res["code"]["coding"][0]["code"])
        native = {"kind", "date", "findings", "normal"}
        if implied is not None and implied.region is not None and str(implied.region).endswith("/" + str(s.get("region"))):
            native.add("region")  # the code says the region (CPT 72141: cervical spine)
        _extra(res, s, native)
        add(f"study-{i}", res)
    for i, t in enumerate(case.get("treatments") or []):
        res = {"resourceType": "Procedure", "id": f"treatment-{i}", "subject": subject,
               "status": _STATUS.get(t.get("status", ""), "completed")}
        if t.get("service"):
            res["code"] = _code(m, t["service"], t.get("region"), (_CPT, _SNOMED))
        if t.get("status") and t["status"] not in _STATUS:
            res["extension"] = [{"url": profile.EXT_TREATMENT_STATUS, "valueCode": t["status"]}]
        if not t.get("status"):
            res["status"] = "unknown"
        if _site(m, t):
            res["bodySite"] = _site(m, t)
        period = {k: str(t[k]) for k in ("start", "end") if t.get(k)}
        if period:
            res["performedPeriod"] = period
        if isinstance(t.get("outcome"), dict):
            res.setdefault("extension", []).append({"url": profile.EXT_TREATMENT_OUTCOME,
                                                    "extension": _parts(t["outcome"])})
        _extra(res, t, {"service", "region", "laterality", "status", "start", "end", "outcome"})
        add(f"treatment-{i}", res)
    for i, med in enumerate(case.get("medications") or []):
        res = {"resourceType": "MedicationStatement", "id": f"medication-{i}", "status": "active",
               "subject": subject, "medicationCodeableConcept": _code(m, med["drug"], prefer=(codemap.RXNORM,))}
        if med.get("since"):
            res["effectivePeriod"] = {"start": str(med["since"])}
        _extra(res, med, {"drug", "since"})
        add(f"medication-{i}", res)
    items = []
    for k, req in enumerate(case.get("requests") or []):
        item: dict[str, Any] = {"sequence": int(req["id"]) if str(req["id"]).isdigit() else k + 1}
        native = {"id", "service", "region", "laterality", "quantity", "unit", "ur"}
        quantity: dict[str, Any] = {"value": req["quantity"]} if req.get("quantity") is not None else {}
        if quantity and req.get("unit"):
            quantity.update(system=codemap.PROJECT_SYSTEM, code=str(req["unit"]))
        if req.get("service") == "medication" and req.get("drug"):
            # the drug ordered as a MedicationRequest that the Claim item names (Da Vinci PAS)
            order: dict[str, Any] = {"resourceType": "MedicationRequest", "id": f"request-{k}", "status": "active",
                                     "intent": "order", "subject": subject,
                                     "medicationCodeableConcept": _code(m, req["drug"], prefer=(codemap.RXNORM,))}
            if req.get("prescribed_date"):
                order["authoredOn"] = str(req["prescribed_date"])
            if req.get("dose_mg") is not None:
                order["dosageInstruction"] = [{"doseAndRate": [{"doseQuantity": {"value": req["dose_mg"],
                                                                                 "unit": "mg"}}]}]
            supply: dict[str, Any] = {}
            if quantity:
                supply["quantity"] = {k2: v for k2, v in quantity.items() if k2 != "value"} | {"value": quantity["value"]}
            if req.get("days_supply") is not None:
                supply["expectedSupplyDuration"] = {"value": req["days_supply"], "unit": "days",
                                                    "system": "http://unitsofmeasure.org", "code": "d"}
            if supply:
                order["dispenseRequest"] = supply
            native |= {"drug", "prescribed_date", "dose_mg", "days_supply"}
            _extra(order, req, native)
            add(f"request-{k}", order)
            item["productOrService"] = {"coding": [{"system": codemap.PROJECT_SYSTEM, "code": "medication"}]}
            item["extension"] = [{"url": profile.EXT_REQUESTED,
                                  "valueReference": {"reference": _urn(case_id, f"request-{k}")}}]
        else:
            item["productOrService"] = _code(m, req["service"], req.get("region"), (_CPT, _SNOMED))
            if quantity:
                item["quantity"] = quantity
            _extra(item, req, native)
        if _site(m, req):
            item["bodySite"] = _site(m, req)[0]
        ur = req.get("ur") or {}
        parts = [{"url": "decision", "valueCode": ur["decision"]}] if ur.get("decision") else []
        if ur.get("date"):
            parts.append({"url": "date", "valueDate": str(ur["date"])})
        if ur.get("guideline_cited"):
            parts.append({"url": "guideline-cited", "valueString": ur["guideline_cited"]})
        if parts:
            item.setdefault("extension", []).append({"url": profile.EXT_UR, "extension": parts})
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
    if injury and not injury.get("date"):  # Claim.accident needs a date: the fields travel as they are
        _extra(claim, {"injury": injury}, set())
    elif injury:
        accident: dict[str, Any] = {"date": str(injury["date"])}
        if injury.get("work_related") is True:  # no incident code says "not at work": false is a case field
            accident["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                            "code": "WPA"}]}
        if injury.get("body_regions"):
            accident["extension"] = [{"url": profile.EXT_INJURY_SITE,
                                      "valueCodeableConcept": _code(m, r, prefer=(_SNOMED,))}
                                     for r in injury["body_regions"]]
        claim["accident"] = accident
        rest = {k: v for k, v in injury.items() if k not in ("date", "body_regions")
                and not (k == "work_related" and v is True)}
        if rest:
            _extra(claim, {"injury": rest}, set())
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
