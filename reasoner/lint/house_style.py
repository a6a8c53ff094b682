"""Shapes over the rule base itself: SHACL-SHACL (the shapes are well-formed SHACL) and the house
style of shapes/house-style/ (every term labelled and defined, every criterion cited ...).

Both run as SPARQL on pyoxigraph, compiled from the shapes by the fast path's compiler
(:func:`reasoner.fastpath.queries.result_queries`); pySHACL gives the same results
(tests/test_lint_shapes.py) and decides for shapes the compiler does not translate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from ..fastpath.compile import Branch, Unsupported
from ..fastpath.queries import result_queries
from ..fastpath.terms import to_ox, to_rdflib
from ..namespaces import MTUS, SH, qname
from ..rulebase import RuleBase
from ..shapes import closure
from .problems import Problem, check, file_of
from .reading import owners
from .scope import Scope

Triple = tuple[Node, Node, Node]
#: Parameters of a shape that are no constraint (left out of a described rule).
_NOT_RULES = {SH.path, SH.name, SH.description, SH.message, SH.severity, SH.order, SH.group, RDF.type,
              RDFS.label, RDFS.comment, RDFS.seeAlso, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
              SH.targetObjectsOf, SH.property}


@dataclass(frozen=True)
class Result:
    """One validation result: its focus node, the shape that gave it, its value and path."""

    focus: Node
    source: Node
    value: Node | None
    path: Node | None


@lru_cache(maxsize=1)
def shacl_shacl_graph() -> Graph:
    return Graph().parse(Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl", format="turtle")


@lru_cache(maxsize=8)
def _compiled(shapes: Graph) -> tuple[list[str], list[Branch]] | None:
    try:
        return result_queries(shapes)
    except Unsupported:
        return None


def compiled_results(shapes: Graph, data: Iterable[Triple]) -> list[Result] | None:
    """The results of ``shapes`` over ``data``, by the compiled queries on pyoxigraph; None when
    the compiler does not translate the shapes."""
    compiled = _compiled(shapes)
    if compiled is None:
        return None
    queries, branches = compiled
    store = ox.Store()
    store.bulk_extend([ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data])  # type: ignore[arg-type]
    out: set[Result] = set()
    for query in queries:
        for row in store.query(query):  # type: ignore[union-attr]
            branch = branches[int(row["_b"].value)]
            focus = to_rdflib(row["this"])
            value = to_rdflib(row["value"]) if row["value"] is not None else (
                focus if branch.value in ("?this", "?value") else None)
            path = to_rdflib(row["path"]) if row["path"] is not None else branch.path
            out.add(Result(focus, branch.source, value, path))
    return sorted(out, key=str)


def pyshacl_results(shapes: Graph, data: Iterable[Triple]) -> list[Result]:
    """The results pySHACL gives (the reference validator)."""
    graph = Graph()
    for triple in data:
        graph.add(triple)
    _, report, _ = pyshacl.validate(graph, shacl_graph=shapes)
    out = {Result(report.value(r, SH.focusNode), report.value(r, SH.sourceShape),
                  report.value(r, SH.value), report.value(r, SH.resultPath))
           for r in report.objects(None, SH.result)}  # the results, not their sh:detail
    return sorted(out, key=str)


def results(shapes: Graph, data: Iterable[Triple]) -> list[Result]:
    triples = list(data)
    found = compiled_results(shapes, triples)
    return found if found is not None else pyshacl_results(shapes, triples)


def _name(graph: Graph, node: URIRef) -> str:
    """A term as Turtle writes it with the graph's prefixes (ours first)."""
    short = qname(node)
    return short if not short.startswith("<") else graph.namespace_manager.normalizeUri(node)


def _term(graph: Graph, node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, Literal):
        plain = node.datatype in (XSD.integer, XSD.boolean, XSD.decimal)
        return str(node) if plain else node.n3(graph.namespace_manager)
    if isinstance(node, BNode):
        if (node, RDF.first, None) in graph:
            return "( " + " ".join(_term(graph, m) for m in Collection(graph, node)) + " )"
        return "[ " + " ; ".join(f"{_name(graph, p)} {_term(graph, o)}" for p, o in sorted(graph.predicate_objects(node))
                                 if isinstance(p, URIRef)) + " ]"
    return _name(graph, node) if isinstance(node, URIRef) else str(node)


