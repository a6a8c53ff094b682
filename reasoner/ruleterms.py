"""What a derivation rule (kb/rules/*.rq) reads and derives, from its SPARQL algebra.

Used by the counterfactual search (the codes and classes a rule tests, the predicates it reads)
and by the supported quantity (which derived quantities are computed from an amount of the
request: ``mtus:requestAmount``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from rdflib import OWL, RDF, Graph, Literal, URIRef, Variable

from .namespaces import MTUS


def algebra_terms(node: Any) -> Iterator[URIRef]:
    """Every IRI in a query algebra (BGP triples, VALUES, filters)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from algebra_terms(value)
    elif isinstance(node, (list, tuple, set)):
        for value in node:
            yield from algebra_terms(value)
    elif isinstance(node, URIRef):
        yield node


def algebra_triples(node: Any) -> Iterator[tuple[Any, Any, Any]]:
    """The triple patterns of a query algebra."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "triples" and isinstance(value, list):
                for triple in value:
                    if isinstance(triple, tuple) and len(triple) == 3:
                        yield triple
            else:
                yield from algebra_triples(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from algebra_triples(value)


def derives(query: Any, properties: frozenset[URIRef] | set[URIRef] = frozenset()) -> set[URIRef]:
    """The predicates of a CONSTRUCT query's template; where the template's predicate is a
    variable (bound by VALUES or BIND), the ``properties`` the query names that its patterns
    do not read."""
    template = list(query.algebra.get("template") or ())
    out = {p for _, p, _ in template if isinstance(p, URIRef)}
    for variable in {p for _, p, _ in template if isinstance(p, Variable)}:
        out |= set(_bound_to(query.algebra.get("p"), variable)) & set(properties)
    return out


def _bound_to(node: Any, variable: Variable) -> Iterator[URIRef]:
    """The IRIs a VALUES row or a BIND of the algebra gives ``variable``."""
    if isinstance(node, dict):
        if node.get("var") == variable and "expr" in node:
            yield from algebra_terms(node["expr"])
        for row in node.get("res") or () if isinstance(node.get("res"), list) else ():
            if isinstance(row, dict) and isinstance(row.get(variable), URIRef):
                yield row[variable]
        for value in node.values():
            yield from _bound_to(value, variable)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _bound_to(value, variable)


def _path_iris(path: Any) -> set[URIRef]:
    if isinstance(path, URIRef):
        return {path}
    out: set[URIRef] = set()
    for part in list(getattr(path, "args", ())) + [getattr(path, "path", None)]:
        if part is not None:
            out |= _path_iris(part)
    return out


def reads(query: Any) -> set[URIRef]:
    """The predicates a query's patterns read (property paths included; rdf:type aside)."""
    return {i for _, p, _ in algebra_triples(query.algebra.get("p")) for i in _path_iris(p)} - {RDF.type}


def request_amounts(ontology: Graph, rules: Iterable[Any]) -> Graph:
    """``P mtus:requestAmount true`` for every derived property a rule computes, directly or
    through another derived property, from a property the ontology marks as an amount of the
    request (mtus:requestAmount: quantity, days' supply, duration, ...)."""
    amounts = {p for p in ontology.subjects(MTUS.requestAmount, Literal(True)) if isinstance(p, URIRef)}
    properties = properties_of(ontology)
    edges = [(derives(rule.query, properties), reads(rule.query)) for rule in rules]
    changed = True
    while changed:
        changed = False
        for made, used in edges:
            if used & amounts and not made <= amounts:
                amounts |= made
                changed = True
    out = Graph()
    for prop in amounts:
        out.add((prop, MTUS.requestAmount, Literal(True)))
    return out


def properties_of(ontology: Graph) -> frozenset[URIRef]:
    """The properties the ontology declares."""
    kinds = (OWL.DatatypeProperty, OWL.ObjectProperty, RDF.Property)
    return frozenset(p for kind in kinds for p in ontology.subjects(RDF.type, kind) if isinstance(p, URIRef))
