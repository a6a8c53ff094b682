"""Inference: what follows from a case, by data alone.

The ontology closure (class membership, part-of regions, broader codes) was made explicit once
when the rule base was loaded; here the case is joined to it and to kb/, day numbers are added
beside dates, and the derivation rules of kb/rules/ run in file order, each adding its facts.

:func:`working_graph` builds the working graph in place, on the rule base's reference graph:
the case's triples and what the rules derive are added to it and, on leaving, exactly those
the reference did not hold are taken out again (copying the reference for every case cost a
third of the reference path's time). One case at a time holds it (a lock). :func:`infer` gives
an independent copy, for callers that keep the graph.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rdflib import Graph
from rdflib.term import Node

from .intake import CaseInput, add_day_numbers
from .rulebase import RuleBase

_LOCK = threading.RLock()
#: reference graphs (by id) that already hold the day numbers of their own dates
_DATED: dict[int, Graph] = {}


def _add(graph: Graph, triples: Iterable[tuple[Node, Node, Node]], added: list[tuple[Node, Node, Node]]) -> None:
    for triple in triples:
        if triple not in graph:
            graph.add(triple)
            added.append(triple)


@contextmanager
def working_graph(case: CaseInput, rulebase: RuleBase) -> Iterator[Graph]:
    """The working graph of a case (case facts, derived facts, ontology closure and kb), valid
    until the block ends."""
    base = rulebase.reference
    with _LOCK:
        if id(base) not in _DATED:
            add_day_numbers(base, rulebase)  # the kb's own dates, once
            _DATED[id(base)] = base
        added: list[tuple[Node, Node, Node]] = []
        try:
            stated = Graph()
            stated += case.graph
            add_day_numbers(stated, rulebase)
            _add(base, stated, added)
            for rule in rulebase.rules:
                derived = base.query(rule.query).graph
                if derived is not None:
                    _add(base, list(derived), added)
            yield base
        finally:
            for triple in added:
                base.remove(triple)


def infer(case: CaseInput, rulebase: RuleBase) -> Graph:
    """The working graph of a case, as a graph of its own."""
    with working_graph(case, rulebase) as working:
        copy = Graph()
        copy += working
    return copy
