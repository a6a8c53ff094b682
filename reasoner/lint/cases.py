"""Test-case coverage: every criterion (and branch) is declared by the case files of
tests/cases/ in every state its kind can give it with its shapes (reasoner/coverage.py reads the
cases' expectations), and no case file declares a state that does not exist."""

from __future__ import annotations

from pathlib import Path

from ..coverage import collect
from ..namespaces import local_name
from ..rulebase import RuleBase
from .problems import Problem, at, check, relative
from .scope import Scope


@check("test-case coverage")
def case_coverage(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every state a criterion can reach (by its kind and the roles of its shapes: see the kinds
    table) is declared by some case file of tests/cases/ (``expected.<request>.criteria``), and
    every declared state is a state. Fix: add a case file in which the criterion is in that state
    (the case tests then check that it is)."""
    folder = scope.cases
    if not folder.is_dir():
        return [Problem(relative(rb, folder), "(folder)", "no test cases folder: coverage cannot be checked")]
    # one section: its own criteria and branches (not every criterion of a file it draws on)
    covered = sorted(rb.catalog.criteria) if scope.whole else sorted(c for c in rb.catalog.criteria if c in scope.nodes)
    names = None if scope.whole else frozenset(local_name(c) for c in covered)
    cov = collect(folder, names)
    if cov.cases == 0:
        return [Problem(relative(rb, folder), "(folder)", "no case files found")]
    problems = [Problem(relative(rb, Path(path)), name, message) for path, name, message in cov.misdeclared()]
    for iri, text in cov.missing(rb, covered):
        problems.append(at(rb, iri, f"{text}: add one under {relative(rb, folder)}/"))
    return problems
