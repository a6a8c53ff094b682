"""Decisions: the validation outcome of an item becomes criterion states and an item decision.

The reading of the three states is fixed per criterion kind (ontology/guideline.ttl):
requirement: met when supported, not met when contradicted, else not documented;
limit and exclusion: not met when contradicted, else not documented when a needed number is
missing (limits), else met; limit-if-stated: not met when contradicted, else met;
alternatives: met when any branch is met, not met when every branch is not met, else not
documented. A criterion whose applicability shape is violated does not apply and counts as met.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib.term import Node

from .catalog import Criterion, Section
from .namespaces import MTUS
from .validation import ShapeOutcome

MET = "met"
NOT_MET = "not_met"
NOT_DOCUMENTED = "not_documented"

UPHELD = "upheld"
OVERTURNED = "overturned"
NOT_ADDRESSED = "not_addressed"


@dataclass(frozen=True)
class Fact:
    """A case fact that supported or contradicted a criterion: a node, or a path and a value."""

    node: Node | None
    path: Node | None


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: str
    applicable: bool
    supporting: tuple[Fact, ...]
    contradicting: tuple[Fact, ...]
    branches: tuple[CriterionResult, ...]

    @property
    def unmet(self) -> bool:
        return self.status != MET

    def walk(self) -> list[CriterionResult]:
        out = [self]
        for branch in self.branches:
            out += branch.walk()
        return out


def _facts(outcome: ShapeOutcome, shapes: tuple[Node, ...]) -> tuple[Fact, ...]:
    found: list[Fact] = []
    for shape in shapes:
        for path, value in outcome.violated.get(shape, []):
            fact = Fact(value, path)
            if fact not in found:
                found.append(fact)
    return tuple(sorted(found, key=lambda f: (str(f.path), str(f.node))))


def evaluate_criterion(criterion: Criterion, outcome: ShapeOutcome) -> CriterionResult:
    shapes = criterion.shapes
    if any(s in outcome.violated for s in shapes.get(MTUS.Applicability, ())):
        return CriterionResult(criterion, MET, False, (), (), ())
    if criterion.kind == MTUS.Alternatives:
        branches = tuple(evaluate_criterion(b, outcome) for b in criterion.branches)
        if any(b.status == MET for b in branches):
            status = MET
        elif branches and all(b.status == NOT_MET for b in branches):
            status = NOT_MET
        else:
            status = NOT_DOCUMENTED
        return CriterionResult(criterion, status, True, (), (), branches)
    supported = not any(s in outcome.violated for s in shapes.get(MTUS.Support, ()))
    contradicted = any(s in outcome.violated for s in shapes.get(MTUS.Contradiction, ()))
    supporting = _facts(outcome, shapes.get(MTUS.Evidence, ()))
    contradicting = _facts(outcome, shapes.get(MTUS.Contradiction, ()))
    if criterion.kind == MTUS.Requirement:
        status = MET if supported else NOT_MET if contradicted else NOT_DOCUMENTED
    elif criterion.kind in (MTUS.Limit, MTUS.Exclusion, MTUS.LimitIfStated):
        status = NOT_MET if contradicted else MET if supported else NOT_DOCUMENTED
    else:
        raise ValueError(f"unknown criterion kind {criterion.kind}")
    if status != MET:
        supporting = ()
    return CriterionResult(criterion, status, True, supporting, contradicting if status == NOT_MET else (), ())


def evaluate_section(section: Section, outcome: ShapeOutcome) -> tuple[tuple[CriterionResult, ...], str]:
    """All criteria of the section, and the item decision they give."""
    results = tuple(evaluate_criterion(c, outcome) for c in section.criteria)
    decision = OVERTURNED if all(r.status == MET for r in results) else UPHELD
    return results, decision
