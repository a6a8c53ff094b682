"""What a store holds, whatever its engine, and the operations batch, query and impact need.

Named graphs:
- ``<https://w3id.org/mtus/kb/rulebase/VERSION>``: the rule base (closed ontology and kb/),
  once per version, so queries can join criteria (citations, thresholds, confirmation) with
  outcomes; its node records the version and the digest of the files;
- ``<case IRI>``: the facts of one case, as intake read them;
- ``<determination IRI>``: the determination of that case (exports.to_graph);
- ``<https://w3id.org/mtus/store/summary>``: per item decision, the facts the analysts' queries
  join on (summary.py), written and replaced with its determination.
- ``<https://w3id.org/mtus/store/tally>``: counts of the summary for the counting queries,
  recomputed when ``<https://w3id.org/mtus/store/state>``'s generation, raised by every write,
  is not the one it was computed at (tally.py).
A case has one current determination: storing a case drops its old determination graphs, their
summary and its case graph and inserts the new ones in a single SPARQL update (one
transaction), so a killed batch leaves each case either wholly stored or not at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF
from rdflib.term import Node

from ..exports import SOFTWARE, rulebase_iri
from ..namespaces import KB, MTUS, PROV
from ..rulebase import RuleBase
from . import summary, tally
from .sparql import term
from .terms import QueryResult, triples_to_ox

PROLOGUE = ("PREFIX mtus: <https://w3id.org/mtus/ontology#>\n"
            "PREFIX prov: <http://www.w3.org/ns/prov#>\n")


@dataclass(frozen=True)
class CaseRecord:
    """One evaluated case, ready to store (plain data, so that it crosses process boundaries)."""

    source: str
    case_id: str
    case_iri: str
    determination_iri: str
    input_hash: str
    rulebase_digest: str
    case_ntriples: str
    determination_ntriples: str
    decisions: tuple[tuple[str, str, str], ...]  # (request id, service code, decision)


class Backend(Protocol):
    """The two operations every store offers (EmbeddedStore, EndpointStore)."""

    description: str

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> QueryResult: ...

    def update(self, text: str) -> None: ...


def _insert(graphs: list[tuple[str, str]]) -> str:
    body = "".join(f"GRAPH <{name}> {{\n{ntriples}}}\n" for name, ntriples in graphs)
    return f"INSERT DATA {{\n{body}}}"


def _replace(record: CaseRecord) -> str:
    case = term(URIRef(record.case_iri))
    return (summary.delete_of_case_update(record.case_iri) + " ;\n"
            f"DELETE {{ GRAPH ?old {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?old {{ ?old a mtus:Determination ; "
            f"prov:wasDerivedFrom {case} . ?s ?p ?o }} }} ;\n"
            f"DROP SILENT GRAPH {case} ;\n"
            + _insert([(record.case_iri, record.case_ntriples),
                       (record.determination_iri, record.determination_ntriples),
                       (summary.GRAPH, summary.summary_ntriples(nquads(record)))]))


def put_case(store: Backend, record: CaseRecord) -> None:
    """Replace the case's graph, its determination and its summary, in one update."""
    put_cases(store, [record])


def nquads(record: CaseRecord) -> str:
    """The record's case graph and determination graph as N-Quads (each N-Triples line, which
    ends in " .\n" and holds no other newline, gets its graph name)."""
    return (record.case_ntriples.replace(" .\n", f" <{record.case_iri}> .\n")
            + record.determination_ntriples.replace(" .\n", f" <{record.determination_iri}> .\n"))


