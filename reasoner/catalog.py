"""The guideline sections and criteria of kb/, read into frozen dataclasses.

The catalog holds the words a reader sees (statements, met / not met / not documented texts,
citations); the Python that renders decisions only assembles them. The texts of kb/ name
thresholds by placeholders (reasoner/thresholds.py): :meth:`Catalog.in_force` gives a section
as in force on a rule date, its texts filled with the values then in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from . import thresholds as thresholds_module
from .errors import RuleBaseError
from .kinds import Kind, Step
from .namespaces import DCTERMS, MTUS, qname
from .shapes import bounded_by
from .thresholds import Threshold, Writer

#: the criterion texts, by field name, and the kb property each comes from
TEXTS = {"statement": MTUS.statement, "shortfall": MTUS.shortfall, "met_text": MTUS.metText,
         "not_met_text": MTUS.notMetText, "not_documented_text": MTUS.notDocumentedText,
         "not_applicable_text": MTUS.notApplicableText, "documentation_needed": MTUS.documentationNeeded}


@dataclass(frozen=True)
class Criterion:
    iri: URIRef
    order: str
    kind: URIRef
    reading: tuple[Step, ...]
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
    #: thresholds its shapes compare with (the bounds a record value is compared with)
    compared: tuple[URIRef, ...] = ()
    #: thresholds its texts name
    named: tuple[URIRef, ...] = ()
    #: the values of ``compared`` in force (set when the section is taken as in force on a date)
    bounds: tuple[object, ...] = ()
    #: the upper limits its contradiction shapes set on a property of the request: (path,
    #: threshold, annotation), what a supported quantity is read from (reasoner.quantity)
    limits: tuple[tuple[URIRef, URIRef, URIRef], ...] = ()

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
    #: the presentation text (its name in kb/presentation.ttl) an item decided at this step is
    #: cited by, when the step names one (mtus:citedAs)
    cited_as: str = ""


@dataclass(frozen=True)
class DocumentVersion:
    """A dated version of a guideline document (kb/documents-acoem.ttl): the first day of
    service under it and the year determinations cite it by."""

    iri: URIRef
    effective_from: dt.date
    cited_year: str
    label: str


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
    #: the dated versions of its document, oldest first (empty: the document is cited as one)
    versions: tuple[DocumentVersion, ...] = ()
    #: the presentation text its document is cited by (mtus:citedAs of the document), if any
    cited_as: str = ""
    #: the threshold values it was taken with (threshold, first day of the value); empty for
    #: the catalog's templates
    values_key: tuple[tuple[URIRef, dt.date], ...] = ()
    #: its coverage (mtus:Complete, mtus:Partial; None: not declared), what it leaves out and
    #: the presentation text that gives the reason an item it certifies goes to a physician
    #: reviewer (the coverage's mtus:reviewReason; empty: none)
    coverage: URIRef | None = None
    coverage_note: str = ""
    review_reason: str = ""
    #: the text that closes the rationale of a certified item (the coverage's
    #: mtus:overturnedConclusion; default: the general conclusion)
    overturned_conclusion: str = "conclusion-overturned"

    def thresholds(self) -> set[URIRef]:
        """Every threshold its shapes and texts use."""
        out = thresholds_module.named(self.summary)
        for crit in self.all_criteria():
            out |= set(crit.compared) | set(crit.named)
        return out

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

    def version_on(self, day: dt.date) -> DocumentVersion | None:
        """The version of its document in force on ``day`` (the latest whose first day is on
        or before it), if the document has dated versions."""
        found = None
        for version in self.versions:
            if version.effective_from <= day:
                found = version
        return found


@dataclass(frozen=True)
class Catalog:
    sections: dict[URIRef, Section]
    criteria: dict[URIRef, Criterion]
    thresholds: dict[URIRef, Threshold]
    kinds: dict[URIRef, Kind]
    writer: Writer
    files: dict[URIRef, str] = field(default_factory=dict)
    _in_force: dict[tuple[URIRef, tuple[tuple[URIRef, dt.date], ...]], Section] = field(default_factory=dict)

    def values_key(self, section: Section, day: dt.date) -> tuple[tuple[URIRef, dt.date], ...]:
        """The values in force on ``day`` of the thresholds the section uses."""
        out = []
        for iri in sorted(section.thresholds()):
            threshold = self.thresholds.get(iri)
            value = threshold.on(day) if threshold else None
            if value is not None:
                out.append((iri, value.start))
        return tuple(out)

    def in_force(self, iri: URIRef, day: dt.date) -> Section:
        """The section as in force on ``day``: its texts filled with the threshold values then
        in force, each criterion's bounds set."""
        template = self.sections[iri]
        key = (iri, self.values_key(template, day))
        found = self._in_force.get(key)
        if found is None:
            where = f"{self.files.get(iri, 'kb/')}: {qname(iri)}"
            found = replace(template, summary=self.writer.fill(template.summary, day, where),
                            criteria=tuple(self._fill(c, day) for c in template.criteria), values_key=key[1])
            self._in_force[key] = found
        return found

    def as_of(self, iri: URIRef, day: dt.date) -> Section:
        """The section as in force on ``day``, or, when it is not in force then, on the day of
        its period nearest to it (to show a section that was not chosen)."""
        template = self.sections[iri]
        if day < template.effective_from:
            day = template.effective_from
        elif template.effective_until is not None and day > template.effective_until:
            day = template.effective_until
        return self.in_force(iri, day)

    def _fill(self, crit: Criterion, day: dt.date) -> Criterion:
        where = f"{self.files.get(crit.iri, 'kb/')}: {qname(crit.iri)}"
        texts: dict[str, Any] = {name: self.writer.fill(getattr(crit, name), day, where) for name in TEXTS}
        bounds = []
        for iri in crit.compared:
            value = self.thresholds[iri].on(day) if iri in self.thresholds else None
            if value is not None:
                bounds.append(value.value.toPython())
        return replace(crit, **texts, bounds=tuple(bounds),
                       branches=tuple(self._fill(b, day) for b in crit.branches))


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
               files: dict[URIRef, str], kinds: dict[URIRef, Kind]) -> Criterion:
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
    if kind not in kinds:
        raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}",
                            f"{qname(kind)} is not a criterion kind (one of "
                            + ", ".join(qname(k) for k in sorted(kinds)) + ")")
    if not kinds[kind].requires_branches and not by_role:
        raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}", "criterion has no shape in shapes/")
    texts = {name: _text(kb, node, prop) for name, prop in TEXTS.items()}
    named: set[URIRef] = set()
    for text in texts.values():
        named |= thresholds_module.named(text)
    return Criterion(
        iri=node,
        order=_text(kb, node, MTUS.order),
        kind=kind,
        reading=kinds[kind].reading,
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
        branches=tuple(_criterion(kb, shapes, b, section_pages, files, kinds) for b in branches
                       if isinstance(b, URIRef)),
        shapes={role: tuple(sorted(group)) for role, group in by_role.items()},
        compared=tuple(sorted(bounded_by(shapes, (s for role, group in by_role.items() if role != MTUS.Evidence
                                                  for s in group)))),
        named=tuple(sorted(named)),
        limits=_limits(shapes, by_role.get(MTUS.Contradiction, ())),
    )


