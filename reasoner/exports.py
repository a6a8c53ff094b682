"""Determinations as JSON (the output sketch of case-format.md) and as RDF (Turtle), with
provenance (PROV-O): when, which rule-base version, digest and edition, and the SHA-256 of the
input case. In a store (reasoner.store) a determination's graph is named by its IRI and the
case facts by the case IRI, so that one case can be replaced or re-evaluated."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from .decisions import CriterionResult
from .determination import Determination, ItemDecision
from .namespaces import CODE, DETERMINATION, KB, MTUS, PREFIXES, PROV, local_name
from .texts import Texts

RULEBASE = "https://w3id.org/mtus/kb/rulebase/"
SOFTWARE = URIRef("https://w3id.org/mtus/software/mtus-reasoner")


def _criterion_json(result: CriterionResult, item: ItemDecision) -> dict[str, Any]:
    crit = result.criterion
    data: dict[str, Any] = {
        "id": local_name(crit.iri),
        "order": crit.order,
        "kind": local_name(crit.kind),
        "text": crit.statement,
        "status": result.status,
        "applicable": result.applicable,
        "confirmed": crit.confirmed,
        "pages": crit.pages,
        "evidence": [item.fact_text[f] for f in result.supporting + result.contradicting],
    }
    if result.unmet:
        data["shortfall"] = crit.shortfall
        data["documentation_needed"] = crit.documentation_needed
    if result.branches:
        data["branches"] = [_criterion_json(b, item) for b in result.branches]
    return data


def _item_json(item: ItemDecision, texts: Texts) -> dict[str, Any]:
    section = item.section
    data: dict[str, Any] = {
        "request": item.request_id,
        "service": local_name(item.service),
        "region": local_name(item.region) if item.region is not None else None,
        "decision": item.decision,
        "medically_necessary": item.medically_necessary,
        "guideline": None,
        "cited_as": item.cited_as,
        "edition": ({"id": local_name(item.edition), "label": texts.label(item.edition),
                     "date_key": local_name(item.date_key) if item.date_key is not None else None,
                     "rule_date": item.rule_date.isoformat() if item.rule_date else None}
                    if item.edition is not None else None),
        "ur_guideline_cited": item.ur_guideline_cited,
        "ur_guideline_mismatch": item.ur_guideline_mismatch,
        "criteria": [_criterion_json(r, item) for r in item.criteria],
        "unmet": [r.criterion.shortfall for r in item.unmet()],
        "documentation_needed": [r.criterion.documentation_needed for r in item.unmet()
                                 if r.criterion.documentation_needed and not r.branches],
        "flags": list(item.flags),
        "rationale": item.rationale,
        "requires_physician_review": item.requires_physician_review,
        "physician_review_reason": item.physician_review_reason or None,
    }
    if item.formulary is not None:
        data["formulary"] = item.formulary.as_json()
    if item.supported_quantity is not None:
        data["supported_quantity"] = item.supported_quantity.as_json()
    if section is not None:
        data["guideline"] = {
            "id": local_name(section.iri),
            "document": section.document_title,
            "citation": section.citation(),
            "section": section.label,
            "pages": section.pages,
            "effective_from": section.effective_from.isoformat(),
            "effective_until": section.effective_until.isoformat() if section.effective_until else None,
            "search_step": section.search_step.label,
            "search_step_order": section.search_step.order,
            "coverage": local_name(section.coverage) if section.coverage is not None else None,
            "coverage_note": section.coverage_note or None,
        }
        version = section.version_on(item.rule_date) if item.rule_date else None
        if version is not None:
            data["guideline"]["version"] = {"id": local_name(version.iri), "label": version.label,
                                            "cited_year": version.cited_year,
                                            "effective_from": version.effective_from.isoformat()}
    return data


def to_json_data(det: Determination, texts: Texts | None = None) -> dict[str, Any]:
    """The determination as JSON data: the one place a determination is serialised to JSON
    (Determination.to_dict, the CLI, the service)."""
    texts = texts or det.texts or _texts()
    return {
        "case": det.case_id,
        "review_date": det.review_date.isoformat(),
        "rulebase_version": det.rulebase_version,
        "rulebase_digest": det.rulebase_digest,
        "edition": {"id": local_name(det.edition), "label": det.edition_label} if det.edition else None,
        "input_sha256": det.input_hash,
        "generated_at": det.generated_at.isoformat(),
        "items": [_with_counterfactuals(_item_json(i, texts), det, i) for i in det.items],
        "requires_physician_review": det.requires_physician_review,
        "notice": texts("letter-physician-notice"),
    }


def _with_counterfactuals(data: dict[str, Any], det: Determination, item: ItemDecision) -> dict[str, Any]:
    """The item's verified counterfactuals, when the determination carries them."""
    if det.counterfactuals is not None:
        found = next((i for i in det.counterfactuals.items if i.request_id == item.request_id), None)
        if found is not None:
            data["counterfactuals"] = found.as_json()
    return data


