"""Compile SHACL shapes to SPARQL, generated from the shapes graph (never written twice).

For a shape S and a focus variable, :meth:`ShapeCompiler.violations` gives one *branch* per
constraint: a SPARQL group pattern that has a solution for each validation result pySHACL
would report for that constraint (binding the result's value when the result has one). A node
conforms to S when no branch has a solution, which nested shapes (sh:node, sh:not, sh:and,
sh:or, sh:xone, sh:qualifiedValueShape) test with FILTER (NOT) EXISTS.

A branch keeps its path predicate and its parameter (a class, a datatype, a bound; the
predicates a closed shape allows) apart, as ``%%PATH%%``, ``%%ARG%%`` and ``%%ALLOWED%%`` in
its template, so that :mod:`.queries` can answer many branches
of the same form with one pattern and a VALUES table (Oxigraph plans a query in time that grows
faster than its number of UNION branches).

The readings follow pySHACL, the reference validator: one result per failing value node; one
result without a value for sh:minCount, sh:maxCount, sh:hasValue on a path and the qualified
counts; a failed comparison, including an incomparable value, is a failure. Anything outside
the supported subset raises :class:`Unsupported`; the caller then lets pySHACL decide.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from ..namespaces import SH
from .terms import sparql

PATH, ARG, ALLOWED = "%%PATH%%", "%%ARG%%", "%%ALLOWED%%"
_TYPE = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
_RANGES = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
_NODE_KINDS = {
    SH.IRI: "!isIRI({v})", SH.BlankNode: "!isBlank({v})", SH.Literal: "!isLiteral({v})",
    SH.BlankNodeOrIRI: "isLiteral({v})", SH.BlankNodeOrLiteral: "isIRI({v})", SH.IRIOrLiteral: "isBlank({v})",
}
#: Predicates of a shape that are no constraint (or are read together with another parameter).
_INERT = {SH.path, SH.name, SH.description, SH.message, SH.severity, SH.order, SH.group, SH.defaultValue,
          SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.ignoredProperties,
          SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.flags, SH.deactivated}
_HANDLED = {SH.property, SH.node, SH["not"], SH["and"], SH["or"], SH.xone, SH["class"], SH.datatype,
            SH.nodeKind, SH["in"], SH.hasValue, SH.pattern, SH.minLength, SH.maxLength, SH.minCount,
            SH.maxCount, SH.qualifiedValueShape, SH.closed, SH.sparql, *_RANGES}
_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)


class Unsupported(Exception):
    """A shape uses SHACL the compiler does not translate; pySHACL decides instead."""


def _int(node: Node) -> int:
    if isinstance(node, Literal) and isinstance(node.toPython(), int):
        return int(node.toPython())
    raise Unsupported(f"expected an integer, got {node!r}")


@dataclass(frozen=True)
class Branch:
    """The results of one constraint: ``pattern`` (with ``params`` filled in) has a solution per
    result. ``value`` names the variable bound to the result's value (None: the result has none;
    the focus variable: the value is the focus node); ``path_var`` names a variable bound to the
    result path when it varies (sh:closed, SPARQL-based constraints)."""

    source: Node
    path: Node | None
    pattern: str
    value: str | None
    path_var: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return fill(self.pattern, self.params)


def fill(pattern: str, params: dict[str, str]) -> str:
    """A pattern with its parameters written in."""
    for marker, value in params.items():
        pattern = pattern.replace(marker, value)
    return pattern


class ShapeCompiler:
    """Translates the shapes of one shapes graph; ``known`` limits which named shapes may be
    referenced (pySHACL treats a shape outside ``use_shapes`` differently, so it is refused)."""

    def __init__(self, shapes: Graph, known: set[Node] | None = None) -> None:
        self.g = shapes
        self.known = known
        self.prefixes: dict[str, str] = {}
        self._ids = itertools.count()
        self._nesting = 0

    def var(self) -> str:
        return f"?_g{next(self._ids)}"

    # --- paths ---------------------------------------------------------------------------

    def path(self, node: Node) -> str:
        """A SHACL property path written as a SPARQL property path."""
        g = self.g
        if isinstance(node, URIRef):
            return sparql(node)
        if (node, RDF.first, None) in g:
            return "(" + " / ".join(self.path(p) for p in Collection(g, node)) + ")"
        for prop, fmt in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                          (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            inner = g.value(node, prop)
            if inner is not None:
                return fmt.format(self.path(inner))
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + " | ".join(self.path(p) for p in Collection(g, alternatives)) + ")"
        raise Unsupported(f"property path {node!r}")

    # --- conformance ---------------------------------------------------------------------

    def _shape(self, node: Node) -> Node:
        if isinstance(node, URIRef) and self.known is not None and node not in self.known:
            raise Unsupported(f"shape {node} is referenced but not among the shapes in use")
        return node

    def fails(self, shape: Node, focus: str) -> str:
        """A boolean expression: ``focus`` does not conform to ``shape``."""
        self._nesting += 1
        try:
            branches = self.violations(self._shape(shape), focus)
        finally:
            self._nesting -= 1
        if not branches:
            return "false"
        if len(branches) == 1:
            return f"EXISTS {{ {branches[0].text()} }}"
        return "EXISTS { " + " UNION ".join(f"{{ {b.text()} }}" for b in branches) + " }"

    def _distinct(self, focus: str, path: str, n: int, shape: Node | None) -> str:
        """A pattern with a solution iff ``n`` distinct values (conforming to ``shape``) exist."""
        values = [self.var() for _ in range(n)]
        parts = [f"{focus} {path} {v} ." for v in values]
        if shape is not None:
            parts += [f"FILTER(!({self.fails(shape, v)}))" for v in values]
        parts += [f"FILTER(!sameTerm({a}, {b}))" for a, b in itertools.combinations(values, 2)]
        return " ".join(parts)

    # --- constraints ---------------------------------------------------------------------

    def violations(self, shape: Node, focus: str) -> list[Branch]:
        """Every result ``shape`` gives for ``focus``, one branch per constraint."""
        g = self.g
        if g.value(shape, SH.deactivated) == Literal(True):
            return []
        for pred in set(g.predicates(shape)):
            if str(pred).startswith(str(SH)) and pred not in _HANDLED and pred not in _INERT:
                raise Unsupported(f"{pred} on {shape!r}")
        path_node = g.value(shape, SH.path)
        branches: list[Branch] = []
        params: dict[str, str] = {}
        if path_node is None:
            value, prefix = focus, ""
        else:
            value = self.var()
            path = PATH if isinstance(path_node, URIRef) else self.path(path_node)
            if isinstance(path_node, URIRef):
                params[PATH] = sparql(path_node)
            prefix = f"{focus} {path} {value} ."
            branches += self._cardinality(shape, path_node, focus, path, params)
        for cond, arg in self._value_conditions(shape, value):
            with_arg = {**params, ARG: arg} if arg is not None else params
            source_path = path_node
            branches.append(Branch(shape, source_path, f"{prefix} FILTER({cond})", value, None, with_arg))
        if g.value(shape, SH.closed) == Literal(True):
            branches.append(self._closed(shape, prefix, value, params))
        for sub in g.objects(shape, SH.property):
            for branch in self.violations(self._shape(sub), value):
                if prefix:  # a property shape of a property shape: per value node
                    branch = Branch(branch.source, branch.path, f"{prefix} {branch.text()}",
                                    branch.value, branch.path_var, params)
                branches.append(branch)
        for constraint in g.objects(shape, SH.sparql):
            branches.append(self._sparql(shape, constraint, path_node, focus))
        return branches

    def _cardinality(self, shape: Node, path_node: Node, focus: str, path: str,
                     params: dict[str, str]) -> list[Branch]:
        g = self.g
        out: list[Branch] = []

        def add(pattern: str, extra: dict[str, str] | None = None) -> None:
            out.append(Branch(shape, path_node, pattern, None, None, {**params, **(extra or {})}))

        low = g.value(shape, SH.minCount)
        if low is not None and _int(low) > 0:
            add(f"FILTER NOT EXISTS {{ {self._distinct(focus, path, _int(low), None)} }}")
        high = g.value(shape, SH.maxCount)
        if high is not None:
            add(f"FILTER EXISTS {{ {self._distinct(focus, path, _int(high) + 1, None)} }}")
        for required in g.objects(shape, SH.hasValue):
            add(f"FILTER NOT EXISTS {{ {focus} {path} {ARG} }}", {ARG: sparql(required)})
        qualified = list(g.objects(shape, SH.qualifiedValueShape))
        if qualified:
            if len(qualified) > 1 or g.value(shape, SH.qualifiedValueShapesDisjoint) == Literal(True):
                raise Unsupported(f"disjoint or several qualified value shapes on {shape!r}")
            q_low, q_high = g.value(shape, SH.qualifiedMinCount), g.value(shape, SH.qualifiedMaxCount)
            inner = self._shape(qualified[0])
            if q_low is not None and _int(q_low) > 0:
                add(f"FILTER NOT EXISTS {{ {self._distinct(focus, path, _int(q_low), inner)} }}")
            if q_high is not None:
                add(f"FILTER EXISTS {{ {self._distinct(focus, path, _int(q_high) + 1, inner)} }}")
        return out

    def _value_conditions(self, shape: Node, v: str) -> list[tuple[str, str | None]]:
        """Per value node ``v``: one boolean expression per constraint, true when it fails,
        with the constraint's parameter kept apart (written ``%%ARG%%`` in the expression)."""
        g = self.g
        conds: list[tuple[str, str | None]] = []
        for cls in g.objects(shape, SH["class"]):
            conds.append((f"NOT EXISTS {{ {v} {_TYPE} {ARG} }}", sparql(cls)))
        for dtype in g.objects(shape, SH.datatype):
            conds.append((f"!COALESCE(isLiteral({v}) && sameTerm(datatype({v}), {ARG}), false)", sparql(dtype)))
        for kind in g.objects(shape, SH.nodeKind):
            test = _NODE_KINDS.get(kind) if isinstance(kind, URIRef) else None
            if test is None:
                raise Unsupported(f"node kind {kind}")
            conds.append((test.format(v=v), None))
        for regex in g.objects(shape, SH.pattern):
            flags = g.value(shape, SH.flags)
            args = sparql(Literal(str(regex))) + (f", {sparql(Literal(str(flags)))}" if flags else "")
            conds.append((f"(isBlank({v}) || !COALESCE(REGEX(STR({v}), {args}), false))", None))
        for param, op in ((SH.minLength, ">="), (SH.maxLength, "<=")):
            for limit in g.objects(shape, param):
                conds.append((f"(isBlank({v}) || !COALESCE(STRLEN(STR({v})) {op} {_int(limit)}, false))", None))
        for param, op in _RANGES.items():
            for bound in g.objects(shape, param):
                conds.append((f"!COALESCE({v} {op} {ARG}, false)", sparql(bound)))
        for members in g.objects(shape, SH["in"]):
            allowed = [f"sameTerm({v}, {sparql(m)})" for m in Collection(g, members)]
            conds.append((f"!({' || '.join(allowed)})" if allowed else "true", None))
        if g.value(shape, SH.path) is None:
            for required in g.objects(shape, SH.hasValue):
                conds.append((f"!sameTerm({v}, {ARG})", sparql(required)))
        for other in g.objects(shape, SH.node):
            conds.append((self.fails(other, v), None))
        for other in g.objects(shape, SH["not"]):
            conds.append((f"!({self.fails(other, v)})", None))
        for members in g.objects(shape, SH["and"]):
            parts = [self.fails(m, v) for m in Collection(g, members)]
            conds.append((" || ".join(parts) if parts else "false", None))
        for members in g.objects(shape, SH["or"]):
            parts = [self.fails(m, v) for m in Collection(g, members)]
            conds.append((" && ".join(parts) if parts else "true", None))
        for members in g.objects(shape, SH.xone):
            parts = [f"IF({self.fails(m, v)}, 0, 1)" for m in Collection(g, members)]
            conds.append((f"({' + '.join(parts) or '0'}) != 1", None))
        return conds

    def _closed(self, shape: Node, prefix: str, v: str, params: dict[str, str]) -> Branch:
        g = self.g
        allowed = [g.value(p, SH.path) for p in g.objects(shape, SH.property)]
        ignored = g.value(shape, SH.ignoredProperties)
        allowed += list(Collection(g, ignored)) if ignored is not None else []
        names = sorted({sparql(p) for p in allowed if isinstance(p, URIRef)})
        pred, obj = self.var(), self.var()
        test = f"MINUS {{ VALUES {pred} {{ {ALLOWED} }} }}"
        return Branch(shape, None, f"{prefix} {v} {pred} {obj} . {test}", obj, pred,
                      {**params, ALLOWED: " ".join(names)})

    def _sparql(self, shape: Node, constraint: Node, path_node: Node | None, focus: str) -> Branch:
        g = self.g
        select = g.value(constraint, SH.select)
        if select is None or path_node is not None or focus != "?this" or self._nesting \
                or "$PATH" in str(select) or (constraint, SH.prefixes, None) in g:
            raise Unsupported(f"SPARQL-based constraint {constraint!r} outside the supported form")
        if g.value(constraint, SH.deactivated) == Literal(True):
            return Branch(shape, None, "FILTER(false)", None)
        text = str(select)
        for name, iri in _PREFIX_DECL.findall(text):
            if self.prefixes.setdefault(name, iri) != iri:
                raise Unsupported(f"prefix {name}: declared twice with different IRIs")
        body = _PREFIX_DECL.sub("", text).strip()
        if not body.upper().startswith("SELECT") or re.search(r"\b(?:ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE):
            raise Unsupported(f"SPARQL-based constraint {constraint!r} is not a plain SELECT")
        return Branch(shape, None, f"{{ {body} }}", "?value", "?path")
