"""What the parts of the rule base read and write: the predicates on the shapes' paths, what the
derivation rules need and derive (read from their algebra by :mod:`reasoner.fastpath.rules`,
the fast path's own reading), and what the rest of the pipeline reads."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from .. import batch, selection
from ..fastpath.rules import FastRule, iris, needs, writes
from ..fastpath.startup import query_reads, wording_reads
from ..namespaces import MTUS, PREFIXES, SH
from ..rulebase import Rule, RuleBase
from ..shapes import closure

#: The predicates of a SHACL path expression that lead to its parts.
_PATH_PARTS = (RDF.first, RDF.rest, SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath,
               SH.zeroOrOnePath, SH.alternativePath)


@lru_cache(maxsize=8)
def owners(graph: Graph) -> dict[Node, URIRef]:
    """The named node each blank node of ``graph`` belongs to (the subject it hangs from; a
    named node belongs to itself). Kept per graph: call it only on a graph no longer changed."""
    out: dict[Node, URIRef] = {}
    named = {s for s in graph.subjects() if isinstance(s, URIRef)}
    # a generated evidence shape shares the parts of its support shape: these belong to the latter
    for subject in sorted(named, key=lambda s: ((s, MTUS.evidenceFor, None) in graph, str(s))):
        for node in closure(graph, subject):
            out.setdefault(node, subject)
    return out


def path_predicates(graph: Graph, path: Node) -> set[URIRef]:
    """Every predicate of a SHACL path (sequences, alternatives, inverse and repeated paths)."""
    if isinstance(path, URIRef):
        return {path} if path != RDF.nil else set()
    found: set[URIRef] = set()
    if isinstance(path, BNode):
        for part in _PATH_PARTS:
            for inner in graph.objects(path, part):
                found |= path_predicates(graph, inner)
    return found


def named_shapes(graph: Graph, shape: Node) -> list[Node]:
    """``shape`` and the named shapes it refers to (sh:node, sh:and ... of its parts), transitively."""
    found: list[Node] = []
    todo = [shape]
    while todo:
        item = todo.pop()
        if item in found:
            continue
        found.append(item)
        for node in closure(graph, item):
            todo += [o for _, o in graph.predicate_objects(node)
                     if isinstance(o, URIRef) and ((o, RDF.type, SH.NodeShape) in graph or (o, SH.property, None) in graph)]
    return found


def shape_paths(graph: Graph, shape: Node) -> set[URIRef]:
    """The predicates a node shape reads: those on every sh:path it holds, however nested
    (property shapes, sh:node, sh:not, sh:and, sh:or, sh:xone, qualified value shapes), and
    on the paths of the named shapes it refers to."""
    found: set[URIRef] = set()
    for named in named_shapes(graph, shape):
        for node in closure(graph, named):
            for path in graph.objects(node, SH.path):
                found |= path_predicates(graph, path)
    return found


def shape_texts(graph: Graph) -> Iterable[str]:
    """The SPARQL texts of the SPARQL-based constraints of a shapes graph."""
    return (str(text) for text in graph.objects(None, SH.select) if isinstance(text, Literal))


def flows(rules: list[Rule]) -> list[FastRule]:
    """Each rule with what it needs, reads (every IRI it names) and may write (None: any)."""
    return [FastRule(rule.name, "", needs(rule.query.algebra), frozenset(iris(rule.query.algebra.p)),
                     writes(rule.query.algebra)) for rule in rules]


def context_properties(context: dict[str, object]) -> set[URIRef]:
    """Every IRI a term of the case format's JSON-LD context expands to (nested contexts too)."""
    top = context.get("@context", context)
    if not isinstance(top, dict):
        return set()
    prefixes = {k: v for k, v in top.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    found: set[URIRef] = set()

    def expand(value: str) -> str:
        prefix, _, rest = value.partition(":")
        return prefixes[prefix] + rest if prefix in prefixes and not rest.startswith("//") else value

    def walk(ctx: dict[str, object]) -> None:
        for key, value in ctx.items():
            if key.startswith("@"):
                continue
            iri = value if isinstance(value, str) else value.get("@id") if isinstance(value, dict) else None
            if isinstance(iri, str) and not iri.startswith("@"):
                found.add(URIRef(expand(iri)))
            if isinstance(value, dict) and isinstance(value.get("@context"), dict):
                walk(value["@context"])

    walk(top)
    return found


def produced(rb: RuleBase) -> dict[URIRef, str]:
    """What gives a case's working graph each predicate: the case format, intake, a rule of
    kb/rules/, or the closed ontology and kb."""
    out: dict[URIRef, str] = {}
    for term in context_properties(rb.context):
        out.setdefault(term, "the case format")
    for day in rb.ontology.subjects(MTUS.dayNumberOf, None):
        if isinstance(day, URIRef):
            out.setdefault(day, "intake")
    for flow in flows(rb.rules):
        for written in flow.writes or ():
            out.setdefault(URIRef(written), flow.name)
    for predicate in set(rb.reference.predicates()):
        if isinstance(predicate, URIRef):
            out.setdefault(predicate, "the closed ontology and kb")
    return out


def _query_files(root: Path) -> list[Path]:
    return sorted((root / "queries").glob("*.rq"))


def readers_besides_rules(rb: RuleBase) -> dict[str, str]:
    """Every IRI read by something other than a derivation rule, with who reads it: the
    guideline and intake shapes, selection, the wording, the stored analyst facts and the
    analyst queries of queries/."""
    out: dict[str, str] = {}

    def add(iris_read: Iterable[str], reader: str) -> None:
        for iri in iris_read:
            out.setdefault(str(iri), reader)

    for graph, name in ((rb.shapes, "a shape"), (rb.intake_shapes, "an intake shape")):
        for _, path in graph.subject_objects(SH.path):
            add(path_predicates(graph, path), name)
        for text in shape_texts(graph):
            add(query_reads(text), name)
    for query in (selection._SECTIONS, selection._EDITION):
        add(iris(prepareQuery(query, initNs=dict(PREFIXES)).algebra), "selection")
    add(wording_reads(rb), "the wording")
    add((str(p) for p in batch.analyst_properties(rb)), "the stored analyst facts")
    for file in _query_files(rb.root):
        add(query_reads(file.read_text(encoding="utf-8")), f"queries/{file.name}")
    return out
