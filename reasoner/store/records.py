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
- ``<https://w3id.org/mtus/store/ledger>``: per stored determination, its completion marker
  (``mtus:inputHash`` and ``mtus:rulebaseDigest``): a determination counts as stored when its
  marker is there. ``mtus batch`` skips a case by reading the markers alone.
A case has one current determination: storing a case drops its old determination graphs, their
summary, their markers and its case graph and inserts the new ones.

Writing a round (``put_cases``). On a SPARQL endpoint: one update (one transaction) per round.
On the embedded store, in three steps, so that the graphs can go in through Oxigraph's bulk
loader (about twice as fast as a transaction, measured in bench/NOTES.md, but not atomic):
1. one transaction drops what the round replaces and writes the round's intent in the ledger
   (``<determination> mtus:pendingCase <case>`` per record);
2. the bulk loader adds the round's case graphs, determinations and summary;
3. one transaction (``commit_update``, where anything else written per round belongs) adds the
   round's markers and removes its intent.
A process killed during step 2 or before step 3 leaves the round's intent: ``recover`` (run
by ``put_rulebase``, which every writer calls first) drops the graphs and the summary of every
pending determination, so the next run evaluates and stores those cases again, once. A store
written before the ledger existed gets its markers from its determinations (``ensure_ledger``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
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
from .terms import QueryResult, check_iri, triples_to_ox

_HEX = re.compile(r"[0-9a-f]*")
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


LEDGER = "https://w3id.org/mtus/store/ledger"
_LEDGER_MARK = f"<{LEDGER}> a mtus:StoreLedger"
#: rounds of at least this many cases go into the embedded store through the bulk loader
#: (a smaller one, such as the service's single case, in the transaction of a plain load)
BULK_MIN = 32
#: records per summary CONSTRUCT (its in-memory store costs more per case in larger rounds)
SUMMARY_CHUNK = 128
#: called between the bulk load of a round and its commit (tests: a crash at the worst moment)
between_load_and_commit: Callable[[], None] | None = None


def _insert(graphs: list[tuple[str, str]]) -> str:
    body = "".join(f"GRAPH <{name}> {{\n{ntriples}}}\n" for name, ntriples in graphs)
    return f"INSERT DATA {{\n{body}}}"


def _replace(record: CaseRecord) -> str:
    case = term(URIRef(record.case_iri))
    return (summary.delete_of_case_update(record.case_iri) + " ;\n"
            f"DELETE {{ GRAPH <{LEDGER}> {{ ?old ?lp ?lo }} }} WHERE {{ GRAPH ?old {{ ?old a mtus:Determination ; "
            f"prov:wasDerivedFrom {case} }} GRAPH <{LEDGER}> {{ ?old ?lp ?lo }} }} ;\n"
            f"DELETE {{ GRAPH ?old {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?old {{ ?old a mtus:Determination ; "
            f"prov:wasDerivedFrom {case} . ?s ?p ?o }} }} ;\n"
            f"DROP SILENT GRAPH {case} ;\n"
            + _insert([(record.case_iri, record.case_ntriples),
                       (record.determination_iri, record.determination_ntriples),
                       (summary.GRAPH, summary.summary_ntriples(nquads(record)))])
            + " ;\n" + commit_update([record]))


def _pending(batch: list[CaseRecord]) -> str:
    return " ".join(f"<{check_iri(r.determination_iri)}> mtus:pendingCase <{check_iri(r.case_iri)}> ." for r in batch)


def _hex(text: str) -> str:
    """A hash as a SPARQL literal (hexadecimal digits only, so nothing to escape)."""
    if _HEX.fullmatch(text) is None:
        raise ValueError(f"not a hexadecimal hash: {text!r}")
    return f'"{text}"'


def commit_update(batch: list[CaseRecord]) -> str:
    """The update that commits a round whose graphs are written (one transaction): each
    determination's marker in the ledger, the round's intent removed. Whatever else is written
    once per round and must appear exactly when the round does (aggregates) belongs here."""
    markers = " ".join(f"<{check_iri(r.determination_iri)}> mtus:inputHash {_hex(r.input_hash)} ; "
                       f"mtus:rulebaseDigest {_hex(r.rulebase_digest)} ." for r in batch)
    return (f"DELETE DATA {{ GRAPH <{LEDGER}> {{ {_pending(batch)} }} }} ;\n"
            f"INSERT DATA {{ GRAPH <{LEDGER}> {{ {_LEDGER_MARK} . {markers} }} }}")


def put_case(store: Backend, record: CaseRecord) -> None:
    """Replace the case's graph, its determination and its summary, in one update."""
    put_cases(store, [record])


def nquads(record: CaseRecord) -> str:
    """The record's case graph and determination graph as N-Quads (each N-Triples line, which
    ends in " .\n" and holds no other newline, gets its graph name)."""
    return (record.case_ntriples.replace(" .\n", f" <{record.case_iri}> .\n")
            + record.determination_ntriples.replace(" .\n", f" <{record.determination_iri}> .\n"))


def put_cases(store: Backend, batch: list[CaseRecord]) -> None:
    """Replace the case graph, the determination, its summary (store/summary.py) and its marker
    of every record of a round (case IRIs distinct). On the embedded store: one query finds the
    round's stored determinations; one update drops them (their graphs, case graphs, summaries
    and markers) and writes the round's intent; one load adds the round's quads and their
    summary (the bulk loader for a round of BULK_MIN cases or more); one update commits the
    round (``commit_update``). The first update also adds one to the store generation
    (tally.py), so the analysts' counts are recomputed before they are next read. A batch
    killed at any point leaves each case of the round either stored, or unstored with its
    intent (``recover`` removes what was loaded), never half. On any other store: one SPARQL
    update for the round (the generation's included)."""
    if not batch:
        return
    load = getattr(store, "load_round", None)
    if load is None:
        store.update(PROLOGUE + " ;\n".join([tally.bump_update(), *(_replace(r) for r in batch)]))
        return
    cases = " ".join(term(URIRef(r.case_iri)) for r in batch)
    old = store.select(PROLOGUE + f"SELECT DISTINCT ?old ?case WHERE {{ VALUES ?case {{ {cases} }} "
                       "GRAPH ?old { ?old a mtus:Determination ; prov:wasDerivedFrom ?case } }")
    steps = [tally.bump_update()]  # the tally's counts are stale from here on (tally.py)
    if old.rows:
        drops = {term(g) for row in old.rows for g in row if g is not None}
        olds = sorted(str(row[0]) for row in old.rows if row[0] is not None)
        steps.append(summary.delete_update(olds))
        steps.append(f"DELETE {{ GRAPH <{LEDGER}> {{ ?d ?p ?o }} }} WHERE {{ VALUES ?d {{ "
                     + " ".join(f"<{d}>" for d in olds) + f" }} GRAPH <{LEDGER}> {{ ?d ?p ?o }} }}")
        steps += [f"DROP SILENT GRAPH {g}" for g in sorted(drops)]
    steps.append(f"INSERT DATA {{ GRAPH <{LEDGER}> {{ {_pending(batch)} }} }}")
    store.update(PROLOGUE + " ;\n".join(steps))
    parts = ["".join(nquads(r) for r in batch[i:i + SUMMARY_CHUNK]) for i in range(0, len(batch), SUMMARY_CHUNK)]
    graphs = "".join(parts) + "".join(summary.summary_nquads(part) for part in parts)
    bulk = getattr(store, "load_nquads", None)
    if bulk is not None and len(batch) >= BULK_MIN:
        bulk(graphs, bulk=True)
    else:
        load(graphs)
    if between_load_and_commit is not None:
        between_load_and_commit()
    store.update(PROLOGUE + commit_update(batch))


def recover(store: Backend) -> int:
    """Remove what a writer killed in the middle of a round left (step 2 of ``put_cases``): the
    graphs, summary and intent of every pending determination, in one transaction; how many."""
    pending = store.select(PROLOGUE + f"SELECT ?d ?case WHERE {{ GRAPH <{LEDGER}> {{ ?d mtus:pendingCase ?case }} }}")
    if not pending.rows:
        return 0
    dets = sorted({str(d) for d, _ in pending.rows})
    names = sorted({term(g) for row in pending.rows for g in row if isinstance(g, URIRef)})
    store.update(PROLOGUE + " ;\n".join([
        tally.bump_update(),  # the counts included what is dropped here (tally.py)
        summary.delete_update(dets),
        *(f"DROP SILENT GRAPH {g}" for g in names),
        f"DELETE WHERE {{ GRAPH <{LEDGER}> {{ ?d mtus:pendingCase ?case }} }}"]))
    return len(dets)


def _has_ledger(store: Backend) -> bool:
    return store.select(PROLOGUE + f"ASK {{ GRAPH <{LEDGER}> {{ {_LEDGER_MARK} }} }}").boolean is True


def ensure_ledger(store: Backend) -> bool:
    """Give a store written before the ledger existed a marker for each of its determinations
    (one update); True if it did."""
    if _has_ledger(store):
        return False
    store.update(PROLOGUE + f"INSERT {{ GRAPH <{LEDGER}> {{ ?d mtus:inputHash ?hash ; mtus:rulebaseDigest ?digest }} }} "
                 "WHERE { GRAPH ?d { ?d a mtus:Determination ; mtus:inputHash ?hash ; mtus:rulebaseDigest ?digest } } ;\n"
                 f"INSERT DATA {{ GRAPH <{LEDGER}> {{ {_LEDGER_MARK} }} }}")
    return True


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
    the summary graph existed is summarised here, before this run's writes mark it; a round a
    killed writer left unfinished is removed (``recover``) and a store written before the
    ledger gets its markers (``ensure_ledger``)."""
    recover(store)
    ensure_ledger(store)
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
    """(input hash, rule-base digest) of every stored determination: its marker in the ledger
    (in a store written before the ledger, the determination graphs)."""
    where = (f"GRAPH <{LEDGER}> {{ ?d mtus:inputHash ?hash ; mtus:rulebaseDigest ?digest }}" if _has_ledger(store)
             else "GRAPH ?d { ?d a mtus:Determination ; mtus:inputHash ?hash ; mtus:rulebaseDigest ?digest }")
    result = store.select(PROLOGUE + f"SELECT ?hash ?digest WHERE {{ {where} }}")
    return {(str(h), str(d)) for h, d in result.rows}


def determination_count(store: Backend) -> int:
    """How many determinations are stored (with their marker, in a store that has a ledger)."""
    where = (f"GRAPH <{LEDGER}> {{ ?d mtus:inputHash ?hash }}" if _has_ledger(store)
             else "GRAPH ?d { ?d a mtus:Determination }")
    result = store.select(PROLOGUE + f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ {where} }}")
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
