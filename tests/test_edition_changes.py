"""The query of queries/ that lists the criteria changed between two editions, by the
prov:wasRevisionOf links the editions' sections give their criteria, on a fixture rule base of
its own (the stored analyst dataset has no such link): one criterion reworded, one kept word for
word, one of a third edition that must not be listed, one new criterion with no predecessor."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from reasoner import querylib
from reasoner.store import EmbeddedStore

FIXTURE = """
@prefix kb: <https://w3id.org/mtus/kb/> .
@prefix mtus: <https://w3id.org/mtus/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix prov: <http://www.w3.org/ns/prov#> .

<https://w3id.org/mtus/kb/rulebase/9.9.9> owl:versionInfo "9.9.9" .
kb:old-section mtus:edition kb:mtus-2009 ; mtus:criterion kb:old-1, kb:old-2 .
kb:new-section mtus:edition kb:mtus-2016 ; mtus:criterion kb:new-1, kb:new-2, kb:new-3 .
kb:later-section mtus:edition kb:mtus-2017 ; mtus:criterion kb:later-1 .
kb:old-1 mtus:statement "Not more than four injections per session." .
kb:old-2 mtus:statement "Symptoms have lasted more than three months." .
kb:new-1 mtus:statement "Not more than three injections per session." ; prov:wasRevisionOf kb:old-1 .
kb:new-2 mtus:statement "Symptoms have lasted more than three months." ; prov:wasRevisionOf kb:old-2 .
kb:new-3 mtus:statement "A new requirement." .
kb:later-1 mtus:statement "Not more than two injections per session." ; prov:wasRevisionOf kb:new-1 .
"""

KB = "https://w3id.org/mtus/kb/"


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    graph = Graph().parse(data=FIXTURE, format="turtle")
    name = URIRef(f"{KB}rulebase/9.9.9").n3()
    nquads = "".join(f"{s.n3()} {p.n3()} {o.n3()} {name} .\n" for s, p, o in graph)
    backend = EmbeddedStore(tmp_path / "store")
    backend.load_nquads(nquads)
    return backend


def _rows(store: EmbeddedStore, **params: str) -> list[tuple[str, ...]]:
    result = querylib.run(store, querylib.resolve("criteria-changed-between-two-editions"), params)
    return [tuple(str(v).removeprefix(KB) for v in row[:6]) for row in result.values()]


def test_the_revised_criteria_between_2009_and_2016_with_their_wording(store: EmbeddedStore) -> None:
    assert _rows(store) == [
        ("9.9.9", "new-section", "new-1", "old-section", "old-1", "reworded"),
        ("9.9.9", "new-section", "new-2", "old-section", "old-2", "same wording"),
    ]
    store.close()


def test_another_pair_of_editions_lists_only_its_own_revisions(store: EmbeddedStore) -> None:
    assert _rows(store, **{"from": "mtus-2016", "to": "mtus-2017"}) == [
        ("9.9.9", "later-section", "later-1", "new-section", "new-1", "reworded"),
    ]
    assert _rows(store, **{"from": "mtus-2009", "to": "mtus-2017"}) == []
    store.close()
