"""Inference: what follows from a case, by data alone.

The ontology closure (class membership, part-of regions, broader codes) was made explicit once
when the rule base was loaded; here the case is joined to it and to kb/, day numbers are added
beside dates, and the derivation rules of kb/rules/ run in file order, each adding its facts.

:func:`working_graph` builds the working graph in place, on the rule base's reference graph:
the case's triples and what the rules derive are added to it and, on leaving, exactly those
the reference did not hold are taken out again (copying the reference for every case cost a
third of the reference path's time). One case at a time holds it (a lock). :func:`infer` gives
an independent copy, for callers that keep the graph. :func:`traced_working_graph` also tells
which step added each triple (``mtus explain``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rdflib import Graph
from rdflib.term import Node

from .intake import CaseInput, add_day_numbers
from .rulebase import Rule, RuleBase

Triple = tuple[Node, Node, Node]

#: the sources of what a step adds that is not a rule's
STATED = "stated"
INTAKE = "intake"

_LOCK = threading.RLock()
#: reference graphs (by id) that already hold the day numbers of their own dates
_DATED: dict[int, Graph] = {}


@dataclass(frozen=True)
class Step:
    """What one step of inference added to the working graph: the case's stated triples
    (source ``stated``), the day numbers intake adds beside their dates (``intake``), or the new
    triples of one derivation rule (its ``rule``, named by ``source``)."""

    source: str
    rule: Rule | None
    added: tuple[Triple, ...]


def _add(graph: Graph, triples: Iterable[Triple], ledger: list[Triple]) -> tuple[Triple, ...]:
    """Add the triples ``graph`` does not hold yet, noting each in ``ledger`` as it goes."""
    start = len(ledger)
    for triple in triples:
        if triple not in graph:
            graph.add(triple)
            ledger.append(triple)
    return tuple(ledger[start:])


def steps(graph: Graph, case: CaseInput, rulebase: RuleBase, ledger: list[Triple]) -> Iterator[Step]:
    """Build a case's working graph on ``graph`` one step at a time, in the order inference
    runs: the case's stated triples, their day numbers, then each rule of kb/rules/ in file
    order. Every triple added is noted in ``ledger`` at once (so that a caller can take them
    all out again, even after an error), and each step yields what it added."""
    yield Step(STATED, None, _add(graph, case.graph, ledger))
    dated = Graph()
    dated += case.graph
    add_day_numbers(dated, rulebase)
    yield Step(INTAKE, None, _add(graph, dated, ledger))
    for rule in rulebase.rules:
        derived = graph.query(rule.query).graph
        yield Step(rule.name, rule, _add(graph, list(derived) if derived is not None else (), ledger))


@contextmanager
def traced_working_graph(case: CaseInput, rulebase: RuleBase) -> Iterator[tuple[Graph, tuple[Step, ...]]]:
    """The working graph of a case with the steps that built it, valid until the block ends."""
    base = rulebase.reference
    with _LOCK:
        if id(base) not in _DATED:
            add_day_numbers(base, rulebase)  # the kb's own dates, once
            _DATED[id(base)] = base
        added: list[Triple] = []
        try:
            done = tuple(steps(base, case, rulebase, added))
            yield base, done
        finally:
            for triple in added:
                base.remove(triple)


@contextmanager
def working_graph(case: CaseInput, rulebase: RuleBase) -> Iterator[Graph]:
    """The working graph of a case (case facts, derived facts, ontology closure and kb), valid
    until the block ends."""
    with traced_working_graph(case, rulebase) as (working, _):
        yield working


def infer(case: CaseInput, rulebase: RuleBase) -> Graph:
    """The working graph of a case, as a graph of its own."""
    with working_graph(case, rulebase) as working:
        copy = Graph()
        copy += working
    return copy
