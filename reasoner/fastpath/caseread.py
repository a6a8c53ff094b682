"""A case in the case format (a mapping, or a YAML / JSON file) as pyoxigraph triples; or a
case that already is triples (:class:`CaseTriples`: a case graph kept in a store).

A case file or mapping is read and checked by :mod:`reasoner.caseformat`, the one reader both
engines use (a case it refuses raises the same IntakeError on both). The mapping gets the same
node IRIs and JSON-LD context as in :mod:`reasoner.intake`, and Oxigraph's JSON-LD parser reads it (the differential test checks the triples equal rdflib's).
Day numbers are computed with rdflib's own date reading, as :func:`reasoner.intake.add_day_numbers`
does. Anything this reader is not sure to read exactly like the reference path returns None:
the caller then uses the reference path.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from .. import caseformat
from ..intake import _assign_ids, read_file
from ..namespaces import CASE, MTUS
from ..rulebase import RuleBase
from .terms import to_rdflib

_DAY_ZERO = dt.date(1, 1, 1)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_XSD_DATE = str(XSD.date)


@dataclass
class FastCase:
    """A case read for the fast path: its triples, root, and what a determination reports."""

    triples: list[ox.Triple]
    root: ox.NamedNode
    source: str
    input_hash: str
    expected: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseTriples:
    """A case given as its RDF triples (a stored case graph, as intake read it) and its root
    IRI. The fast path reads it as it is (it adds the day numbers, as for a case file); the
    reference path gets :meth:`graph`, and reads it as it reads any RDF graph."""

    root: str
    triples: list[ox.Triple]
    source: str = "(graph)"

    def graph(self) -> Graph:
        """The triples as an rdflib graph (the reference path's input)."""
        graph = Graph()
        for triple in self.triples:
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph


@dataclass(frozen=True)
class DayRules:
    """The day-number properties of the ontology: date property -> day property."""

    by_date: dict[str, ox.NamedNode]

    @classmethod
    def of(cls, rulebase: RuleBase) -> DayRules:
        return cls({str(date): ox.NamedNode(str(day))
                    for day, date in rulebase.ontology.subject_objects(MTUS.dayNumberOf)})


def read_mapping(data: dict[str, Any], rulebase: RuleBase, source: str, raw: bytes) -> FastCase | None:
    """The triples of a case mapping, or None when the reference path must read it."""
    doc = copy.deepcopy(data)
    expected = doc.pop("expected", None) or {}
    if not isinstance(expected, dict):
        return None
    case_id = doc.get("id")
    slug = urllib.parse.quote(str(case_id), safe="") if case_id not in (None, "") else "case"
    root = f"{CASE}{slug}"
    _assign_ids(doc, root, "", {})
    doc["@type"] = str(MTUS.Case)
    doc["@context"] = rulebase.context["@context"]
    try:
        text = json.dumps(doc)
        triples = [q.triple for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.JSON_LD)]
    except Exception:  # noqa: BLE001 - the reference path reports what is wrong with the case
        return None
    return FastCase(triples, ox.NamedNode(root), source, hashlib.sha256(raw).hexdigest(), expected)


def read_triples(case: CaseTriples) -> FastCase | None:
    """A case given as triples; None unless its one node of type mtus:Case is its root (the
    reference path then says what is wrong, as intake does for an RDF graph)."""
    case_type, kind = ox.NamedNode(str(MTUS.Case)), ox.NamedNode(str(RDF.type))
    roots = {t.subject for t in case.triples if t.predicate == kind and t.object == case_type}
    if roots != {ox.NamedNode(case.root)}:
        return None
    raw = ox.serialize(case.triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return FastCase(case.triples, ox.NamedNode(case.root), case.source, hashlib.sha256(raw).hexdigest())


def read(case: str | Path | dict[str, Any] | CaseTriples, rulebase: RuleBase) -> FastCase | None:
    """A case from a mapping, a YAML / JSON path or triples; None for anything else (or any
    doubt). Raises IntakeError for a case the case format refuses (as intake does)."""
    if isinstance(case, CaseTriples):
        return read_triples(case)
    if isinstance(case, dict):
        raw = json.dumps(case, sort_keys=True, default=str).encode()
        case = caseformat.mapping(case, rulebase, "(mapping)")  # a FHIR Bundle is read into a case here
        return read_mapping(case, rulebase, "(mapping)", raw)
    path = Path(case)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        return None
    raw, suffix = read_file(path)
    return read_mapping(caseformat.load(raw, suffix, rulebase, str(path)), rulebase, str(path), raw)


def day_numbers(triples: list[ox.Triple], days: DayRules) -> list[ox.Triple] | None:
    """The day number of every date, read the way rdflib reads it; None when a date is not
    plainly YYYY-MM-DD (rdflib and Oxigraph may then disagree on it)."""
    out: list[ox.Triple] = []
    integer = ox.NamedNode(str(XSD.integer))
    for triple in triples:
        obj = triple.object
        if isinstance(obj, ox.Literal) and obj.datatype.value == _XSD_DATE:
            if not _DATE.match(obj.value):
                return None
            try:
                dt.date.fromisoformat(obj.value)
            except ValueError:
                return None
        day_prop = days.by_date.get(triple.predicate.value)
        if day_prop is None or not isinstance(obj, ox.Literal) or obj.datatype.value != _XSD_DATE:
            continue
        value = Literal(obj.value, datatype=XSD.date)
        date = value.toPython()
        if value.ill_typed is False and isinstance(date, dt.date):
            out.append(ox.Triple(triple.subject, day_prop, ox.Literal(str((date - _DAY_ZERO).days), datatype=integer)))
    return out


def objects_of(triples: list[ox.Triple]) -> set[URIRef]:
    """The IRIs a case uses as values (its codes, and its own nodes)."""
    return {URIRef(t.object.value) for t in triples if isinstance(t.object, ox.NamedNode)}


def own_iris(case: FastCase) -> bool:
    """Whether every node the case describes is named under its own root (no blank nodes), so
    that it cannot share a node with another case of a batch."""
    root = case.root.value
    return all(isinstance(t.subject, ox.NamedNode) and (t.subject.value == root or t.subject.value.startswith(root + "/"))
               and not isinstance(t.object, ox.BlankNode) for t in case.triples)
