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
the administrative ones listed in ``_ADMINISTRATIVE``. Messages name paths and expectations, never
the case's values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdflib import URIRef

from ..errors import IntakeError, Problem
from ..namespaces import MTUS
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
_ADMINISTRATIVE = frozenset({"Practitioner", "PractitionerRole", "Organization", "Coverage", "Encounter",
                             "Location", "RelatedPerson", "Provenance"})
_READ = frozenset({"Patient", "Condition", "Observation", "Procedure", "MedicationStatement",
                   "MedicationRequest", "ServiceRequest", "DiagnosticReport", "ImagingStudy", "Claim"})
_PROCEDURE_STATUS = {"completed": "completed", "in-progress": "ongoing", "stopped": "discontinued",
                     "on-hold": "discontinued", "unknown": None}
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
_NUMBER = ("valueDecimal", "valueInteger")
_OUTCOME_FIELDS = {"functional_improvement": ("valueBoolean",), "pain_relief_percent": _NUMBER,
                   "relief_weeks": _NUMBER, "medication_reduced": ("valueBoolean",),
                   "work_restrictions_reduced": ("valueBoolean",), "adl_improved": ("valueBoolean",)}


def is_bundle(data: Any) -> bool:
    """A JSON document that is a FHIR resource (it has ``resourceType``), not a case."""
    return isinstance(data, dict) and "resourceType" in data


def _local(code: URIRef) -> str:
    return str(code)[len(codemap.CODE):]


def _date(text: Any) -> str | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _ext(node: dict[str, Any], url: str) -> list[dict[str, Any]]:
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
        return _fields(part, lists, path, reader)
    for key in _VALUE_KEYS:
        if key in part:
            return part[key]
    reader.problem(path, f"case-field: expected one of {', '.join(_VALUE_KEYS)} or nested parts")
    return None


def _fields(node: dict[str, Any], lists: frozenset[str], path: str, reader: Any) -> dict[str, Any]:
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


