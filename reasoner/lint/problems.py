"""What a lint check returns, and how checks are registered.

A check is a function ``(rb, scope) -> list[Problem]`` decorated with :func:`check`; the runner
prints each problem as ``file: node: [check] message``. Adding a check is writing one such
function in the module of its family (and importing the module in ``__init__`` if it is new).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rdflib import URIRef
from rdflib.term import Node

from ..namespaces import qname
from ..rulebase import Rule, RuleBase
from .scope import Scope


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: the file to edit, the node in it, and what to fix."""

    file: str
    node: str
    message: str

    def line(self, check: str) -> str:
        return f"{self.file}: {self.node}: [{check}] {self.message}"


CheckFunction = Callable[[RuleBase, Scope], list[Problem]]


@dataclass(frozen=True)
class Check:
    """A registered check. ``hermit``: it needs Java and runs only when HermiT is asked for;
    ``whole``: it looks at the rule base as a whole and does not run for one section."""

    name: str
    function: CheckFunction
    hermit: bool = False
    whole: bool = False


CHECKS: list[Check] = []


def check(name: str, *, hermit: bool = False, whole: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under ``name`` (the label printed in brackets)."""

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(name, function, hermit, whole))
        return function

    return register


def relative(rb: RuleBase, path: str | Path) -> str:
    """A file of the rule base as a path from its root (as an author types it)."""
    resolved = Path(path)
    try:
        return str(resolved.resolve().relative_to(rb.root))
    except ValueError:
        return str(path)


def file_of(rb: RuleBase, node: Node | None, default: str = "(rule base)") -> str:
    """The file that defines ``node`` (the first file in which it is a subject)."""
    found = rb.source_files.get(node) if isinstance(node, URIRef) else None
    return relative(rb, found) if found else default


def at(rb: RuleBase, node: Node, message: str, file: str | None = None) -> Problem:
    """A problem about a named node, located in the file that defines it."""
    return Problem(file or file_of(rb, node), qname(node) if isinstance(node, URIRef) else str(node), message)


def in_rule(rb: RuleBase, rule: Rule, message: str) -> Problem:
    """A problem about a derivation rule (the node is the rule's name)."""
    return Problem(relative(rb, rule.path), rule.name, message)
