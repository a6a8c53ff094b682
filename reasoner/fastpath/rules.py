"""The derivation rules of kb/rules/: whether each can derive anything, and whether what it
derives can matter.

A rule whose WHERE pattern needs a predicate that the store does not hold has no solution, and
Oxigraph's planning of a query costs more than evaluating most rules; so each rule is run only
when every predicate it needs is present (checked just before it runs, after the rules before
it). What a rule *needs* is read from rdflib's algebra of the same text: the predicates of its
basic graph patterns, through joins, the left side of OPTIONAL and MINUS, and either side of
UNION; anything not understood (a path with ``*``, an aggregate without GROUP BY, which has one
solution even over nothing, an unknown operator) needs nothing, so the rule runs.

A rule also matters only when something reads what it writes: :func:`demanded` walks the rules
backwards from the predicates the rest of the pipeline reads (the selection queries, the
compiled queries of the sections chosen, the predicates the wording reads), keeping a rule when
it may write one of them and then adding what it reads. The engine runs the rules selection
needs first, selects, then runs the rules the chosen sections need, in kb/rules/ order; this is
exact when no rule run later reads what a rule run earlier but placed after it writes, which
:meth:`reasoner.fastpath.engine.Engine` checks once (otherwise every rule runs in one pass).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias

from rdflib import URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath

#: a condition on the predicates present in the store, as data (so that it can be cached):
#: True (always), a predicate IRI (present), or ("all" | "any", conditions)
Needs: TypeAlias = bool | str | tuple[str, tuple["Needs", ...]]
_ALWAYS: Needs = True


def holds(need: Needs, present: Callable[[str], bool]) -> bool:
    """Whether ``need`` holds for the predicates ``present`` says are in the store."""
    if need is True:
        return True
    if isinstance(need, str):
        return present(need)
    op, parts = need  # type: ignore[misc]
    if op == "all":
        return all(holds(p, present) for p in parts)
    return any(holds(p, present) for p in parts)


def check(need: Needs) -> Callable[[Callable[[str], bool]], bool]:
    """``need`` as a function of ``present`` (what :func:`holds` answers, without reading the
    data again on every call)."""
    if need is True:
        return lambda present: True
    if isinstance(need, str):
        return lambda present: present(need)
    op, parts = need  # type: ignore[misc]
    if all(isinstance(p, str) for p in parts):
        names = tuple(parts)
        if op == "all":
            return lambda present: all(map(present, names))
        return lambda present: any(map(present, names))
    checks = tuple(check(p) for p in parts)
    if op == "all":
        return lambda present: all(c(present) for c in checks)
    return lambda present: any(c(present) for c in checks)


def _all(parts: list[Needs]) -> Needs:
    parts = [p for p in parts if p is not _ALWAYS]
    if not parts:
        return _ALWAYS
    return ("all", tuple(parts))


def _any(parts: list[Needs]) -> Needs:
    if any(p is _ALWAYS for p in parts):
        return _ALWAYS
    return ("any", tuple(parts))


def _path(path: object) -> Needs:
    if isinstance(path, URIRef):
        return str(path)
    if isinstance(path, SequencePath):
        return _all([_path(p) for p in path.args])
    if isinstance(path, AlternativePath):
        return _any([_path(p) for p in path.args])
    if isinstance(path, InvPath):
        return _path(path.arg)
    if isinstance(path, MulPath) and path.mod == "+":
        return _path(path.path)
    return _ALWAYS


def needs(node: object) -> Needs:
    """What a SPARQL algebra node needs to have any solution."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if not isinstance(node, CompValue):
        return _ALWAYS
    name = node.name
    if name == "BGP":
        return _all([_path(p) for _, p, _ in node.triples if isinstance(p, (URIRef, Path))])
    if name == "Join":
        return _all([needs(node.p1), needs(node.p2)])
    if name in ("LeftJoin", "Minus"):
        return needs(node.p1)
    if name == "Union":
        return _any([needs(node.p1), needs(node.p2)])
    if name == "Group":
        return needs(node.p) if node.expr else _ALWAYS
    if name == "AggregateJoin":
        return needs(node.p)
    if name in ("ConstructQuery", "SelectQuery", "Project", "Distinct", "Reduced", "Slice", "OrderBy",
                "ToMultiSet", "Filter", "Extend"):
        return needs(node.p)
    return _ALWAYS


def _nodes(node: object) -> Iterator[object]:
    """Every node of an algebra tree: operators, their arguments, paths and the terms in them."""
    todo = [node]
    while todo:
        item = todo.pop()
        yield item
        if isinstance(item, Path):
            todo += [*getattr(item, "args", []), getattr(item, "arg", None), getattr(item, "path", None)]
        elif isinstance(item, dict):
            todo += list(item.values())
        elif isinstance(item, (list, tuple, set)):
            todo += list(item)


def iris(node: object) -> set[str]:
    """Every IRI an algebra node mentions (in patterns, paths, expressions and VALUES)."""
    return {str(item) for item in _nodes(node) if isinstance(item, URIRef)}


def _predicate_variables(node: object) -> set[Variable]:
    from rdflib.plugins.sparql.parserutils import CompValue

    return {p for item in _nodes(node) if isinstance(item, CompValue) and item.name == "BGP"
            for _, p, _ in item.triples if isinstance(p, Variable)}


def _bound_constants(node: object, var: Variable) -> set[str] | None:
    """The IRIs ``var`` is bound to by BIND or VALUES; None when it may be bound otherwise."""
    from rdflib.plugins.sparql.parserutils import CompValue

    found: set[str] = set()
    for item in _nodes(node):
        if not isinstance(item, CompValue):
            continue
        if item.name == "Extend" and item.var == var:
            if not isinstance(item.expr, URIRef):
                return None
            found.add(str(item.expr))
        if item.name == "values":
            for row in item.res or []:
                value = row.get(var)
                if value is not None and not isinstance(value, URIRef):
                    return None
                if value is not None:
                    found.add(str(value))
    return found


def writes(query: Any) -> frozenset[str] | None:
    """The predicates a CONSTRUCT rule may derive; None when any predicate may come out (a
    template predicate bound from the data, or by an expression)."""
    out: set[str] = set()
    data_bound = _predicate_variables(query.p)
    for _, predicate, _ in query.template or []:
        if isinstance(predicate, URIRef):
            out.add(str(predicate))
            continue
        bound = None if predicate in data_bound else _bound_constants(query.p, predicate)
        if bound is None:
            return None
        out |= bound
    return frozenset(out)


@dataclass(frozen=True)
class FastRule:
    """A rule's text for Oxigraph, the condition under which it may derive something, and the
    predicates it reads (any IRI it mentions) and may write (None: any)."""

    name: str
    text: str
    needs: Needs
    reads: frozenset[str]
    writes: frozenset[str] | None

    @cached_property
    def may_fire(self) -> Callable[[Callable[[str], bool]], bool]:
        """Whether the rule may derive anything, given which predicates are ``present``."""
        return check(self.needs)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "may_fire"}  # a function: made again


def demanded(rules: list[FastRule], wanted: set[str]) -> list[bool]:
    """Which rules can change what is read of the predicates in ``wanted``: going backwards, a
    rule is demanded when it may write a wanted predicate, and then what it reads is wanted
    from the rules before it."""
    wanted = set(wanted)
    out = [False] * len(rules)
    for index in range(len(rules) - 1, -1, -1):
        rule = rules[index]
        if rule.writes is None or rule.writes & wanted:
            out[index] = True
            wanted |= rule.reads
    return out
