"""One pyoxigraph store per process: the reference graph loaded once, each case added to it,
evaluated and taken out again.

Everything lives in the default graph, so that queries see one merged graph with set
semantics, as rdflib's working graph does (a union of named graphs would count a triple held
twice, twice). Only triples the store does not hold yet are added, and exactly those are
removed. Oxigraph never forgets a string it has seen, and a removed triple stays behind as a
tombstone that later queries step over, so the store is rebuilt from the reference every
``recycle`` cases (rebuilding takes about as long as one case): memory and latency stay flat
however many cases pass through. A round of cases after which the store is rebuilt anyway (a
large batch) is not tracked: its triples are added in bulk (the store is a set, so a triple it
holds already is not added twice) and nothing is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox

_SCRATCH = ox.NamedNode("urn:mtus:fastpath:scratch")
_DEFAULT = ox.DefaultGraph()


class CaseStore:
    def __init__(self, reference: list[ox.Quad], recycle: int = 128) -> None:
        self._reference = reference
        self._recycle = recycle
        self._cases = 0
        self._added: list[ox.Quad] = []
        self._tracking = True
        self.store = self._fresh()

    def _fresh(self) -> ox.Store:
        store = ox.Store()
        store.bulk_extend(self._reference)
        return store

    def begin(self, cases: int) -> None:
        """Start a round of ``cases`` cases (call before adding them)."""
        self._tracking = self._cases + cases < self._recycle

    def add(self, triples: Iterable[ox.Triple]) -> int:
        """Add the triples the store does not hold; returns how many were new (untracked: how
        many were given)."""
        store, added = self.store, self._added
        if not self._tracking:
            quads = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
            store.extend(quads)
            return len(quads)
        count = 0
        for triple in triples:
            quad = ox.Quad(triple.subject, triple.predicate, triple.object)
            if quad not in store:
                store.add(quad)
                added.append(quad)
                count += 1
        return count

    def construct(self, query: str) -> int:
        """Run a CONSTRUCT query and add what it derives (as rdflib's ``graph += derived``)."""
        result = self.store.query(query)
        return self.add(result)  # type: ignore[arg-type]

    def predicates(self) -> Callable[[str], bool]:
        """Whether the store holds a triple with a given predicate (answers cached until the
        store changes: call again after adding)."""
        store, known = self.store, {}

        def present(iri: str) -> bool:
            if iri not in known:
                known[iri] = next(iter(store.quads_for_pattern(None, ox.NamedNode(iri), None, _DEFAULT)), None) is not None
            return known[iri]

        return present

    def select(self, query: str) -> list[ox.QuerySolution]:
        return list(self.store.query(query))  # type: ignore[arg-type]

    def ask_scratch(self, queries: list[str], triples: Iterable[ox.Triple]) -> bool:
        """Whether any of the ASK queries is true over the given triples alone (a scratch graph,
        emptied afterwards)."""
        store = self.store
        store.extend(ox.Quad(t.subject, t.predicate, t.object, _SCRATCH) for t in triples)
        try:
            return any(bool(store.query(query, default_graph=_SCRATCH)) for query in queries)
        finally:
            store.clear_graph(_SCRATCH)

    def reset(self, cases: int = 1) -> None:
        """Take the cases out again (and rebuild the store every ``recycle`` cases)."""
        self._cases += cases
        if self._cases >= self._recycle or not self._tracking:
            self._cases = 0
            self._added = []
            self._tracking = True
            self.store = self._fresh()
            return
        store = self.store
        for quad in self._added:
            store.remove(quad)
        self._added = []