def _message(shapes: Graph, data: Graph, result: Result, top: str) -> str:
    """The shape's own message; else the rule it states (SHACL-SHACL has no messages)."""
    stated = shapes.value(result.source, SH.message)
    if stated is not None:
        text = str(stated)
    else:
        rule = " ; ".join(f"{_name(shapes, p)} {_term(shapes, o)}"
                          for p, o in sorted(shapes.predicate_objects(result.source))
                          if isinstance(p, URIRef) and p not in _NOT_RULES)
        text = f"breaks {top}'s rule [ {rule} ]"
    where = [f"on {_term(shapes, result.path)}" if result.path is not None else ""]
    if result.value is not None and result.value != result.focus:
        where.append(f"value {_term(data, result.value)}")
    if isinstance(result.focus, BNode):
        path = data.value(result.focus, SH.path)
        where.append(f"in its property shape on {_term(data, path)}" if path is not None else "in a nested shape")
    detail = ", ".join(w for w in where if w)
    return f"{text} ({detail})" if detail else text


def problems(rb: RuleBase, shapes: Graph, triples: list[Triple], label: str) -> list[Problem]:
    """The results of ``shapes`` over ``triples`` as problems, each located at the named node
    the focus node belongs to (a property shape is reported at its node shape)."""
    found = results(shapes, triples)
    if not found:
        return []
    merged = Graph()
    for triple in triples:
        merged.add(triple)
    owner = owners.__wrapped__(merged)  # a graph of this call: not kept in the cache
    shape_owner = owners(shapes)
    out = set()
    for result in found:
        node = owner.get(result.focus, result.focus)
        top = shape_owner.get(result.source)
        top_name = _name(shapes, top) if top is not None else label
        out.add(Problem(file_of(rb, node), qname(node) if isinstance(node, URIRef) else str(node),
                        _message(shapes, merged, result, top_name)))
    return sorted(out)


def _triples(graphs: Iterable[Graph], rb: RuleBase, scope: Scope) -> list[Triple]:
    """The triples of ``graphs`` about what is in scope (with the blank nodes they hold)."""
    out: list[Triple] = []
    for graph in graphs:
        if scope.whole:
            out += list(graph)
            continue
        subjects = {s for s in graph.subjects() if isinstance(s, URIRef) and scope.covers(rb, s)}
        for subject in subjects:
            for node in closure(graph, subject):
                out += list(graph.triples((node, None, None)))
    return out


@check("SHACL-SHACL")
def shacl_shacl(rb: RuleBase, scope: Scope) -> list[Problem]:
    """The guideline, intake and house-style shapes are well-formed SHACL (the W3C's shapes for
    shapes). Fix: what the message names (a misspelt SHACL term, a value of the wrong kind)."""
    meta = shacl_shacl_graph()
    out: list[Problem] = []
    for graph in (rb.shapes, rb.intake_shapes, rb.house_style_shapes):
        triples = _triples([graph], rb, scope)
        out += problems(rb, meta, triples, "SHACL-SHACL")
    return out


@check("house style")
def house_style(rb: RuleBase, scope: Scope) -> list[Problem]:
    """The house style (shapes/house-style/) over the ontology, kb and guideline shapes: every
    term labelled and defined, every criterion with its texts, kind, order, confirmation and
    source, every shape with a role its criterion's kind reads (the rules and their messages are
    listed below). Fix: add what the message names."""
    if len(rb.house_style_shapes) == 0:
        return [Problem("shapes/house-style/", "(folder)", "no house-style shapes loaded")]
    graphs = [rb.ontology, rb.kb, rb.shapes]
    triples = _triples(graphs, rb, scope)
    if not scope.whole:  # classes and their subclasses, for the class targets; the kinds' roles
        triples += list(rb.ontology.triples((None, RDFS.subClassOf, None)))
        for contract in (MTUS.requiresRole, MTUS.allowsRole, MTUS.requiresBranches):
            triples += list(rb.ontology.triples((None, contract, None)))
    return problems(rb, rb.house_style_shapes, triples, "house style")
