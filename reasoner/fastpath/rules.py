"""The derivation rules of kb/rules/, each with a test of whether it can derive anything.

A rule whose WHERE pattern needs a predicate that the store does not hold has no solution, and
Oxigraph's planning of a query costs more than evaluating most rules; so each rule is run only
when every predicate it needs is present (checked just before it runs, after the rules before
it). What a rule *needs* is read from rdflib's algebra of the same text: the predicates of its
basic graph patterns, through joins, the left side of OPTIONAL and MINUS, and either side of
UNION; anything not understood (a path with ``*``, an aggregate without GROUP BY, which has one
solution even over nothing, an unknown operator) needs nothing, so the rule runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import URIRef
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

#: a condition on the predicates present in the store
Needs = Callable[[Callable[[str], bool]], bool]


def _always(present: Callable[[str], bool]) -> bool:
    return True


def _all(parts: list[Needs]) -> Needs:
    parts = [p for p in parts if p is not _always]
    if not parts:
        return _always
    return lambda present: all(p(present) for p in parts)


def _any(parts: list[Needs]) -> Needs:
    if any(p is _always for p in parts):
        return _always
    return lambda present: any(p(present) for p in parts)


def _predicate(iri: str) -> Needs:
    return lambda present: present(iri)


def _path(path: object) -> Needs:
    if isinstance(path, URIRef):
        return _predicate(str(path))
    if isinstance(path, SequencePath):
        return _all([_path(p) for p in path.args])
    if isinstance(path, AlternativePath):
        return _any([_path(p) for p in path.args])
    if isinstance(path, InvPath):
        return _path(path.arg)
    if isinstance(path, MulPath) and path.mod == "+":
        return _path(path.path)
    return _always


def needs(node: object) -> Needs:
    """What a SPARQL algebra node needs to have any solution."""
    if not isinstance(node, CompValue):
        return _always
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
        return needs(node.p) if node.expr else _always
    if name == "AggregateJoin":
        return needs(node.p)
    if name in ("ConstructQuery", "SelectQuery", "Project", "Distinct", "Reduced", "Slice", "OrderBy",
                "ToMultiSet", "Filter", "Extend"):
        return needs(node.p)
    return _always


@dataclass(frozen=True)
class FastRule:
    """A rule's text for Oxigraph and the condition under which it may derive something."""

    name: str
    text: str
    may_fire: Needs