def _limits(shapes: Graph, contradiction: list[URIRef] | tuple[URIRef, ...]) -> tuple[tuple[URIRef, URIRef, URIRef], ...]:
    """(path, threshold, annotation) of each upper bound a contradiction shape puts directly
    on a property of the requested item (not through a qualified or nested shape)."""
    out = set()
    for shape in contradiction:
        for prop in shapes.objects(shape, SH.property):
            path = shapes.value(prop, SH.path)
            for annotation in (MTUS.maxInclusiveFrom, MTUS.maxExclusiveFrom):
                threshold = shapes.value(prop, annotation)
                if isinstance(path, URIRef) and isinstance(threshold, URIRef):
                    out.add((path, threshold, annotation))
    return tuple(sorted(out))


def _step(kb: Graph, node: Node | None) -> SearchStep:
    if not isinstance(node, URIRef):
        raise RuleBaseError("kb/", "a guideline section has no mtus:searchStep")
    return SearchStep(node, int(str(kb.value(node, MTUS.stepOrder) or 99)),
                      _text(kb, node, RDFS.label), _text(kb, node, DCTERMS.description),
                      _text_name(kb.value(node, MTUS.citedAs)))


def _text_name(node: Node | None) -> str:
    """The name by which reasoner.texts.Texts finds a presentation text node (kb:text-NAME)."""
    name = str(node).rsplit("/", 1)[-1] if isinstance(node, URIRef) else ""
    return name.removeprefix("text-")


