"""Duplicates: node shapes with the same constraints, and derivation rules that compute the same
thing. Two copies drift apart when one is corrected; one shape can serve several criteria (a
node shape may carry several mtus:criterion values) and one rule can serve several services (a
VALUES table)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from ..fastpath.rules import writes
from ..namespaces import CODE, KB, MTUS, PREFIXES, SH, qname
from ..rulebase import Rule, RuleBase
from .problems import Problem, at, check, in_rule
from .scope import Scope

T = TypeVar("T")
#: Words about a shape, not constraints of it (left out at every level).
_WORDS = {SH.name, SH.message, SH.description, RDFS.label, RDFS.comment}
_TOKEN = re.compile(r"""<[^<>\s]*>|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\#[^\n]*|[?$]\w+|"""
                    r"""[A-Za-z_][\w-]*:[\w.-]*[\w-]|[A-Za-z_][\w-]*:|[A-Za-z_]\w*|\S""")


def _structure(graph: Graph, node: Node, top: bool = False, depth: int = 0) -> str:
    """A node shape written so that two shapes with the same constraints read the same: blank
    nodes by their content, the shape's own IRI, words and mtus:criterion links left out."""
    if not (top or isinstance(node, BNode)) or depth > 50:
        return node.n3()
    parts = sorted(f"{p.n3()} {_structure(graph, o, depth=depth + 1)}" for p, o in graph.predicate_objects(node)
                   if p not in _WORDS and not (top and p == MTUS.criterion))
    return "[" + " ; ".join(parts) + "]"


def _groups(keyed: Iterable[tuple[str, T]]) -> list[list[T]]:
    """The items that share a key, where more than one does."""
    by_key: dict[str, list[T]] = defaultdict(list)
    for key, item in keyed:
        by_key[key].append(item)
    return [items for items in by_key.values() if len(items) > 1]


def shape_groups(rb: RuleBase) -> list[list[URIRef]]:
    """Groups of named node shapes with the same constraints (generated evidence shapes aside)."""
    graph = rb.shapes
    shapes = sorted(s for s in set(graph.subjects(RDF.type, SH.NodeShape))
                    if isinstance(s, URIRef) and (s, MTUS.evidenceFor, None) not in graph)
    groups = _groups((_structure(graph, s, top=True), s) for s in shapes)
    return sorted(sorted(g) for g in groups)


def _expand(token: str) -> str:
    prefix, _, local = token.partition(":")
    namespace = PREFIXES.get(prefix)
    return f"{namespace}{local}" if namespace is not None and not local.startswith("//") else token


def rule_text_key(rule: Rule) -> str:
    """A rule's text with comments and layout left out, its variables numbered in order of
    appearance, the kb: and code: IRIs it names numbered likewise, and the predicates its
    CONSTRUCT template writes numbered: the same key, the same computation."""
    written = writes(rule.query.algebra) or frozenset()
    names: dict[str, str] = {}
    out: list[str] = []
    depth, in_template, seen_construct = 0, False, False
    for token in _TOKEN.findall(rule.path.read_text(encoding="utf-8")):
        if token.startswith("#"):
            continue
        iri = token[1:-1] if token.startswith("<") else _expand(token) if token[0].isalpha() and ":" in token else ""
        if token.upper() == "CONSTRUCT":
            seen_construct = True
        if token == "{":
            depth += 1
            in_template = in_template or (seen_construct and depth == 1)
        elif token == "}":
            depth -= 1
            in_template = in_template and depth > 0
        if token[0] in "?$":
            token = names.setdefault(token, f"?v{len(names)}")
        elif iri.startswith((str(KB), str(CODE))):
            token = names.setdefault(iri, f"<{'kb' if iri.startswith(str(KB)) else 'code'}{len(names)}>")
        elif in_template and iri in written:
            token = names.setdefault(iri, f"<out{len(names)}>")
        elif iri:
            token = f"<{iri}>"
        elif token[0].isalpha():
            token = token.upper()
        out.append(token)
    return " ".join(out)


def rule_groups(rb: RuleBase) -> list[list[Rule]]:
    """Groups of rules identical up to variable names, the kb/code IRIs they name and the
    predicates they write."""
    groups = _groups((rule_text_key(r), r) for r in rb.rules)
    return sorted((sorted(g, key=lambda r: r.name) for g in groups), key=lambda g: g[0].name)


@check("duplicate shapes")
def duplicate_shapes(rb: RuleBase, scope: Scope) -> list[Problem]:
    """No two named node shapes have the same constraints (words and criterion links aside): two
    copies drift apart when one is corrected. Fix: keep one shape and give it each criterion
    (mtus:criterion may be repeated)."""
    problems = []
    for group in shape_groups(rb):
        if any(scope.covers(rb, s) for s in group):
            for shape in group:
                others = ", ".join(qname(s) for s in group if s != shape)
                problems.append(at(rb, shape, f"the same constraints as {others}: keep one shape and give it "
                                              "each criterion (mtus:criterion may be repeated)"))
    return problems


@check("duplicate rules")
def duplicate_rules(rb: RuleBase, scope: Scope) -> list[Problem]:
    """No two derivation rules compute the same thing (up to variable names, the kb/code IRIs
    they name and the predicate they write). Fix: merge them into one rule with a VALUES table."""
    problems = []
    for group in rule_groups(rb):
        if any(scope.covers_rule(r) for r in group):
            for rule in group:
                others = ", ".join(r.name for r in group if r is not rule)
                problems.append(in_rule(rb, rule, f"computes what {others} computes (up to variable names, "
                                                  "the kb/code IRIs named and the predicate written): "
                                                  "merge them into one rule (a VALUES table)"))
    return problems
