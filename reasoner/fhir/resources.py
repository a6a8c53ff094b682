"""The readers of the resources of a case Bundle, one method per resource type: each turns its
resource into case-format fields, mapping every code through the code map and noting a problem,
with its path in the Bundle, for what it cannot read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdflib import URIRef

from ..errors import Problem
from ..namespaces import MTUS
from ..rulebase import RuleBase
from . import codemap
from .profile import (
    EXT_FIELD,
    EXT_LATERALITY,
    EXT_TREATMENT_OUTCOME,
    EXT_TREATMENT_STATUS,
    EXT_UR,
    ICD10,
    OUTCOME_FIELDS,
    PROCEDURE_STATUS,
    case_fields,
    date_of,
    extensions,
    list_fields,
    local,
)


class Reader:
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
                for name, value in case_fields(ext, self.lists, f"{path}.extension[{k}]", self).items():
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
            for i, ext in enumerate(extensions(site, EXT_LATERALITY)):
                side, _ = self.code(ext.get("valueCodeableConcept"), f"{path}[0].extension[{i}].valueCodeableConcept",
                                    MTUS.Laterality, "a laterality")
                laterality = side or laterality
        if region is not None:
            out["region"] = local(region)
        if laterality is not None:
            out["laterality"] = local(laterality)

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
        birth = date_of(res.get("birthDate"))
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
            entry["code"] = local(code)
        if icd10 is not None:  # an ICD-10-CM code is kept as the diagnosis' icd10, mapped or not
            entry["icd10"] = icd10
        self.site(res.get("bodySite"), f"{path}.bodySite", mapped, entry)
        since = date_of(res.get("onsetDateTime"))
        if since:
            entry["since"] = since
        self.extra(res, path, entry)
        case.setdefault("diagnoses", []).append(entry)

    def observation(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        code, mapped = self.code(res.get("code"), f"{path}.code", MTUS.FindingCode, "a project finding code")
        if code is None:
            return
        entry: dict[str, Any] = {"code": local(code)}
        self.site(res.get("bodySite"), f"{path}.bodySite", mapped, entry)
        if isinstance(res.get("valueBoolean"), bool):
            entry["present"] = res["valueBoolean"]
        for i, category in enumerate(res.get("category") or []):
            found, _ = self.code(category, f"{path}.category[{i}]", MTUS.EvidenceSource, "a finding source")
            if found is not None:
                entry["source"] = local(found)
                break
        day = date_of(res.get("effectiveDateTime"))
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
            entry["service"] = local(code)
        self.site(res.get("bodySite"), f"{path}.bodySite", mapped, entry)
        status = PROCEDURE_STATUS.get(res.get("status", ""))
        for ext in extensions(res, EXT_TREATMENT_STATUS):
            status = ext.get("valueCode") or status
        if status is None and res.get("status") != "unknown":
            self.problem(f"{path}.status", "expected completed, in-progress, stopped or on-hold (or the "
                         f"{EXT_TREATMENT_STATUS} extension)")
        else:
            entry["status"] = status
        period = res.get("performedPeriod") or {}
        for key, field in (("start", "start"), ("end", "end")):
            if date_of(period.get(key)):
                entry[field] = date_of(period.get(key))
        if date_of(res.get("performedDateTime")):
            entry["start"] = date_of(res.get("performedDateTime"))
        for ext in extensions(res, EXT_TREATMENT_OUTCOME):
            outcome = {}
            for sub in ext.get("extension") or []:
                value_keys = OUTCOME_FIELDS.get(sub.get("url", ""))
                if value_keys is None:
                    self.problem(f"{path}.extension", f"treatment-outcome: expected parts named "
                                 f"{', '.join(OUTCOME_FIELDS)}")
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
        entry: dict[str, Any] = {"drug": local(drug)}
        since = date_of((res.get("effectivePeriod") or {}).get("start")) or date_of(res.get("effectiveDateTime"))
        if since:
            entry["since"] = since
        self.extra(res, path, entry)
        case.setdefault("medications", []).append(entry)

    def study_report(self, res: dict[str, Any], path: str, case: dict[str, Any]) -> None:
        kind, mapped = self.code(res.get("code"), f"{path}.code", MTUS.StudyKind, "a study kind (CPT or SNOMED)")
        if kind is None:
            return
        entry: dict[str, Any] = {"kind": local(kind)}
        if mapped is not None and mapped.region is not None:
            entry["region"] = local(mapped.region)
        day = date_of(res.get("effectiveDateTime"))
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
                findings.append(local(found))
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
        entry: dict[str, Any] = {"kind": local(kind), "findings": []}
        site = next((s.get("bodySite") for s in series if isinstance(s, dict) and s.get("bodySite")), None)
        if site is not None:
            region, _ = self.code({"coding": [site]}, f"{path}.series[0].bodySite", MTUS.Region, "a body region")
            if region is not None:
                entry["region"] = local(region)
        if date_of(res.get("started")):
            entry["date"] = date_of(res.get("started"))
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
            out.update(service="medication", drug=local(drug))
            supply = res.get("dispenseRequest") or {}
            if isinstance((supply.get("quantity") or {}).get("value"), (int, float)):
                out.update(quantity=supply["quantity"]["value"], unit="units")
            if isinstance((supply.get("expectedSupplyDuration") or {}).get("value"), (int, float)):
                out["days_supply"] = supply["expectedSupplyDuration"]["value"]
            if date_of(res.get("authoredOn")):
                out["prescribed_date"] = date_of(res.get("authoredOn"))
            for dosage in res.get("dosageInstruction") or []:
                for rate in dosage.get("doseAndRate") or []:
                    dose = rate.get("doseQuantity") or {}
                    if dose.get("unit") == "mg" and isinstance(dose.get("value"), (int, float)):
                        out["dose_mg"] = dose["value"]
        elif res:
            service, mapped = self.code(res.get("code"), f"{path}.code", MTUS.Service, "a project service code")
            if service is None:
                return None
            out["service"] = local(service)
            if isinstance((res.get("quantityQuantity") or {}).get("value"), (int, float)):
                out["quantity"] = res["quantityQuantity"]["value"]
            if date_of(res.get("authoredOn")):
                out["request_date"] = date_of(res.get("authoredOn"))
            if date_of(res.get("occurrenceDateTime")):
                out["service_date"] = date_of(res.get("occurrenceDateTime"))
        if item is not None and item_path is not None:
            if "service" not in out:
                service, mapped = self.code(item.get("productOrService"), f"{item_path}.productOrService",
                                            MTUS.Service, "a project service code")
                if service is None:
                    return None
                out["service"] = local(service)
            if "quantity" not in out and isinstance((item.get("quantity") or {}).get("value"), (int, float)):
                out["quantity"] = item["quantity"]["value"]
            if date_of(item.get("servicedDate")):
                out.setdefault("service_date", date_of(item.get("servicedDate")))
        for node, where in ((item, item_path), (res, path)):
            quantity = (node or {}).get("quantityQuantity") or (node or {}).get("quantity") or {}
            if quantity.get("system") == codemap.PROJECT_SYSTEM and quantity.get("code"):
                out["unit"] = quantity["code"]
            self.extra(node, where, out)
        self.site((res or {}).get("bodySite") or (item or {}).get("bodySite"),
                  f"{path}.bodySite" if (res or {}).get("bodySite") else f"{item_path}.bodySite", mapped, out)
        for node, where in ((res, path), (item, item_path)):
            for ext in extensions(node or {}, EXT_UR):
                ur: dict[str, Any] = {}
                for sub in ext.get("extension") or []:
                    if sub.get("url") == "decision" and sub.get("valueCode"):
                        ur["decision"] = sub["valueCode"]
                    elif sub.get("url") == "date" and date_of(sub.get("valueDate")):
                        ur["date"] = date_of(sub.get("valueDate"))
                    elif sub.get("url") == "guideline-cited" and sub.get("valueString"):
                        ur["guideline_cited"] = sub["valueString"]
                    else:
                        self.problem(f"{where}.extension", "utilization-review: expected parts decision "
                                     "(valueCode), date (valueDate), guideline-cited (valueString)")
                out["ur"] = ur
        return out

