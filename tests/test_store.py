"""Determinations as RDF with provenance, and the stores: embedded (pyoxigraph) and a real
Oxigraph server started on 127.0.0.1, which must return the same rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

import reasoner
from reasoner import batch, exports, rulebase
from reasoner.namespaces import MTUS, PROV
from reasoner.store import EmbeddedStore, EndpointStore, StoreError, open_store, records
from reasoner.store.server import free_port, local_server
from reasoner.store.sparql import bind, query_form, where_brace
from tests.helpers import SEED, seed, write_yaml

CASES = Path(__file__).parent / "data" / "analyst-cases"


@pytest.fixture(scope="module")
def rb() -> rulebase.RuleBase:
    return rulebase.get()


@pytest.fixture(scope="module")
def seed_record(rb: rulebase.RuleBase) -> records.CaseRecord:
    return batch.evaluate_case(batch.CaseRef(str(SEED)), rb)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with local_server() as url:
        yield url


def test_determination_graph_has_provenance_and_links_to_the_rule_base(rb: rulebase.RuleBase) -> None:
    det = reasoner.evaluate(SEED, rb)
    graph = exports.to_graph(det)
    root = exports.determination_iri(det)
    assert (root, RDF.type, PROV.Entity) in graph
    assert graph.value(root, PROV.wasDerivedFrom) == det.case_iri
    assert graph.value(root, MTUS.inputHash) == Literal(hashlib.sha256(SEED.read_bytes()).hexdigest())
    assert graph.value(root, MTUS.rulebaseDigest) == Literal(rb.digest)
    assert graph.value(root, MTUS.edition) == URIRef("https://w3id.org/mtus/kb/mtus-2009")
    activity = graph.value(root, PROV.wasGeneratedBy)
    assert isinstance(activity, URIRef)
    assert set(graph.objects(activity, PROV.used)) == {det.case_iri, exports.rulebase_iri(rb.version)}
    assert graph.value(activity, PROV.wasAssociatedWith) == exports.SOFTWARE
    assert graph.value(root, PROV.generatedAtTime) is not None
    items = list(graph.objects(root, MTUS.itemDecision))
    assert len(items) == 5
    for item in items:
        section = graph.value(item, MTUS.appliedSection)
        assert section in rb.catalog.sections
        assert graph.value(item, MTUS.searchStep) == rb.catalog.sections[section].search_step.iri  # type: ignore[index]
        for result in graph.objects(item, MTUS.criterionResult):
            assert graph.value(result, MTUS.criterion) in rb.catalog.criteria
            assert graph.value(result, MTUS.appliedSection) == section
    assert not [s for s in graph.subjects() if not isinstance(s, URIRef)], "no blank nodes: stores must agree"


def test_a_case_is_stored_once_and_replaced_whole(rb: rulebase.RuleBase, seed_record: records.CaseRecord,
                                                   tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    assert records.put_rulebase(store, rb) is True
    assert records.put_rulebase(store, rb) is False, "the same rule base is stored once"
    before = store.quad_count()
    records.put_case(store, seed_record)
    records.put_case(store, seed_record)
    assert records.determination_count(store) == 1
    once = store.quad_count()
    changed = seed()
    changed["findings"] = changed["findings"][:2]
    case = write_yaml(tmp_path / "seed-changed.yaml", changed)
    record = batch.evaluate_case(batch.CaseRef(str(case)), rb)
    assert record.case_iri == seed_record.case_iri and record.input_hash != seed_record.input_hash
    records.put_case(store, record)
    assert records.determination_count(store) == 1, "storing a case again replaces its determination"
    assert records.stored_keys(store) == {(record.input_hash, rb.digest)}
    graph = records.case_graph(store, URIRef(record.case_iri))
    assert len(list(graph.objects(URIRef(record.case_iri), MTUS.finding))) == 2, "no finding of the old case is left"
    assert before < store.quad_count() < once
    store.close()


def test_a_stored_case_graph_comes_back_intact(rb: rulebase.RuleBase, seed_record: records.CaseRecord) -> None:
    store = EmbeddedStore(None)
    records.put_case(store, seed_record)
    stored = records.case_graph(store, URIRef(seed_record.case_iri))
    assert isomorphic(stored, Graph().parse(data=seed_record.case_ntriples, format="nt"))
    again = reasoner.evaluate(stored, rb)
    assert [i.decision for i in again.items] == [d for _, _, d in seed_record.decisions]


def test_the_server_stores_and_answers_like_the_embedded_store(rb: rulebase.RuleBase, server: str,
                                                               seed_record: records.CaseRecord) -> None:
    other = batch.evaluate_case(batch.CaseRef(str(CASES / "a01-tpi-met.yaml")), rb)
    embedded = EmbeddedStore(None)
    remote = EndpointStore(server)
    for store in (embedded, remote):
        records.put_rulebase(store, rb)
        for record in (seed_record, other, seed_record):
            records.put_case(store, record)  # SPARQL Update on the server
    assert records.determination_count(remote) == records.determination_count(embedded) == 2
    assert records.stored_keys(remote) == records.stored_keys(embedded)
    assert records.stored_cases(remote) == records.stored_cases(embedded)
    case = URIRef(seed_record.case_iri)
    assert isomorphic(records.case_graph(remote, case), records.case_graph(embedded, case))
    query = """PREFIX mtus: <https://w3id.org/mtus/ontology#>
      SELECT ?item ?decision ?criterion ?status WHERE { GRAPH ?d { ?item mtus:decision ?decision ;
      mtus:criterionResult ?r . ?r mtus:criterion ?criterion ; mtus:criterionStatus ?status } }
      ORDER BY ?item ?criterion"""
    rows = embedded.select(query).rows
    assert len(rows) > 20 and remote.select(query).rows == rows


def test_bound_values_are_terms_and_cannot_break_out(server: str) -> None:
    text = 'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n# WHERE { in a comment\n' \
           'SELECT ?where WHERE { ?where rdfs:label ?label } ORDER BY ?where'
    assert text[where_brace(text) - 1] == "{" and text[:where_brace(text)].endswith("SELECT ?where WHERE {")
    nasty = Literal('x" } } ; DROP ALL ; #')
    bound = bind(text, {"label": nasty})
    assert 'VALUES (?label) { ("x\\" } } ; DROP ALL ; #") }' in bound
    for store in (EmbeddedStore(None), EndpointStore(server)):
        store.update('INSERT DATA { <urn:a> <http://www.w3.org/2000/01/rdf-schema#label> "a" }')
        assert store.select(text, {"label": nasty}).rows == []
        assert store.select(text, {"label": Literal("a")}).rows == [(URIRef("urn:a"),)]
        assert store.select("ASK { ?s ?p ?o }").boolean is True, "the data is still there"
    with pytest.raises(ValueError, match="IRI"):
        bind(text, {"label": URIRef("urn:x> } ; DROP ALL ; <urn:y")})
    assert query_form("# ASK\nSELECT * { ?s ?p ?o }") == "SELECT"


def test_store_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store there"):
        open_store(tmp_path / "missing", create=False)
    first = EmbeddedStore(tmp_path / "store")
    with pytest.raises(StoreError, match="another mtus process"):
        EmbeddedStore(tmp_path / "store")
    first.close()
    EmbeddedStore(tmp_path / "store").close()
    nobody = EndpointStore(f"http://127.0.0.1:{free_port()}/query", timeout=5)
    with pytest.raises(StoreError, match="cannot reach the SPARQL endpoint"):
        nobody.select("ASK { ?s ?p ?o }")
    with pytest.raises(StoreError, match="expected an http"):
        EndpointStore("ftp://example.org/sparql")