def to_json(dets: list[Determination], texts: Texts | None = None) -> str:
    """Determinations as a JSON list, always (one case gives a list of one)."""
    data = [to_json_data(d, texts) for d in dets]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _texts() -> Texts:
    from . import rulebase

    rb = rulebase.get()
    return Texts(rb.kb, rb.closure, rb.catalog.writer)


def determination_iri(det: Determination) -> URIRef:
    """The determination's IRI, also the name of its graph in a store: one per case and input."""
    return URIRef(f"{DETERMINATION}{local_name(det.case_iri)}/{det.input_hash[:16]}")


def rulebase_iri(version: str) -> URIRef:
    """The rule base of a version, as a PROV entity and as the name of its graph in a store."""
    return URIRef(f"{RULEBASE}{version}")


def _result_node(out: list[tuple[URIRef, URIRef, Node]], parent: URIRef, result: CriterionResult,
                 item: ItemDecision) -> URIRef:
    add = out.append
    node = URIRef(f"{parent}/criterion/{local_name(result.criterion.iri)}")
    add((node, RDF.type, MTUS.CriterionResult))
    add((node, MTUS.criterion, result.criterion.iri))
    if item.section is not None:
        add((node, MTUS.appliedSection, item.section.iri))
    add((node, MTUS.criterionStatus, CODE[result.status]))
    add((node, MTUS.applicable, Literal(result.applicable)))
    for fact in result.supporting + result.contradicting:
        add((node, MTUS.evidence, fact.node if isinstance(fact.node, URIRef) else Literal(item.fact_text[fact])))
    for branch in result.branches:
        add((node, MTUS.branch, _result_node(out, node, branch, item)))
    return node


def section_version(item: ItemDecision) -> URIRef | None:
    """The document version the item was decided under (the one in force on its rule date)."""
    if item.section is None or item.rule_date is None:
        return None
    version = item.section.version_on(item.rule_date)
    return version.iri if version is not None else None
def _formulary_node(out: list[tuple[URIRef, URIRef, Node]], parent: URIRef, item: ItemDecision) -> None:
    """The formulary answer of an item: the rule applied (a kb node), the status, whether
    prospective review was required, the Drug List version applied and the sentence why."""
    answer = item.formulary
    assert answer is not None
    add = out.append
    node = URIRef(f"{parent}/formulary")
    add((parent, MTUS.formularyAnswer, node))
    add((node, RDF.type, MTUS.FormularyAnswer))
    add((node, MTUS.formularyRule, answer.rule_iri))
    add((node, MTUS.formularyStatus, MTUS[_STATUS[answer.status]]))
    if answer.prospective_review_required is not None:
        add((node, MTUS.prospectiveReviewRequired, Literal(answer.prospective_review_required)))
    if answer.list_version_iri is not None:
        add((node, MTUS.formularyListVersion, answer.list_version_iri))
    add((node, MTUS.rationale, Literal(answer.why)))


_STATUS = {"exempt": "Exempt", "non_exempt": "NonExempt", "unlisted": "Unlisted", "not_applicable": "OutsideFormulary"}


def _supported_quantity_node(out: list[tuple[URIRef, URIRef, Node]], parent: URIRef, item: ItemDecision) -> None:
    """The most the guideline supports of a request over a limit, and the criterion and
    threshold that set it."""
    quantity = item.supported_quantity
    assert quantity is not None
    node = URIRef(f"{parent}/supported-quantity")
    out.append((parent, MTUS.supportedQuantity, node))
    out.append((node, RDF.type, MTUS.SupportedQuantity))
    out.append((node, MTUS.supportedValue, Literal(quantity.value, datatype=XSD.decimal)))
    out.append((node, MTUS.requestedValue, Literal(quantity.requested, datatype=XSD.decimal)))
    out.append((node, MTUS.setByCriterion, quantity.criterion))
    out.append((node, MTUS.setByThreshold, quantity.threshold))
    if quantity.unit:
        out.append((node, MTUS.quantityUnit, CODE[quantity.unit]))
    out.append((node, RDFS.comment, Literal(quantity.text)))


def _counterfactual_nodes(out: list[tuple[URIRef, URIRef, Node]], parent: URIRef, det: Determination, item: ItemDecision) -> None:
    """The item's verified change sets: each change in case-format terms, with its template."""
    assert det.counterfactuals is not None
    found = next((i for i in det.counterfactuals.items if i.request_id == item.request_id), None)
    if found is None:
        return
    for n, change_set in enumerate(found.sets, 1):
        node = URIRef(f"{parent}/counterfactual/{n}")
        out.append((parent, MTUS.counterfactual, node))
        out.append((node, RDF.type, MTUS.ChangeSet))
        out.append((node, MTUS.verified, Literal(change_set.verified)))
        out.append((node, MTUS.turnsDecisionTo, CODE[change_set.turns_to]))
        out.append((node, RDFS.comment, Literal(change_set.text)))
        for criterion in change_set.satisfies:
            out.append((node, MTUS.satisfiesCriterion, KB[criterion]))
        for m, change in enumerate(change_set.changes, 1):
            cnode = URIRef(f"{node}/change/{m}")
            out.append((node, MTUS.change, cnode))
            out.append((cnode, RDF.type, MTUS.Change))
            out.append((cnode, MTUS.changeAction, Literal(change.action)))
            out.append((cnode, MTUS.changePath, Literal(change.path)))
            out.append((cnode, MTUS.changeValue, Literal(change.value_json)))
            out.append((cnode, MTUS.editTemplate, KB[change.template]))
            out.append((cnode, RDFS.comment, Literal(change.text)))