def _coverage(kb: Graph, node: URIRef) -> dict[str, Any]:
    """The section's coverage, its note, and the review-reason text its coverage names."""
    coverage = kb.value(node, MTUS.coverage)
    if not isinstance(coverage, URIRef):
        return {}
    return {"coverage": coverage, "coverage_note": _text(kb, node, MTUS.coverageNote),
            "review_reason": _text_name(kb.value(coverage, MTUS.reviewReason)),
            "overturned_conclusion": _text_name(kb.value(coverage, MTUS.overturnedConclusion)) or "conclusion-overturned"}


def _versions(kb: Graph, document: URIRef, files: dict[URIRef, str]) -> tuple[DocumentVersion, ...]:
    out = []
    for node in kb.objects(document, MTUS.version):
        start = _date(kb.value(node, MTUS.effectiveFrom))
        if not isinstance(node, URIRef) or start is None:
            raise RuleBaseError(f"{files.get(document, 'kb/')}: {qname(document)}",
                                "a mtus:version without its mtus:effectiveFrom date")
        out.append(DocumentVersion(node, start, _require(kb, node, MTUS.citedYear, files),
                                   _require(kb, node, RDFS.label, files)))
    return tuple(sorted(out, key=lambda v: v.effective_from))


def build(kb: Graph, shapes: Graph, files: dict[URIRef, str], kinds: dict[URIRef, Kind],
          thresholds: dict[URIRef, Threshold], writer: Writer) -> Catalog:
    sections: dict[URIRef, Section] = {}
    criteria: dict[URIRef, Criterion] = {}
    for node in sorted(s for s in kb.subjects(RDF.type, MTUS.GuidelineSection) if isinstance(s, URIRef)):
        document = kb.value(node, MTUS.document)
        if not isinstance(document, URIRef):
            raise RuleBaseError(f"{files.get(node, 'kb/')}: {qname(node)}", "section has no mtus:document")
        pages = _text(kb, node, MTUS.pages)
        crit_nodes = sorted((c for c in kb.objects(node, MTUS.criterion) if isinstance(c, URIRef)),
                            key=lambda c: float(str(kb.value(c, MTUS.order) or 0)))
        crits = tuple(_criterion(kb, shapes, c, pages, files, kinds) for c in crit_nodes
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
            recognised_by=tuple(sorted(str(o) for n in (node, document) for o in kb.objects(n, MTUS.recognisedBy))),
            search_step=_step(kb, kb.value(node, MTUS.searchStep)),
            criteria=crits,
            versions=_versions(kb, document, files),
            cited_as=_text_name(kb.value(document, MTUS.citedAs)),
            **_coverage(kb, node),
        )
        sections[node] = section
        for crit in section.all_criteria():
            criteria[crit.iri] = crit
    return Catalog(sections, criteria, thresholds, kinds, writer, dict(files))
