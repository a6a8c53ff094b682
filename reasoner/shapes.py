"""Compile the guideline shapes: thresholds from kb/ become constraint values, and each support
shape gets an evidence shape whose results name the facts that support its criterion.

Both steps are generic: they read only annotations (``mtus:maxInclusiveFrom kb:x``) and the
structure of support shapes, never a particular criterion.
"""

from __future__ import annotations

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from .errors import RuleBaseError
from .namespaces import MTUS, SH

_BOUNDS = {
    MTUS.minInclusiveFrom: SH.minInclusive,
    MTUS.maxInclusiveFrom: SH.maxInclusive,
    MTUS.minExclusiveFrom: SH.minExclusive,
    MTUS.maxExclusiveFrom: SH.maxExclusive,
}


def _compile_thresholds(graph: Graph, kb: Graph) -> None:
    for annotation, constraint in _BOUNDS.items():
        for prop_shape, threshold in list(graph.subject_objects(annotation)):
            value = kb.value(threshold, MTUS.value)
            if value is None:
                raise RuleBaseError(
                    str(threshold), f"threshold used by a shape ({annotation}) has no mtus:value in kb/"
                )
            graph.add((prop_shape, constraint, value))


def evidence_shape_iri(support_shape: Node) -> URIRef:
    return URIRef(f"{support_shape}-evidence")


def _add_evidence_shapes(graph: Graph) -> None:
    empty = BNode()
    graph.add((empty, RDF.type, SH.NodeShape))
    for shape in list(graph.subjects(MTUS.role, MTUS.Support)):
        criteria = list(graph.objects(shape, MTUS.criterion))  # a shape may serve several criteria
        if not criteria:
            continue
        evidence = evidence_shape_iri(shape)
        graph.add((evidence, RDF.type, SH.NodeShape))
        for criterion in criteria:
            graph.add((evidence, MTUS.evidenceFor, criterion))
        graph.add((evidence, MTUS.role, MTUS.Evidence))
        graph.add((evidence, SH.severity, SH.Info))
        for prop in graph.objects(shape, SH.property):
            path = graph.value(prop, SH.path)
            if path is None:
                continue
            inner = graph.value(prop, SH.qualifiedValueShape) or empty
            mirror = BNode()
            graph.add((evidence, SH.property, mirror))
            graph.add((mirror, SH.path, path))
            graph.add((mirror, SH["not"], inner))


def compile_shapes(source: Graph, kb: Graph) -> Graph:
    """A compiled copy of the guideline shapes."""
    graph = Graph()
    for prefix, ns in source.namespaces():
        graph.bind(prefix, ns)
    graph += source
    _compile_thresholds(graph, kb)
    _add_evidence_shapes(graph)
    return graph


def parent_shapes(graph: Graph) -> dict[Node, Node]:
    """Map each property shape (and the node shape itself) to the node shape that holds it."""
    parents: dict[Node, Node] = {}
    for node_shape in set(graph.subjects(MTUS.role, None)):
        parents[node_shape] = node_shape
        for prop in graph.objects(node_shape, SH.property):
            parents[prop] = node_shape
    return parents


def helper_shapes(graph: Graph) -> tuple[URIRef, ...]:
    """Named node shapes that criterion shapes refer to (shapes/common.ttl and the like).

    pySHACL resolves a shape referenced by sh:node, sh:and, sh:or or sh:not only among the
    shapes passed in ``use_shapes`` (an unlisted one is treated as having no constraints), so
    these are passed with every section's shapes; their own results are ignored.
    """
    return tuple(sorted(s for s in graph.subjects(RDF.type, SH.NodeShape)
                        if isinstance(s, URIRef) and graph.value(s, MTUS.role) is None))
