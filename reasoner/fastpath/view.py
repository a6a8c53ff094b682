"""A read-only view of the store's default graph with the few rdflib ``Graph`` methods that
the rationale and text modules call (``value``, ``objects``, ``in``), so that they run
unchanged on the fast path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
from rdflib.term import Node

from .terms import to_ox, to_rdflib

_DEFAULT = ox.DefaultGraph()


class GraphView:
    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def _quads(self, s: Node | None, p: Node | None, o: Node | None) -> Iterator[ox.Quad]:
        terms: list[Any] = [to_ox(t) if t is not None else None for t in (s, p, o)]
        return iter(self._store.quads_for_pattern(terms[0], terms[1], terms[2], _DEFAULT))

    def value(self, subject: Node | None = None, predicate: Node | None = None,
              object: Node | None = None) -> Node | None:
        for quad in self._quads(subject, predicate, object):
            if subject is None:
                return to_rdflib(quad.subject)
            if predicate is None:
                return to_rdflib(quad.predicate)
            return to_rdflib(quad.object)
        return None

    def objects(self, subject: Node | None = None, predicate: Node | None = None) -> Iterator[Node]:
        for quad in self._quads(subject, predicate, None):
            yield to_rdflib(quad.object)

    def __contains__(self, triple: tuple[Node, Node, Node]) -> bool:
        s, p, o = triple
        return next(iter(self._quads(s, p, o)), None) is not None