class _Reader:
    def __init__(self, bundle: dict[str, Any], rb: RuleBase, source: str) -> None:
        self.bundle = bundle
        self.rb = rb
        self.map = codemap.of(rb)
        self.source = source
        self.problems: list[Problem] = []
        self.patient_refs: set[str] = set()
        self.lists = list_fields(rb)

    def extra(self, node: dict[str, Any] | None, path: str | None, out: dict[str, Any]) -> None:
        """Fields of the case-field extension of ``node`` into ``out`` (what FHIR has no element
        for: a request's levels, a medication's dose, ...)."""
        for k, ext in enumerate(i for i in (node or {}).get("extension") or []):
            if isinstance(ext, dict) and ext.get("url") == EXT_FIELD:
                for name, value in _fields(ext, self.lists, f"{path}.extension[{k}]", self).items():
                    if isinstance(out.get(name), dict) and isinstance(value, dict):
                        out[name].update(value)  # the injury's fields beside Claim.accident
                    else:
                        out[name] = value

    def problem(self, path: str, message: str, suggestions: tuple[str, ...] = ()) -> None:
        self.problems.append(Problem(path, message, suggestions))

    # --- codes ---------------------------------------------------------------------------
    def code(self, concept: Any, path: str, cls: URIRef, what: str,
             required: bool = True) -> tuple[URIRef | None, codemap.Mapped | None]:
        """The project code of a CodeableConcept: its first coding that maps to a code of class
        ``cls``; else a problem at its first coding."""
        if not isinstance(concept, dict) or not concept.get("coding"):
            if required:
                self.problem(f"{path}.coding", f"expected a coding of {what}")
            return None, None
        codings = concept["coding"]
        for coding in codings:
            if not isinstance(coding, dict):
                continue
            mapped = self.map.lookup(coding.get("system"), coding.get("code"))
            if mapped is not None and mapped.target is not None and self.map.is_a(mapped.target, cls):
                return mapped.target, mapped
        first = codings[0] if isinstance(codings[0], dict) else {}
        systems = sorted({str(c.get("system")) for c in codings if isinstance(c, dict)})
        self.problem(f"{path}.coding[0]", f"no coding maps to {what} (systems given: {', '.join(systems)}; the "
                     "map is kb/fhir/code-map.ttl, RxNorm ingredients ontology/drugs-rxnorm.ttl)",
                     self.map.nearest(first.get("system"), first.get("code")))
        return None, None

    def flag(self, concept: Any) -> codemap.Mapped | None:
        """A coding that maps to a flag (normal study, work related), if any."""
        for coding in (concept or {}).get("coding") or []:
            if isinstance(coding, dict):
                mapped = self.map.lookup(coding.get("system"), coding.get("code"))
                if mapped is not None:
                    return mapped
        return None

    def site(self, sites: Any, path: str, mapped: codemap.Mapped | None, out: dict[str, Any]) -> None:
        """Region and laterality: from bodySite (first entry) and its laterality extension, else
        what the code implies."""
        region = mapped.region if mapped is not None else None
        laterality = mapped.laterality if mapped is not None else None
        if isinstance(sites, dict):
            sites = [sites]
        if isinstance(sites, list) and sites:
            site = sites[0]
            found, _ = self.code(site, f"{path}[0]", MTUS.Region, "a body region")
            region = found or region
            for i, ext in enumerate(_ext(site, EXT_LATERALITY)):
                side, _ = self.code(ext.get("valueCodeableConcept"), f"{path}[0].extension[{i}].valueCodeableConcept",
                                    MTUS.Laterality, "a laterality")
                laterality = side or laterality
        if region is not None:
            out["region"] = _local(region)
        if laterality is not None:
            out["laterality"] = _local(laterality)

    def subject(self, resource: dict[str, Any], path: str, field: str = "subject") -> None:
        ref = (resource.get(field) or {}).get("reference") if isinstance(resource.get(field), dict) else None
        if not ref:
            self.problem(f"{path}.{field}", "expected a reference to the Bundle's Patient")
        elif ref not in self.patient_refs:
            self.problem(f"{path}.{field}", "expected a reference to the Bundle's Patient (Patient/<id> or its "
                         "fullUrl); it names another resource")

    # --- resources -------------------------------------------------------------------------
    def patient(self, res: dict[str, Any], review: str | None, case: dict[str, Any]) -> None:
        claimant: dict[str, Any] = {}
        birth = _date(res.get("birthDate"))
        if birth and review:
            b, r = dt.date.fromisoformat(birth), dt.date.fromisoformat(review)
            claimant["age"] = r.year - b.year - ((r.month, r.day) < (b.month, b.day))
        if res.get("gender") in ("female", "male", "other", "unknown"):
            claimant["sex"] = res["gender"]
        if claimant:
            case["claimant"] = claimant

    def condition(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        status = [c.get("code") for c in ((res.get("verificationStatus") or {}).get("coding") or [])]
        if "refuted" in status or "entered-in-error" in status:
            self.problem(f"{path}.verificationStatus", "a refuted Condition is not read: record a documented "
                         "negative as an Observation with valueBoolean false")
            return
        codings = [c for c in (res.get("code") or {}).get("coding") or [] if isinstance(c, dict)]
        icd10 = next((str(c["code"]) for c in codings if c.get("system") == ICD10 and c.get("code")), None)
        entry: dict[str, Any] = {}
        mapped = None
        if icd10 is None or any(self.map.lookup(c.get("system"), c.get("code")) for c in codings):
            code, mapped = self.code(res.get("code"), f"{path}.code", MTUS.FindingCode, "a project finding code")
            if code is None:
                return
            entry["code"] = _local(code)
        if icd10 is not None:  # an ICD-10-CM code is kept as the diagnosis' icd10, mapped or not
            entry["icd10"] = icd10
        self.site(res.get("bodySite"), f"{path}.bodySite", mapped, entry)
        since = _date(res.get("onsetDateTime"))
        if since:
            entry["since"] = since
        self.extra(res, path, entry)
        case.setdefault("diagnoses", []).append(entry)

    def observation(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        code, mapped = self.code(res.get("code"), f"{path}.code", MTUS.FindingCode, "a project finding code")
        if code is None:
            return
        entry: dict[str, Any] = {"code": _local(code)}
        self.site(res.get("bodySite"), f"{path}.bodySite", mapped, entry)
        if isinstance(res.get("valueBoolean"), bool):
            entry["present"] = res["valueBoolean"]
        for i, category in enumerate(res.get("category") or []):
            found, _ = self.code(category, f"{path}.category[{i}]", MTUS.EvidenceSource, "a finding source")
            if found is not None:
                entry["source"] = _local(found)
                break
        day = _date(res.get("effectiveDateTime"))
        if day:
            entry["date"] = day
        notes = [str(n["text"]) for n in res.get("note") or [] if isinstance(n, dict) and n.get("text")]
        if notes:
            entry["note"] = " ".join(notes)
        self.extra(res, path, entry)
        case.setdefault("findings", []).append(entry)

    def procedure(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        entry: dict[str, Any] = {}
        self.extra(res, path, entry)
        mapped = None
        if res.get("code") is not None or "drug" not in entry:  # a drug course may carry no procedure code
            code, mapped = self.code(res.get("code"), f"{path}.code", MTUS.Service, "a project service code")
            if code is None:
                return
            entry["service"] = _local(code)
        self.site(res.get("bodySite"), f"{path}.bodySite", mapped, entry)
        status = _PROCEDURE_STATUS.get(res.get("status", ""))
        for ext in _ext(res, EXT_TREATMENT_STATUS):
            status = ext.get("valueCode") or status
        if status is None and res.get("status") != "unknown":
            self.problem(f"{path}.status", "expected completed, in-progress, stopped or on-hold (or the "
                         f"{EXT_TREATMENT_STATUS} extension)")
        else:
            entry["status"] = status
        period = res.get("performedPeriod") or {}
        for key, field in (("start", "start"), ("end", "end")):
            if _date(period.get(key)):
                entry[field] = _date(period.get(key))
        if _date(res.get("performedDateTime")):
            entry["start"] = _date(res.get("performedDateTime"))
        for ext in _ext(res, EXT_TREATMENT_OUTCOME):
            outcome = {}
            for sub in ext.get("extension") or []:
                value_keys = _OUTCOME_FIELDS.get(sub.get("url", ""))
                if value_keys is None:
                    self.problem(f"{path}.extension", f"treatment-outcome: expected parts named "
                                 f"{', '.join(_OUTCOME_FIELDS)}")
                    continue
                for key in value_keys:
                    if key in sub:
                        outcome[sub["url"]] = sub[key]
            entry["outcome"] = outcome
        case.setdefault("treatments", []).append(entry)

    def medication_statement(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        drug, _ = self.code(res.get("medicationCodeableConcept"), f"{path}.medicationCodeableConcept",
                            MTUS.Drug, "a project drug code (RxNorm ingredient)")
        if drug is None:
            return
        entry: dict[str, Any] = {"drug": _local(drug)}
        since = _date((res.get("effectivePeriod") or {}).get("start")) or _date(res.get("effectiveDateTime"))
        if since:
            entry["since"] = since
        self.extra(res, path, entry)
        case.setdefault("medications", []).append(entry)

    def study_report(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        kind, mapped = self.code(res.get("code"), f"{path}.code", MTUS.StudyKind, "a study kind (CPT or SNOMED)")
        if kind is None:
            return
        entry: dict[str, Any] = {"kind": _local(kind)}
        if mapped is not None and mapped.region is not None:
            entry["region"] = _local(mapped.region)
        day = _date(res.get("effectiveDateTime"))
        if day:
            entry["date"] = day
        findings: list[str] = []
        for i, concept in enumerate(res.get("conclusionCode") or []):
            flag = self.flag(concept)
            if flag is not None and flag.study_normal is not None:
                entry["normal"] = flag.study_normal
                continue
            found, _ = self.code(concept, f"{path}.conclusionCode[{i}]", MTUS.FindingCode, "a project finding code")
            if found is not None:
                findings.append(_local(found))
        entry["findings"] = findings
        self.extra(res, path, entry)
        case.setdefault("studies", []).append(entry)

    def imaging_study(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        series = res.get("series") or []
        modality = res.get("modality") or [s.get("modality") for s in series if isinstance(s, dict)]
        if not modality:
            self.problem(f"{path}.modality", "expected the study's modality (DICOM)")
            return
        kind, _ = self.code({"coding": [m for m in modality if isinstance(m, dict)]}, f"{path}.modality",
                            MTUS.StudyKind, "a study kind (DICOM modality)")
        if kind is None:
            return
        entry: dict[str, Any] = {"kind": _local(kind), "findings": []}
        site = next((s.get("bodySite") for s in series if isinstance(s, dict) and s.get("bodySite")), None)
        if site is not None:
            region, _ = self.code({"coding": [site]}, f"{path}.series[0].bodySite", MTUS.Region, "a body region")
            if region is not None:
                entry["region"] = _local(region)
        if _date(res.get("started")):
            entry["date"] = _date(res.get("started"))
        case.setdefault("studies", []).append(entry)

    def request(self, res: dict[str, Any], path: str, item: dict[str, Any] | None, item_path: str | None,
                ident: str) -> dict[str, Any] | None:
        """One requested item: from a ServiceRequest, a MedicationRequest or a Claim item (the item's
        own fields where the resource has none)."""
        out: dict[str, Any] = {"id": ident}
        mapped: codemap.Mapped | None = None
        if res.get("resourceType") == "MedicationRequest":
            drug, _ = self.code(res.get("medicationCodeableConcept"), f"{path}.medicationCodeableConcept",
                                MTUS.Drug, "a project drug code (RxNorm ingredient)")
            if drug is None:
                return None
            out.update(service="medication", drug=_local(drug))
            supply = res.get("dispenseRequest") or {}
            if isinstance((supply.get("quantity") or {}).get("value"), (int, float)):
                out.update(quantity=supply["quantity"]["value"], unit="units")
            if isinstance((supply.get("expectedSupplyDuration") or {}).get("value"), (int, float)):
                out["days_supply"] = supply["expectedSupplyDuration"]["value"]
            if _date(res.get("authoredOn")):
                out["prescribed_date"] = _date(res.get("authoredOn"))
            for dosage in res.get("dosageInstruction") or []:
                for rate in dosage.get("doseAndRate") or []:
                    dose = rate.get("doseQuantity") or {}
                    if dose.get("unit") == "mg" and isinstance(dose.get("value"), (int, float)):
                        out["dose_mg"] = dose["value"]
        elif res:
            service, mapped = self.code(res.get("code"), f"{path}.code", MTUS.Service, "a project service code")
            if service is None:
                return None
            out["service"] = _local(service)
            if isinstance((res.get("quantityQuantity") or {}).get("value"), (int, float)):
                out["quantity"] = res["quantityQuantity"]["value"]
            if _date(res.get("authoredOn")):
                out["request_date"] = _date(res.get("authoredOn"))
            if _date(res.get("occurrenceDateTime")):
                out["service_date"] = _date(res.get("occurrenceDateTime"))
        if item is not None and item_path is not None:
            if "service" not in out:
                service, mapped = self.code(item.get("productOrService"), f"{item_path}.productOrService",
                                            MTUS.Service, "a project service code")
                if service is None:
                    return None
                out["service"] = _local(service)
            if "quantity" not in out and isinstance((item.get("quantity") or {}).get("value"), (int, float)):
                out["quantity"] = item["quantity"]["value"]
            if _date(item.get("servicedDate")):
                out.setdefault("service_date", _date(item.get("servicedDate")))
        for node, where in ((item, item_path), (res, path)):
            quantity = (node or {}).get("quantityQuantity") or (node or {}).get("quantity") or {}
            if quantity.get("system") == codemap.PROJECT_SYSTEM and quantity.get("code"):
                out["unit"] = quantity["code"]
            self.extra(node, where, out)
        self.site((res or {}).get("bodySite") or (item or {}).get("bodySite"),
                  f"{path}.bodySite" if (res or {}).get("bodySite") else f"{item_path}.bodySite", mapped, out)
        for node, where in ((res, path), (item, item_path)):
            for ext in _ext(node or {}, EXT_UR):
                ur: dict[str, Any] = {}
                for sub in ext.get("extension") or []:
                    if sub.get("url") == "decision" and sub.get("valueCode"):
                        ur["decision"] = sub["valueCode"]
                    elif sub.get("url") == "date" and _date(sub.get("valueDate")):
                        ur["date"] = _date(sub.get("valueDate"))
                    elif sub.get("url") == "guideline-cited" and sub.get("valueString"):
                        ur["guideline_cited"] = sub["valueString"]
                    else:
                        self.problem(f"{where}.extension", "utilization-review: expected parts decision "
                                     "(valueCode), date (valueDate), guideline-cited (valueString)")
                out["ur"] = ur
        return out


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
    reader = _Reader(data, rb, source)
    entries = data.get("entry") or []
    index = _index(entries)
    review = _date(data.get("timestamp"))
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
        if _date(accident.get("date")):
            injury["date"] = _date(accident.get("date"))
        flag = reader.flag(accident.get("type"))
        if accident.get("type") is not None:
            if flag is None or flag.work_related is None:
                reader.problem(f"{path}.accident.type.coding[0]", "expected an incident type in the map "
                               "(HL7 v3 ActCode WPA: work place accident)")
            else:
                injury["work_related"] = flag.work_related
        regions = []
        for k, ext in enumerate(_ext(accident, EXT_INJURY_SITE)):
            region, _ = reader.code(ext.get("valueCodeableConcept"), f"{path}.accident.extension[{k}].valueCodeableConcept",
                                    MTUS.Region, "a body region")
            if region is not None:
                regions.append(_local(region))
        if regions:
            injury["body_regions"] = regions
        if injury:
            case["injury"] = injury
        reader.extra(claim, path, case)  # case fields FHIR has no element for (an injury without a date)
        for k, item in enumerate(claim.get("item") or []):
            item_path = f"{path}.item[{k}]"
            target: dict[str, Any] = {}
            target_path = item_path
            for ext in _ext(item, EXT_REQUESTED):
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
        elif kind not in _READ and kind not in _ADMINISTRATIVE:
            reader.problem(f"{path}.resourceType", f"a {kind} is not read (read: {', '.join(sorted(_READ))}; "
                           f"context only: {', '.join(sorted(_ADMINISTRATIVE))})")
    if not requests and not reader.problems:
        reader.problem("entry", "expected at least one requested item (Claim.item, ServiceRequest or "
                       "MedicationRequest)")
    case["requests"] = requests
    if reader.problems:
        raise IntakeError(source, reader.problems)
    return case
