"""Compile the guideline shapes: each support shape gets an evidence shape whose results name
the facts that support its criterion; and, per rule date, the thresholds the shapes name
(``mtus:maxInclusiveFrom kb:x``) become constraint values (``sh:maxInclusive 4``), the value in
force on that date (:func:`with_bounds`).

Both steps are generic: they read only annotations and the structure of support shapes, never a
particular criterion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from .errors import RuleBaseError
from .namespaces import MTUS, SH

BOUNDS = {
    MTUS.minInclusiveFrom: SH.minInclusive,
    MTUS.maxInclusiveFrom: SH.maxInclusive,
    MTUS.minExclusiveFrom: SH.minExclusive,
    MTUS.maxExclusiveFrom: SH.maxExclusive,
}


def closure(graph: Graph, node: Node) -> Iterator[Node]:
    """``node`` and every blank node reachable from it (what a Turtle ``[ ... ]`` holds)."""
    seen: set[Node] = set()
    todo = [node]
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        yield item
        todo += [o for o in graph.objects(item) if isinstance(o, BNode)]


def bounded_by(graph: Graph, shapes: Iterable[Node]) -> set[URIRef]:
    """The thresholds that the shapes (and their blank-node parts) take bounds from."""
    return {t for shape in shapes for node in closure(graph, shape) for annotation in BOUNDS
            for t in graph.objects(node, annotation) if isinstance(t, URIRef)}


def _copy(graph: Graph) -> Graph:
    """A copy of a graph with its prefixes."""
    out = Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns)
    out += graph
    return out


def with_bounds(shapes: Graph, values: Mapping[URIRef, Literal]) -> Graph:
    """A copy of the compiled shapes whose threshold annotations carry, as SHACL bounds, the
    values given (the values in force on a rule date); an annotation naming a threshold without
    a value there gets no bound (its section is not in force then)."""
    graph = _copy(shapes)
    for annotation, constraint in BOUNDS.items():
        for prop_shape, threshold in shapes.subject_objects(annotation):
            if not isinstance(threshold, URIRef):
                raise RuleBaseError(str(prop_shape), f"{annotation} must name a threshold of kb/")
            value = values.get(threshold)
            if value is not None:
                graph.add((prop_shape, constraint, value))
    return graph


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


def _owner(graph: Graph, node: Node) -> Node:
    """The named shape that holds a blank node (the node itself when it is named)."""
    seen = {node}
    while isinstance(node, BNode):
        holders = [s for s in graph.subjects(None, node) if s not in seen]
        if not holders:
            break
        node = holders[0]
        seen.add(node)
    return node


def compile_shapes(source: Graph, thresholds: Mapping[URIRef, object],
                   files: Mapping[URIRef, str] | None = None) -> Graph:
    """A compiled copy of the guideline shapes, without bounds (see :func:`with_bounds`); a
    threshold annotation naming no threshold of kb/ is a broken rule base."""
    graph = _copy(source)
    for annotation, constraint in BOUNDS.items():
        for prop_shape, threshold in source.subject_objects(annotation):
            if threshold not in thresholds:
                owner = _owner(source, prop_shape)
                where = (files or {}).get(owner, "shapes/") if isinstance(owner, URIRef) else "shapes/"
                raise RuleBaseError(f"{where}: {owner}", f"{annotation.n3(source.namespace_manager)} names "
                                    f"{threshold}, which is not a threshold of kb/ (kb:x a mtus:Threshold)")
            if (prop_shape, constraint, None) in source:
                raise RuleBaseError(str(_owner(source, prop_shape)), f"a bound written as a number beside "
                                    f"{annotation.n3(source.namespace_manager)}: write the number once, in kb/")
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
