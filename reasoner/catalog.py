"""The guideline sections and criteria of kb/, read into frozen dataclasses.

The catalog holds the words a reader sees (statements, met / not met / not documented texts,
citations); the Python that renders decisions only assembles them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from .errors import RuleBaseError
from .namespaces import DCTERMS, MTUS, qname


@dataclass(frozen=True)
class Criterion:
    iri: URIRef
    order: str
    kind: URIRef
    statement: str
    shortfall: str
    met_text: str
    not_met_text: str
    not_documented_text: str
    not_applicable_text: str
    documentation_needed: str
    confirmed: bool
    confirmed_by: str
    pages: str
    branches: tuple[Criterion, ...]
    shapes: dict[URIRef, tuple[URIRef, ...]]

    def walk(self) -> list[Criterion]:
        """This criterion and its branches, depth first."""
        out = [self]
        for branch in self.branches:
            out += branch.walk()
        return out


@dataclass(frozen=True)
class SearchStep:
    iri: URIRef
    order: int
    label: str
    description: str


@dataclass(frozen=True)
class Section:
    iri: URIRef
    label: str
    document: URIRef
    document_title: str
    citation_title: str
    chapter: str
    pages: str
    summary: str
    effective_from: dt.date
    effective_until: dt.date | None
    services: tuple[URIRef, ...]
    regions: tuple[URIRef, ...]
    recognised_by: tuple[str, ...]
    search_step: SearchStep
    criteria: tuple[Criterion, ...]

    def all_criteria(self) -> list[Criterion]:
        out: list[Criterion] = []
        for criterion in self.criteria:
            out += criterion.walk()
        return out

    def shape_iris(self) -> list[URIRef]:
        """The section's shapes, each once (a shape may serve several of its criteria)."""
        return list(dict.fromkeys(s for c in self.all_criteria() for group in c.shapes.values() for s in group))

    def citation(self) -> str:
        pages = f" Page(s): {self.pages}" if self.pages else ""
        return f"{self.citation_title}, {self.label}{pages}"


@dataclass(frozen=True)
class Catalog:
    sections: dict[URIRef, Section]
    criteria: dict[URIRef, Criterion]
    thresholds: dict[URIRef, dict[str, Any]]


def _text(graph: Graph, node: Node, prop: URIRef, default: str = "") -> str:
    value = graph.value(node, prop)
    return str(value) if value is not None else default


def _require(graph: Graph, node: Node, prop: URIRef, files: dict[URIRef, str]) -> str:
    value = graph.value(node, prop)
    if value is None:
        where = files.get(node, "kb/") if isinstance(node, URIRef) else "kb/"
        raise RuleBaseError(f"{where}: {qname(node)}", f"missing {qname(prop)}")
    return str(value)


def _date(value: Node | None) -> dt.date | None:
    if isinstance(value, Literal) and isinstance(value.toPython(), dt.date):
        result: dt.date = value.toPython()
        return result
    return None


def _criterion(kb: Graph, shapes: Graph, node: URIRef, section_pages: str,
               files: dict[URIRef, str]) -> Criterion:
    branches = sorted(kb.objects(node, MTUS.branch), key=lambda b: str(kb.value(b, MTUS.order)))
    by_role: dict[URIRef, list[URIRef]] = {}
    for shape in shapes.subjects(MTUS.criterion, node):
        role = shapes.value(shape, MTUS.role)
        if isinstance(shape, URIRef) and isinstance(role, URIRef):
            by_role.setdefault(role, []).append(shape)
    for shape in shapes.subjects(MTUS.evidenceFor, node):
        if isinstance(shape, URIRef):
            by_role.setdefault(MTUS.Evidence, []).append(shape)
    kind = kb.value(node, MTUS.criterionKind)
    if not isinstance(kind, URIRef):
        raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}", "criterion has no mtus:criterionKind")
    if kind != MTUS.Alternatives and not by_role:
        raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}", "criterion has no shape in shapes/")
    return Criterion(
        iri=node,
        order=_text(kb, node, MTUS.order),
        kind=kind,
        statement=_require(kb, node, MTUS.statement, files),
        shortfall=_require(kb, node, MTUS.shortfall, files),
        met_text=_require(kb, node, MTUS.metText, files),
        not_met_text=_text(kb, node, MTUS.notMetText),
        not_documented_text=_text(kb, node, MTUS.notDocumentedText),
        not_applicable_text=_text(kb, node, MTUS.notApplicableText),
        documentation_needed=_text(kb, node, MTUS.documentationNeeded),
        confirmed=kb.value(node, MTUS.confirmation) == MTUS.Confirmed,
        confirmed_by=_text(kb, node, MTUS.confirmedBy),
        pages=_text(kb, node, MTUS.pages, section_pages),
        branches=tuple(_criterion(kb, shapes, b, section_pages, files) for b in branches
                       if isinstance(b, URIRef)),
        shapes={role: tuple(sorted(group)) for role, group in by_role.items()},
    )