def put_cases(store: Backend, batch: list[CaseRecord]) -> None:
    """Replace the case graph, the determination and its summary (store/summary.py) of every
    record of a round (case IRIs distinct). On the embedded store: one query finds the round's
    stored determinations, one update adds one to the store generation (tally.py) and drops
    them with their case graphs and summaries, and one load adds the round's quads and their summary as a single
    transaction (a killed batch leaves every case of the round stored or none; a re-stored case killed between the drop and the load is not stored, and is
    evaluated again by the next run). On any other store: one SPARQL update for the round (the
    generation's included)."""
    if not batch:
        return
    load = getattr(store, "load_round", None)
    if load is None:
        store.update(PROLOGUE + " ;\n".join([tally.bump_update(), *(_replace(r) for r in batch)]))
        return
    cases = " ".join(term(URIRef(r.case_iri)) for r in batch)
    old = store.select(PROLOGUE + f"SELECT DISTINCT ?old ?case WHERE {{ VALUES ?case {{ {cases} }} "
                       "GRAPH ?old { ?old a mtus:Determination ; prov:wasDerivedFrom ?case } }")
    changes = [tally.bump_update()]  # the tally's counts are stale from here on (tally.py)
    if old.rows:
        drops = {term(g) for row in old.rows for g in row if g is not None}
        changes.append(summary.delete_update(sorted(str(row[0]) for row in old.rows if row[0] is not None)))
        changes += [f"DROP SILENT GRAPH {g}" for g in sorted(drops)]
    store.update(PROLOGUE + " ;\n".join(changes))
    graphs = "".join(nquads(r) for r in batch)
    load(graphs + summary.summary_nquads(graphs))


def rulebase_graph(rb: RuleBase, closure: bool = True) -> Graph:
    """The closed ontology and kb/ (unless ``closure`` is false), with a node for the rule base
    as a PROV entity."""
    graph = Graph()
    if closure:
        graph += rb.closure
        graph += rb.kb
    node = rulebase_iri(rb.version)
    graph.add((node, RDF.type, PROV.Entity))
    graph.add((node, PROV.specializationOf, KB.rulebase))
    graph.add((node, OWL.versionInfo, Literal(rb.version)))
    graph.add((node, MTUS.rulebaseDigest, Literal(rb.digest)))
    graph.add((node, PROV.wasAttributedTo, SOFTWARE))
    return graph


def put_rulebase(store: Backend, rb: RuleBase) -> bool:
    """Store the rule base unless this version with this digest is there; True if written.
    Every writer (batch, the service) calls it before its first write: a store written before
    the summary graph existed is summarised here, before this run's writes mark it."""
    summary.ensure(store)
    name = rulebase_iri(rb.version)
    present = store.select(PROLOGUE + f"ASK {{ GRAPH {term(name)} {{ {term(name)} mtus:rulebaseDigest ?d }} "
                           "FILTER(?d = ?digest) }", {"digest": Literal(rb.digest)})
    if present.boolean:
        return False
    triples = triples_to_ox(itertools.chain(rb.closure, rb.kb, rulebase_graph(rb, closure=False)))
    ntriples = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
    store.update(f"DROP SILENT GRAPH {term(name)}")
    load = getattr(store, "load_round", None)
    if load is not None:
        load(ntriples.replace(" .\n", f" {term(name)} .\n"))
    else:
        store.update(_insert([(str(name), ntriples)]))
    return True


def stored_keys(store: Backend) -> set[tuple[str, str]]:
    """(input hash, rule-base digest) of every stored determination."""
    result = store.select(PROLOGUE + "SELECT ?hash ?digest WHERE { GRAPH ?d { ?d a mtus:Determination ; "
                          "mtus:inputHash ?hash ; mtus:rulebaseDigest ?digest } }")
    return {(str(h), str(d)) for h, d in result.rows}


def determination_count(store: Backend) -> int:
    result = store.select(PROLOGUE + "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { GRAPH ?d { ?d a mtus:Determination } }")
    value = result.rows[0][0] if result.rows else None
    return int(value) if isinstance(value, Literal) else 0


@dataclass(frozen=True)
class StoredCase:
    case_iri: URIRef
    case_id: str
    determination_iri: URIRef


def stored_cases(store: Backend) -> list[StoredCase]:
    """Every case with its current determination, by case IRI."""
    result = store.select(PROLOGUE + """SELECT ?case ?id ?d WHERE {
  GRAPH ?d { ?d a mtus:Determination ; prov:wasDerivedFrom ?case }
  OPTIONAL { GRAPH ?case { ?case mtus:identifier ?id } }
} ORDER BY ?case ?d""")
    return [StoredCase(URIRef(str(c)), str(i) if i is not None else str(c), URIRef(str(d)))
            for c, i, d in result.rows]


def case_graph(store: Backend, case_iri: URIRef) -> Graph:
    """The stored facts of one case."""
    result = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {term(case_iri)} {{ ?s ?p ?o }} }}")
    graph = Graph()
    for s, p, o in result.rows:
        graph.add((s, p, o))  # type: ignore[arg-type]
    return graph
