"""What ``mtus impact`` reads from a store: the stored items a run selects (one SPARQL query,
filtered in the store), the case graph of each selected case, and the criterion states of the
stored items that changed. It only reads: the store is never changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from ..namespaces import local_name
from ..store import EmbeddedStore
from ..store.records import PROLOGUE, Backend
from ..store.sparql import term
from ..store.terms import to_ox


@dataclass(frozen=True)
class Filters:
    """Which stored items a run compares. ``section`` keeps the items whose applied section is
    that section in the store, or whose service is one of ``section_services`` (the services
    the section addresses, and the narrower ones, in either rule base): of those, the run
    reports the items that apply the section before or after."""

    service: URIRef | None = None
    section: URIRef | None = None
    section_services: tuple[URIRef, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def describe(self) -> dict[str, str]:
        """The filters given, as the user wrote them."""
        out = {"service": local_name(self.service) if self.service else None,
               "section": local_name(self.section) if self.section else None,
               "from": self.date_from.isoformat() if self.date_from else None,
               "to": self.date_to.isoformat() if self.date_to else None}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class StoredItem:
    """One stored item decision, with what identifies it in its case."""

    case_iri: str
    case_id: str
    request_iri: str
    request_id: str
    service: str
    decision: str
    section: str | None
    rationale: str


# The case graph is matched first, then the determination by the request it is about: Oxigraph
# joins the two graphs quickly in this order (binding ?case in the determination graph first
# makes it slow).
_SELECT = PROLOGUE + """SELECT ?case ?id ?request ?request_id ?service ?decision ?section ?rationale WHERE {
  GRAPH ?case { ?case a mtus:Case ; mtus:reviewDate ?review ; mtus:request ?request .
                ?request mtus:identifier ?request_id ; mtus:service ?service .
                OPTIONAL { ?case mtus:identifier ?id } }
  GRAPH ?d { ?item mtus:aboutRequest ?request ; mtus:decision ?decision ; mtus:rationale ?rationale .
             OPTIONAL { ?item mtus:appliedSection ?section } }
%s}"""

_STATES = PROLOGUE + """SELECT ?request ?criterion ?status WHERE {
  VALUES ?request { %s }
  GRAPH ?d { ?item mtus:aboutRequest ?request ; mtus:criterionResult ?top . ?top mtus:branch* ?result .
             ?result mtus:criterion ?criterion ; mtus:criterionStatus ?status }
}"""


def _where(filters: Filters) -> tuple[str, dict[str, Node]]:
    clauses: list[str] = []
    bindings: dict[str, Node] = {}
    if filters.service is not None:
        clauses.append("FILTER(?service = ?wanted_service)")
        bindings["wanted_service"] = filters.service
    if filters.section is not None:
        services = ", ".join(term(s) for s in filters.section_services)
        either = f" || ?service IN ({services})" if services else ""
        clauses.append(f"FILTER(?section = ?wanted_section{either})")
        bindings["wanted_section"] = filters.section
    if filters.date_from is not None:
        clauses.append("FILTER(?review >= ?date_from)")
        bindings["date_from"] = Literal(filters.date_from.isoformat(), datatype=XSD.date)
    if filters.date_to is not None:
        clauses.append("FILTER(?review <= ?date_to)")
        bindings["date_to"] = Literal(filters.date_to.isoformat(), datatype=XSD.date)
    return "".join(f"  {c}\n" for c in clauses), bindings


def _item_key(item: StoredItem) -> tuple[str, int, str]:
    rid = item.request_id
    return item.case_id, int(rid) if rid.isdigit() else 1 << 30, rid


def select(store: Backend, filters: Filters) -> list[StoredItem]:
    """The stored items that the filters select, by case id and request id."""
    where, bindings = _where(filters)
    items = []
    for case, ident, request, request_id, service, decision, section, text in store.select(
            _SELECT % where, bindings).rows:
        items.append(StoredItem(str(case), str(ident) if ident is not None else str(case), str(request),
                                str(request_id), local_name(service), local_name(decision),
                                local_name(section) if section is not None else None, str(text)))
    return sorted(items, key=_item_key)


_DIGESTS = PROLOGUE + "SELECT DISTINCT ?digest WHERE { GRAPH ?d { ?determination mtus:rulebaseDigest ?digest } }"


def digests(store: Backend) -> set[str]:
    """The digests of the rule bases that made the stored determinations."""
    return {str(row[0]) for row in store.select(_DIGESTS).rows}


def case_ntriples(store: Backend, case_iri: str) -> bytes:
    """The stored graph of one case, as N-Triples."""
    if isinstance(store, EmbeddedStore):
        return store.graph_ntriples(case_iri)
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {term(URIRef(case_iri))} {{ ?s ?p ?o }} }}").rows
    triples = [ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in rows]  # type: ignore[arg-type]
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def criterion_states(store: Backend, requests: Iterable[str], chunk: int = 400) -> dict[str, dict[str, str]]:
    """The stored state of every criterion (branches too) of the items about ``requests``:
    per request IRI, criterion id -> state."""
    wanted = sorted(set(requests))
    out: dict[str, dict[str, str]] = {r: {} for r in wanted}
    for start in range(0, len(wanted), chunk):
        values = " ".join(term(URIRef(r)) for r in wanted[start:start + chunk])
        for request, criterion, status in store.select(_STATES % values).rows:
            out[str(request)][local_name(criterion)] = local_name(status)
    return out
