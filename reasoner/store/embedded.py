"""The embedded store: a pyoxigraph (Oxigraph, RocksDB) dataset in a folder on this machine.

Chosen by measurement (bench/bench_store.py): it parses and loads RDF far faster than rdflib,
answers the query library over 100,000 stored determinations in well under a second or so per
query, and each SPARQL update is one transaction; a batch's round goes in through the bulk loader
and is committed by a transaction of completion markers (records.put_cases), so a killed batch
leaves whole cases only (an uncommitted round is removed by the next writer).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib.term import Node

from . import sparql
from .errors import StoreError
from .terms import QueryResult, from_ox


class EmbeddedStore:
    """A persistent store in ``path`` (created if missing), or an in-memory one for ``None``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.description = f"embedded store {path}" if path is not None else "in-memory store"
        try:
            self._store = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as exc:
            raise StoreError(f"--store {path}: cannot open the store ({exc}); is another mtus "
                             "process using it?") from None

    @property
    def oxigraph(self) -> ox.Store:
        """The pyoxigraph store itself (the service's SPARQL endpoint streams from it)."""
        return self._store

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        text = sparql.bind(query, bindings or {})
        try:
            answer = self._store.query(text)
        except SyntaxError as exc:
            raise StoreError(f"the query is not valid SPARQL 1.1: {exc}") from None
        if isinstance(answer, ox.QueryBoolean):
            return QueryResult(boolean=bool(answer))
        if not isinstance(answer, ox.QuerySolutions):
            raise StoreError("only SELECT and ASK queries give rows")
        names = [v.value for v in answer.variables]
        rows = [tuple(from_ox(solution[name]) for name in names) for solution in answer]
        return QueryResult(names, rows)

    def update(self, text: str) -> None:
        """Run a SPARQL 1.1 update as one transaction."""
        try:
            self._store.update(text)
        except SyntaxError as exc:
            raise StoreError(f"the update is not valid SPARQL 1.1: {exc}") from None

    def load_nquads(self, data: bytes | str, bulk: bool = False) -> None:
        """Add N-Quads; ``bulk`` skips the transaction (for the first load of a large store)."""
        if bulk:
            self._store.bulk_load(data, ox.RdfFormat.N_QUADS)
        else:
            self._store.load(data, ox.RdfFormat.N_QUADS)

    def load_round(self, nquads: str) -> None:
        """Add the N-Quads of a round of cases in one transaction (a round smaller than
        records.BULK_MIN; larger ones go through ``load_nquads(..., bulk=True)``)."""
        self._store.load(nquads, ox.RdfFormat.N_QUADS)

    def dump_nquads(self) -> bytes:
        """Every quad of the store as N-Quads."""
        data = ox.serialize(self._store, format=ox.RdfFormat.N_QUADS)
        return data or b""

    def graph_ntriples(self, name: str) -> bytes:
        """The triples of the named graph ``name`` as N-Triples (read by Oxigraph alone)."""
        data = self._store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
        return data or b""

    def quad_count(self) -> int:
        return len(self._store)

    def flush(self) -> None:
        self._store.flush()

    def close(self) -> None:
        """Release the store (and its lock on the folder)."""
        store = self.__dict__.pop("_store", None)
        if store is not None and self.path is not None:
            store.flush()
