"""Validation: pySHACL checks one requested item against the shapes of its section.

Only the selected section's shapes are used, with the item as the only focus node; the
report is read into plain data (which shapes were violated, and by which values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.term import Node

from . import shacl
from .catalog import Section
from .namespaces import SH
from .rulebase import RuleBase
from .selection import rule_date


@dataclass
class ShapeOutcome:
    """For each node shape of the section that was violated, the results' (path, value) pairs."""

    violated: dict[Node, list[tuple[Node | None, Node | None]]] = field(default_factory=dict)
    report: Graph | None = None


def validate_item(working: Graph, request: URIRef, section: Section, rulebase: RuleBase) -> ShapeOutcome:
    shapes = rulebase.shapes_on(rule_date(working, request))
    _, report = shacl.validate(working, shapes, focus_nodes=[request],
                               use_shapes=[*section.shape_iris(), *rulebase.helper_shapes], allow_infos=True)
    outcome = ShapeOutcome(report=report)
    parents = rulebase.parents
    for result in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        node_shape = parents.get(source) if source is not None else None
        if node_shape is None:
            continue
        pair = (_named_path(report, report.value(result, SH.resultPath)), report.value(result, SH.value))
        outcome.violated.setdefault(node_shape, []).append(pair)
    return outcome


def _named_path(report: Graph, path: Node | None) -> Node | None:
    """A complex SHACL path (a blank node) named by the predicate it ends with, so that a value
    found along ( mtus:outcome mtus:painReliefPercent ) reads as a pain relief percentage."""
    if not isinstance(path, BNode):
        return path
    if (path, RDF.first, None) in report:
        steps = list(Collection(report, path))
        return _named_path(report, steps[-1]) if steps else None
    for predicate in (SH.alternativePath, SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        inner = report.value(path, predicate)
        if inner is not None:
            return _named_path(report, inner)
    return None
