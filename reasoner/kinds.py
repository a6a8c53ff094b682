"""Criterion kinds: the contract between a criterion and its shapes, read from the ontology.

Each kind (ontology/guideline.ttl) says which shape roles a criterion of the kind must have
(``mtus:requiresRole``) and may have (``mtus:allowsRole``), whether it is made of branches, and
its *reading*: an ordered list of steps, each a condition on the criterion's shapes or branches
and the state it gives; the first step that holds gives the criterion's state. The reading is
applied by :mod:`reasoner.decisions`; ``mtus lint`` checks every criterion against the roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from .errors import RuleBaseError
from .namespaces import MTUS, local_name


class CriterionStatus(StrEnum):
    """The state of one criterion for one item (mtus:CriterionState; code:met etc. in a store).
    A StrEnum: each member equals its name as case files and JSON write it."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_DOCUMENTED = "not_documented"
    NOT_APPLICABLE = "not_applicable"


MET = CriterionStatus.MET
NOT_MET = CriterionStatus.NOT_MET
NOT_DOCUMENTED = CriterionStatus.NOT_DOCUMENTED
NOT_APPLICABLE = CriterionStatus.NOT_APPLICABLE

#: the states of the ontology (mtus:CriterionState) by the names decisions and case files use
STATES = {MTUS.Met: MET, MTUS.NotMet: NOT_MET, MTUS.NotDocumented: NOT_DOCUMENTED,
          MTUS.NotApplicable: NOT_APPLICABLE}


@dataclass(frozen=True)
class Step:
    """One reading step: it holds when its condition does (no condition: always)."""

    gives: str
    violated: URIRef | None = None
    conforms: URIRef | None = None
    any_branch: str | None = None
    every_branch: str | None = None


@dataclass(frozen=True)
class Kind:
    iri: URIRef
    label: str
    requires: frozenset[URIRef]
    allows: frozenset[URIRef]
    requires_branches: bool
    reading: tuple[Step, ...]

    def states(self, roles: frozenset[URIRef], branches: tuple[frozenset[str], ...] = ()) -> frozenset[str]:
        """The states a criterion of this kind can reach with shapes of ``roles`` and branches
        that can reach ``branches`` (each branch's reachable states)."""
        out = set()
        for step in self.reading:
            role = step.violated or step.conforms
            if role is not None and role not in roles:
                continue
            if step.any_branch is not None and not any(step.any_branch in b for b in branches):
                continue
            if step.every_branch is not None and not (branches and all(step.every_branch in b for b in branches)):
                continue
            out.add(step.gives)
        return frozenset(out)


def _state(graph: Graph, node: object, where: str) -> str:
    state = STATES.get(node) if isinstance(node, URIRef) else None
    if state is None:
        raise RuleBaseError(where, f"a reading step gives {node!r}, not a mtus:CriterionState")
    return state


def _step(graph: Graph, node: Node, where: str) -> Step:
    def iri(prop: URIRef) -> URIRef | None:
        value = graph.value(node, prop)
        return value if isinstance(value, URIRef) else None

    any_branch, every_branch = iri(MTUS.whenAnyBranch), iri(MTUS.whenEveryBranch)
    return Step(gives=_state(graph, graph.value(node, MTUS.gives), where),
                violated=iri(MTUS.whenViolated), conforms=iri(MTUS.whenConforms),
                any_branch=_state(graph, any_branch, where) if any_branch else None,
                every_branch=_state(graph, every_branch, where) if every_branch else None)


def read(ontology: Graph) -> dict[URIRef, Kind]:
    """Every criterion kind of the ontology; a kind without a reading that always ends in a
    state is a broken rule base."""
    kinds: dict[URIRef, Kind] = {}
    for node in sorted(s for s in ontology.subjects(RDF.type, MTUS.CriterionKind) if isinstance(s, URIRef)):
        where = f"ontology/guideline.ttl: mtus:{local_name(node)}"
        reading_list = ontology.value(node, MTUS.reading)
        if reading_list is None:
            raise RuleBaseError(where, "a criterion kind needs its mtus:reading (an ordered list of steps)")
        steps = tuple(_step(ontology, s, where) for s in Collection(ontology, reading_list))
        last = steps[-1] if steps else None
        if last is None or any((last.violated, last.conforms, last.any_branch, last.every_branch)):
            raise RuleBaseError(where, "a kind's reading must end with a step without a condition (its default state)")
        kinds[node] = Kind(
            iri=node,
            label=str(ontology.value(node, RDFS.label) or local_name(node)),
            requires=frozenset(o for o in ontology.objects(node, MTUS.requiresRole) if isinstance(o, URIRef)),
            allows=frozenset(o for o in ontology.objects(node, MTUS.allowsRole) if isinstance(o, URIRef)),
            requires_branches=ontology.value(node, MTUS.requiresBranches) == Literal(True),
            reading=steps,
        )
    if not kinds:
        raise RuleBaseError("ontology/guideline.ttl", "no criterion kind (mtus:CriterionKind) is defined")
    return kinds