def _step(kb: Graph, node: Node | None) -> SearchStep:
    if not isinstance(node, URIRef):
        raise RuleBaseError("kb/", "a guideline section has no mtus:searchStep")
    return SearchStep(node, int(str(kb.value(node, MTUS.stepOrder) or 99)),
                      _text(kb, node, RDFS.label), _text(kb, node, DCTERMS.description))


def build(kb: Graph, shapes: Graph, files: dict[URIRef, str]) -> Catalog:
    sections: dict[URIRef, Section] = {}
    criteria: dict[URIRef, Criterion] = {}
    for node in sorted(s for s in kb.subjects(RDF.type, MTUS.GuidelineSection) if isinstance(s, URIRef)):
        document = kb.value(node, MTUS.document)
        if not isinstance(document, URIRef):
            raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}", "section has no mtus:document")
        pages = _text(kb, node, MTUS.pages)
        crit_nodes = sorted((c for c in kb.objects(node, MTUS.criterion) if isinstance(c, URIRef)),
                            key=lambda c: float(str(kb.value(c, MTUS.order) or 0)))
        crits = tuple(_criterion(kb, shapes, c, pages, files) for c in crit_nodes
                      if isinstance(c, URIRef))
        start = _date(kb.value(node, MTUS.effectiveFrom))
        if start is None:
            raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}", "section has no mtus:effectiveFrom date")
        section = Section(
            iri=node,
            label=_require(kb, node, RDFS.label, files),
            document=document,
            document_title=_require(kb, document, RDFS.label, files),
            citation_title=_text(kb, document, MTUS.shortTitle, _text(kb, document, RDFS.label)),
            chapter=_text(kb, node, MTUS.chapter),
            pages=pages,
            summary=_require(kb, node, MTUS.summary, files),
            effective_from=start,
            effective_until=_date(kb.value(node, MTUS.effectiveUntil)),
            services=tuple(sorted(o for o in kb.objects(node, MTUS.addressesService) if isinstance(o, URIRef))),
            regions=tuple(sorted(o for o in kb.objects(node, MTUS.addressesRegion) if isinstance(o, URIRef))),
            recognised_by=tuple(sorted(str(o) for o in kb.objects(node, MTUS.recognisedBy))),
            search_step=_step(kb, kb.value(node, MTUS.searchStep)),
            criteria=crits,
        )
        sections[node] = section
        for crit in section.all_criteria():
            criteria[crit.iri] = crit
    thresholds: dict[URIRef, dict[str, Any]] = {}
    for threshold in kb.subjects(RDF.type, MTUS.Threshold):
        if isinstance(threshold, URIRef):
            node = threshold
            thresholds[node] = {
                "value": kb.value(node, MTUS.value),
                "unit": kb.value(node, MTUS.unitOfMeasure),
                "label": _text(kb, node, RDFS.label),
                "source": kb.value(node, DCTERMS.source),
            }
    return Catalog(sections, criteria, thresholds)