def to_graph(det: Determination, derived: Graph | None = None) -> Graph:
    """The determination as RDF with its provenance (PROV-O): generated when, by which activity
    using which case and which rule-base version (and digest), for which edition; each item
    decision names its request, the section and search step applied, and each criterion result
    its kb criterion and section. ``derived`` adds facts the analysts query (e.g. a derived
    morphine-equivalent dose) taken from the working graph."""
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    for triple in determination_triples(det):
        graph.add(triple)
    if derived is not None:
        graph += derived
    return graph


def determination_triples(det: Determination) -> list[tuple[URIRef, URIRef, Node]]:
    """The triples of ``to_graph`` (without derived facts), as a list (in the order written,
    duplicates possible): what a batch turns into quads without building an rdflib graph."""
    out: list[tuple[URIRef, URIRef, Node]] = []
    add = out.append
    root = determination_iri(det)
    when = Literal(det.generated_at.isoformat(), datatype=XSD.dateTime)
    add((root, RDF.type, MTUS.Determination))
    add((root, RDF.type, PROV.Entity))
    add((root, RDFS.label, Literal(f"Determination for case {det.case_id}")))
    add((root, PROV.wasDerivedFrom, det.case_iri))
    add((root, PROV.generatedAtTime, when))
    add((root, MTUS.rulebaseVersion, Literal(det.rulebase_version)))
    add((root, MTUS.rulebaseDigest, Literal(det.rulebase_digest)))
    add((root, MTUS.inputHash, Literal(det.input_hash)))
    add((root, MTUS.requiresPhysicianReview, Literal(det.requires_physician_review)))
    if det.edition is not None:
        add((root, MTUS.edition, det.edition))
    activity = URIRef(f"{root}/activity")
    add((root, PROV.wasGeneratedBy, activity))
    add((activity, RDF.type, PROV.Activity))
    add((activity, PROV.used, det.case_iri))
    add((activity, PROV.used, rulebase_iri(det.rulebase_version)))
    add((activity, PROV.endedAtTime, when))
    add((activity, PROV.wasAssociatedWith, SOFTWARE))
    for item in det.items:
        node = URIRef(f"{root}/item/{urllib.parse.quote(item.request_id, safe='')}")
        add((root, MTUS.itemDecision, node))
        add((node, RDF.type, MTUS.ItemDecision))
        add((node, MTUS.aboutRequest, item.request))
        add((node, MTUS.decision, CODE[item.decision]))
        add((node, MTUS.urGuidelineMismatch, Literal(item.ur_guideline_mismatch)))
        add((node, MTUS.rationale, Literal(item.rationale)))
        add((node, MTUS.citedGuideline, Literal(item.cited_as)))
        add((node, MTUS.requiresPhysicianReview, Literal(item.requires_physician_review)))
        if item.physician_review_reason:
            add((node, MTUS.physicianReviewReason, Literal(item.physician_review_reason)))
        if item.edition is not None and item.rule_date is not None:
            add((node, MTUS.appliedEdition, item.edition))
            add((node, MTUS.appliedRuleDate, Literal(item.rule_date)))
            if item.date_key is not None:
                add((node, MTUS.appliedDateKey, item.date_key))
        if item.section is not None:
            version = section_version(item)
            if version is not None:
                add((node, MTUS.appliedVersion, version))
            add((node, MTUS.appliedSection, item.section.iri))
            add((node, MTUS.searchStep, item.section.search_step.iri))
        for result in item.criteria:
            add((node, MTUS.criterionResult, _result_node(out, node, result, item)))
        if item.formulary is not None:
            _formulary_node(out, node, item)
        if item.supported_quantity is not None:
            _supported_quantity_node(out, node, item)
        if det.counterfactuals is not None:
            _counterfactual_nodes(out, node, det, item)
    return out


def derived_facts(working: Graph, case_iri: URIRef, properties: tuple[URIRef, ...]) -> Graph:
    """The triples of the working graph with one of ``properties`` about a node of the case."""
    prefix = str(case_iri)
    facts = Graph()
    for prop in properties:
        for subject, value in working.subject_objects(prop):
            if isinstance(subject, URIRef) and (subject == case_iri or str(subject).startswith(prefix + "/")):
                facts.add((subject, prop, value))
    return facts


def to_turtle(dets: list[Determination]) -> str:
    graph = Graph()
    for det in dets:
        graph += to_graph(det)
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    return graph.serialize(format="turtle")
