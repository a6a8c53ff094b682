"""Decisions: the validation outcome of an item becomes criterion states and an item decision.

The state of a criterion is read by its kind and nothing else: the kind's reading
(ontology/guideline.ttl, read by reasoner/kinds.py) is an ordered list of steps, each a
condition on the criterion's shapes (a role violated, or every shape of a role conforming) or
on its branches, and the state it gives; the first step that holds decides. A role the kind
does not name plays no part (``mtus lint`` reports such a shape). A criterion that does not
apply (state not applicable) is reported as met with ``applicable`` false, and does not stand
in the way of the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rdflib.term import Node

from .catalog import Criterion, Section
from .kinds import MET, NOT_APPLICABLE, NOT_DOCUMENTED, NOT_MET, CriterionStatus, Step
from .namespaces import MTUS
from .validation import ShapeOutcome

__all__ = [
    "MET",
    "NOT_ADDRESSED",
    "NOT_APPLICABLE",
    "NOT_DOCUMENTED",
    "NOT_MET",
    "OVERTURNED",
    "UPHELD",
    "CriterionResult",
    "CriterionStatus",
    "Decision",
    "Fact",
    "evaluate_criterion",
    "evaluate_section",
]



class Decision(StrEnum):
    """The decision on one item, as IMR words it (code:upheld etc. in a store). A StrEnum: each
    member equals its name as case files and JSON write it."""

    UPHELD = "upheld"
    OVERTURNED = "overturned"
    NOT_ADDRESSED = "not_addressed"


UPHELD = Decision.UPHELD
OVERTURNED = Decision.OVERTURNED
NOT_ADDRESSED = Decision.NOT_ADDRESSED


@dataclass(frozen=True)
class Fact:
    """A case fact that supported or contradicted a criterion: a node, or a path and a value."""

    node: Node | None
    path: Node | None


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: CriterionStatus
    applicable: bool
    supporting: tuple[Fact, ...]
    contradicting: tuple[Fact, ...]
    branches: tuple[CriterionResult, ...]

    @property
    def unmet(self) -> bool:
        """Not met or not documented: the criterion stands in the way of the item."""
        return self.status in (NOT_MET, NOT_DOCUMENTED)

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


def _holds(step: Step, criterion: Criterion, outcome: ShapeOutcome, branches: tuple[CriterionResult, ...]) -> bool:
    if step.violated is not None:
        return any(s in outcome.violated for s in criterion.shapes.get(step.violated, ()))
    if step.conforms is not None:
        shapes = criterion.shapes.get(step.conforms, ())
        return bool(shapes) and not any(s in outcome.violated for s in shapes)
    if step.any_branch is not None:
        return any(b.status == step.any_branch for b in branches)
    if step.every_branch is not None:
        return bool(branches) and all(b.status == step.every_branch for b in branches)
    return True


def evaluate_criterion(criterion: Criterion, outcome: ShapeOutcome) -> CriterionResult:
    """The criterion's state by its kind's reading, with the facts behind it."""
    branches = tuple(evaluate_criterion(b, outcome) for b in criterion.branches)
    state = CriterionStatus(next(step.gives for step in criterion.reading
                                 if _holds(step, criterion, outcome, branches)))
    if state == NOT_APPLICABLE:
        return CriterionResult(criterion, NOT_APPLICABLE, False, (), (), ())
    supporting = _facts(outcome, criterion.shapes.get(MTUS.Evidence, ())) if state == MET else ()
    contradicting = _facts(outcome, criterion.shapes.get(MTUS.Contradiction, ())) if state == NOT_MET else ()
    return CriterionResult(criterion, state, True, supporting, contradicting, branches)


def evaluate_section(section: Section, outcome: ShapeOutcome) -> tuple[tuple[CriterionResult, ...], Decision]:
    """All criteria of the section, and the item decision they give."""
    results = tuple(evaluate_criterion(c, outcome) for c in section.criteria)
    decision = UPHELD if any(r.unmet for r in results) else OVERTURNED
    return results, decision
