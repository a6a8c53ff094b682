"""A determination as FHIR R4: a ClaimResponse (Da Vinci PAS-style item adjudication) and its
audit trail as a Provenance, in a Bundle (``mtus evaluate --format fhir``).

Per requested item: ``itemSequence`` (the request id when it is a number, else its position), an
extension per fact of the decision (decision, the guideline as cited, the edition, and one per
criterion with its IRI, state and text), one adjudication per unmet criterion (category: the
decision; reason: the criterion, its shortfall as display), and a process note with the
rationale. The Provenance names the rule base (version and digest), the engine, the agent, the
time and the input's hash; its policy lists the sections applied.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import __version__
from ..decisions import CriterionResult
from ..determination import Determination, ItemDecision
from ..rulebase import RuleBase
from ..texts import Texts
from .codemap import PROJECT_SYSTEM
from .dtr import _instant, resource_id

EXT = "https://w3id.org/mtus/fhir/StructureDefinition/"
DECISION_SYSTEM = "https://w3id.org/mtus/fhir/CodeSystem/decision"
CRITERION_SYSTEM = "https://w3id.org/mtus/kb/"
CRITERION_STATE_SYSTEM = "https://w3id.org/mtus/fhir/CodeSystem/criterion-status"


def urn(case_id: str, name: str) -> str:
    """A stable urn:uuid for a resource of a case (a name-based UUID)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'https://w3id.org/mtus/case/{case_id}/{name}')}"


def _criterion_ext(result: CriterionResult) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "criterion", "valueUri": str(result.criterion.iri)},
        {"url": "status", "valueCode": str(result.status)},
        {"url": "text", "valueString": result.criterion.statement},
    ]
    parts += [{"url": "branch", "valueUri": str(b.criterion.iri)} for b in result.branches]
    return {"url": EXT + "criterion", "extension": parts}


def _item(item: ItemDecision, position: int, note: int, texts: Texts) -> dict[str, Any]:
    decision = {"coding": [{"system": DECISION_SYSTEM, "code": str(item.decision)}]}
    extensions: list[dict[str, Any]] = [
        {"url": EXT + "decision", "valueCode": str(item.decision)},
        {"url": EXT + "medically-necessary", "valueBoolean": item.medically_necessary},
        {"url": EXT + "service", "valueCoding": {"system": PROJECT_SYSTEM, "code": str(item.service).rsplit("/", 1)[-1]}},
        {"url": EXT + "guideline", "valueString": item.cited_as},
    ]
    if item.section is not None:
        extensions.append({"url": EXT + "section", "valueUri": str(item.section.iri)})
    if item.edition is not None:
        extensions.append({"url": EXT + "edition", "valueUri": str(item.edition)})
    if item.ur_guideline_mismatch:
        extensions += [{"url": EXT + "flag", "valueString": flag} for flag in item.flags]
    extensions += [_criterion_ext(r) for r in item.criteria]
    unmet = item.unmet()
    adjudication = [{"category": decision,
                     "reason": {"coding": [{"system": CRITERION_SYSTEM, "code": str(r.criterion.iri).rsplit("/", 1)[-1],
                                            "display": r.criterion.shortfall or r.criterion.statement}]}}
                    for r in unmet] or [{"category": decision}]
    sequence = int(item.request_id) if item.request_id.isdigit() and int(item.request_id) > 0 else position
    return {"extension": extensions, "itemSequence": sequence, "noteNumber": [note], "adjudication": adjudication}


def claim_response(det: Determination, rb: RuleBase) -> dict[str, Any]:
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    ident = resource_id(det.case_id)
    items, notes = [], []
    for k, item in enumerate(det.items, 1):
        items.append(_item(item, k, k, texts))
        notes.append({"number": k, "type": "display", "text": item.rationale})
    return {
        "resourceType": "ClaimResponse", "id": f"{ident}-determination", "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "preauthorization",
        "patient": {"identifier": {"system": "https://w3id.org/mtus/case", "value": det.case_id}},
        "created": _instant(det.generated_at),
        "insurer": {"display": texts("fhir-insurer")},
        "request": {"identifier": {"system": "https://w3id.org/mtus/case", "value": det.case_id}},
        "outcome": "complete",
        "disposition": texts("letter-physician-notice"),
        "item": items,
        "processNote": notes,
    }


def provenance(det: Determination, rb: RuleBase, engine: str, target: str) -> dict[str, Any]:
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    sections = sorted({str(i.section.iri) for i in det.items if i.section is not None})
    return {
        "resourceType": "Provenance", "id": f"{resource_id(det.case_id)}-provenance",
        "target": [{"reference": target}],
        "recorded": _instant(det.generated_at),
        "policy": sections,
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}]},
        "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                        "code": "assembler"}]},
                   "who": {"display": texts("fhir-agent", version=__version__, engine=engine)}}],
        "entity": [
            {"role": "source", "what": {"identifier": {"system": "https://w3id.org/mtus/rulebase",
                                                       "value": f"{det.rulebase_version} sha256:{det.rulebase_digest}"}}},
            {"role": "source", "what": {"identifier": {"system": "https://w3id.org/mtus/case-input-sha256",
                                                       "value": det.input_hash}}},
        ],
    }


def bundle(dets: list[Determination], rb: RuleBase, engine: str = "fast") -> dict[str, Any]:
    """Each determination's ClaimResponse and Provenance in one collection Bundle."""
    entries: list[dict[str, Any]] = []
    for det in dets:
        response = claim_response(det, rb)
        url = urn(det.case_id, "claimresponse")
        entries.append({"fullUrl": url, "resource": response})
        entries.append({"fullUrl": urn(det.case_id, "provenance"),
                        "resource": provenance(det, rb, engine, url)})
    stamp = max((d.generated_at for d in dets), default=None)
    out: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    if stamp is not None:
        out["timestamp"] = _instant(stamp)
    return out
